//! The smaller parts of a service (types/types.go, healthcheck.go, hooks.go, develop.go,
//! models.go): healthcheck, logging, dependencies, lifecycle hooks, watch triggers, models,
//! provider, extends, credential spec, include.

use super::mapping::{MappingWithEquals, MultiOptions, Options, StringList};
use super::scalars::{Duration, HealthCheckTest, ShellCommand};

go_struct! {
    /// How the container's health is checked.
    pub struct HealthCheckConfig {
        "test" test: HealthCheckTest => omitempty,
        "timeout" timeout: Option<Duration> => omitempty,
        "interval" interval: Option<Duration> => omitempty,
        "retries" retries: Option<u64> => omitempty,
        "start_period" start_period: Option<Duration> => omitempty,
        "start_interval" start_interval: Option<Duration> => omitempty,
        "disable" disable: bool => omitempty,
        ..extensions
    }
}

go_struct! {
    /// The logging driver and its options.
    pub struct LoggingConfig {
        "driver" driver: String => omitempty,
        "options" options: Options => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Windows credential spec.
    pub struct CredentialSpecConfig {
        "config" config: String => omitempty,
        "file" file: String => omitempty,
        "registry" registry: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// `extends`: the service this one is based on (resolved by the loader).
    pub struct ExtendsConfig {
        "file" file: String => omitempty,
        "service" service: String => omitempty,
    }
}

go_struct! {
    /// One `depends_on` entry. `required` is always written.
    pub struct ServiceDependency {
        "condition" condition: String => omitempty,
        "restart" restart: bool => omitempty,
        "required" required: bool => always,
        ..extensions
    }
}

go_struct! {
    /// A command run in the container at a lifecycle event (`post_start`, `pre_stop`, a watch
    /// trigger's `exec`). `command` is always in JSON, as on the service.
    pub struct ServiceHook {
        "command" command: Option<ShellCommand> => json_always,
        "user" user: String => omitempty,
        "privileged" privileged: bool => omitempty,
        "working_dir" working_dir: String => omitempty,
        "environment" environment: MappingWithEquals => omitempty,
        ..extensions
    }
}

go_struct! {
    /// `develop`: what `docker compose watch` does.
    pub struct DevelopConfig {
        "watch" watch: Vec<Trigger> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A watch rule. `exec` is a struct, so JSON always writes it.
    pub struct Trigger {
        "path" path: String => always,
        "action" action: String => always,
        "target" target: String => omitempty,
        "exec" exec: ServiceHook => omitempty,
        "include" include: Vec<String> => omitempty,
        "ignore" ignore: Vec<String> => omitempty,
        "initial_sync" initial_sync: bool => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A top-level model.
    pub struct ModelConfig {
        "name" name: String => omitempty,
        "model" model: String => omitempty,
        "context_size" context_size: i64 => omitempty,
        "runtime_flags" runtime_flags: Vec<String> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A service's use of a model.
    pub struct ServiceModelConfig {
        "endpoint_var" endpoint_variable: String => omitempty,
        "model_var" model_variable: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A service provided by a plugin instead of a container.
    pub struct ServiceProviderConfig {
        "type" type_: String => omitempty,
        "options" options: MultiOptions => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A top-level `include` entry (the loader resolves it; kept for completeness of the model).
    pub struct IncludeConfig {
        "path" path: StringList => omitempty,
        "project_directory" project_directory: String => omitempty,
        "env_file" env_file: StringList => omitempty,
    }
}
