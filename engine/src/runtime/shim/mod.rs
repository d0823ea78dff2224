//! The shim process: one per container, single-threaded, outlives engine restarts.

/// Entry point of the hidden shim mode. Never returns.
pub fn main(_container_dir: &std::path::Path) -> ! {
    std::process::exit(1)
}
