//! The labels docker compose v2 puts on what it creates, and reads back to find a project on an
//! engine. berth compose sets and reads the same ones, so either tool can list, stop and take
//! down a project the other started.

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const VOLUME: &str = "com.docker.compose.volume";
pub const NETWORK: &str = "com.docker.compose.network";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const SLUG: &str = "com.docker.compose.slug";
pub const IMAGE_DIGEST: &str = "com.docker.compose.image";
pub const DEPENDENCIES: &str = "com.docker.compose.depends_on";
pub const VERSION: &str = "com.docker.compose.version";
pub const IMAGE_BUILDER: &str = "com.docker.compose.image.builder";
pub const CONTAINER_REPLACE: &str = "com.docker.compose.replace";

/// The docker compose release whose behaviour berth compose follows; written in
/// `com.docker.compose.version` because tools reading that label expect a compose version.
pub const COMPOSE_VERSION: &str = "2.40.3";

/// The `label` filter value selecting one project.
pub fn project_filter(project: &str) -> String {
    format!("{PROJECT}={project}")
}

/// The `label` filter value selecting one service.
pub fn service_filter(service: &str) -> String {
    format!("{SERVICE}={service}")
}
