//! `berth engine [flags]` with no subcommand: turn the flags into engine options and run the
//! engine in this process until SIGTERM/SIGINT (or tear its host networking down with
//! `--cleanup-networking`). Runs before any async runtime exists: the engine builds its own.

use std::path::PathBuf;

use crate::cli::EngineArgs;

/// Where dockerd reads per-registry certificates; berth trusts them too.
const DOCKER_CERTS_DIR: &str = "/etc/docker/certs.d";

/// Run the engine; returns the process exit status.
pub fn run(a: EngineArgs) -> i32 {
    let network = match crate::commands::networks::engine_network_options(
        &a.bridge_name,
        &a.bridge_subnet,
        &a.network_pool,
        &a.nft_table,
        a.mtu,
    ) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("berth engine: {e}");
            return 125;
        }
    };
    if a.cleanup_networking {
        return match berth_engine::service::network::NetworkService::teardown_host_networking(
            &a.data_root,
            &network,
        ) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("berth engine: {e}");
                1
            }
        };
    }
    let options = berth_engine::config::EngineOptions {
        socket: a.socket,
        data_root: a.data_root,
        log_level: a.log_level,
        network,
        registry: berth_engine::registry::RegistryOptions {
            insecure: a.insecure_registries,
            mirrors: a.registry_mirrors,
            // berth's own first, then docker's: a CA already trusted for docker works as is.
            certs_dirs: vec![a.certs_dir, PathBuf::from(DOCKER_CERTS_DIR)],
        }
        .with_env(),
    };
    match berth_engine::daemon::run(options) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("berth engine: {e}");
            1
        }
    }
}
