//! berth: the dashboard (`berth`), the engine service (`berth engine`) and scriptable commands
//! (`berth --headless <command>`) in one binary.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The shim must start before any thread exists (it forks), so it is dispatched before clap
    // and before a tokio runtime is built.
    if args.len() >= 3 && args[1] == berth_engine::runtime::selfexe::SHIM_ARG {
        berth_engine::runtime::shim::main(std::path::Path::new(&args[2]));
    }
    // The exec helper forks too (to enter the container's PID namespace).
    if args.len() >= 2 && args[1] == berth_engine::runtime::selfexe::EXEC_ARG {
        berth_engine::runtime::exec_helper::main();
    }
    std::process::exit(berth::cli::main(args));
}
