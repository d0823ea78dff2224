//! Running containers. The engine never forks container processes: it execs a shim (this binary
//! in its hidden shim mode, from a sealed memfd copy) per container. The shim creates the container
//! (`init`), owns its stdio and log, reaps it and records the exit. The engine talks to the shim
//! through `shim_client` over the `protocol`.

pub mod cgroups;
pub mod defaults;
pub mod exec_helper;
pub mod init;
pub mod protocol;
pub mod pty;
pub mod seccomp;
pub mod selfexe;
pub mod shim;
pub mod shim_client;
pub mod spec;
pub mod strays;
pub mod top;
