//! `ServiceConfig`, compose-go's model of one service (types/types.go), every field of the
//! compose spec in Go's declaration order, which is the order docker compose writes them.

use std::collections::BTreeMap;

use super::build::{BlkioConfig, BuildConfig};
use super::deploy::{DeployConfig, DeviceRequest};
use super::extras::{
    CredentialSpecConfig, DevelopConfig, ExtendsConfig, HealthCheckConfig, LoggingConfig,
    ServiceDependency, ServiceHook, ServiceModelConfig, ServiceProviderConfig,
};
use super::files::{EnvFile, ServiceConfigObjConfig, ServiceSecretConfig, UlimitsConfig};
use super::mapping::{
    HostsList, Labels, Mapping, MappingWithEquals, StringList, StringOrNumberList,
};
use super::network::ServiceNetworkConfig;
use super::scalars::{Duration, ShellCommand, UnitBytes};
use super::volumes::{DeviceMapping, ServicePortConfig, ServiceVolumeConfig};

/// compose-go's `DependsOnConfig`.
pub type DependsOnConfig = BTreeMap<String, ServiceDependency>;

go_struct! {
    /// The configuration of one service.
    pub struct ServiceConfig {
        /// The service's key in `services` (filled by [`super::Project::from_canonical`]).
        "name" name: String => hidden,
        "profiles" profiles: Vec<String> => omitempty,
        "annotations" annotations: Mapping => omitempty,
        "attach" attach: Option<bool> => omitempty,
        "build" build: Option<BuildConfig> => omitempty,
        "develop" develop: Option<DevelopConfig> => omitempty,
        "blkio_config" blkio_config: Option<BlkioConfig> => omitempty,
        "cap_add" cap_add: Vec<String> => omitempty,
        "cap_drop" cap_drop: Vec<String> => omitempty,
        "cgroup_parent" cgroup_parent: String => omitempty,
        "cgroup" cgroup: String => omitempty,
        "cpu_count" cpu_count: i64 => omitempty,
        "cpu_percent" cpu_percent: f32 => omitempty,
        "cpu_period" cpu_period: i64 => omitempty,
        "cpu_quota" cpu_quota: i64 => omitempty,
        "cpu_rt_period" cpu_rt_period: i64 => omitempty,
        "cpu_rt_runtime" cpu_rt_runtime: i64 => omitempty,
        "cpus" cpus: f32 => omitempty,
        "cpuset" cpuset: String => omitempty,
        "cpu_shares" cpu_shares: i64 => omitempty,
        /// `None` when not set; `Some([])` clears the image's command.
        "command" command: Option<ShellCommand> => json_always,
        "configs" configs: Vec<ServiceConfigObjConfig> => omitempty,
        "container_name" container_name: String => omitempty,
        "credential_spec" credential_spec: Option<CredentialSpecConfig> => omitempty,
        "depends_on" depends_on: DependsOnConfig => omitempty,
        "deploy" deploy: Option<DeployConfig> => omitempty,
        "device_cgroup_rules" device_cgroup_rules: Vec<String> => omitempty,
        "devices" devices: Vec<DeviceMapping> => omitempty,
        "dns" dns: StringList => omitempty,
        "dns_opt" dns_opts: Vec<String> => omitempty,
        "dns_search" dns_search: StringList => omitempty,
        "dockerfile" dockerfile: String => omitempty,
        "domainname" domain_name: String => omitempty,
        /// As `command`.
        "entrypoint" entrypoint: Option<ShellCommand> => json_always,
        "provider" provider: Option<ServiceProviderConfig> => omitempty,
        "environment" environment: MappingWithEquals => omitempty,
        "env_file" env_files: Vec<EnvFile> => omitempty,
        "expose" expose: StringOrNumberList => omitempty,
        "extends" extends: Option<ExtendsConfig> => omitempty,
        "external_links" external_links: Vec<String> => omitempty,
        "extra_hosts" extra_hosts: HostsList => omitempty,
        "group_add" group_add: Vec<String> => omitempty,
        "gpus" gpus: Vec<DeviceRequest> => omitempty,
        "hostname" hostname: String => omitempty,
        "healthcheck" health_check: Option<HealthCheckConfig> => omitempty,
        "image" image: String => omitempty,
        "init" init: Option<bool> => omitempty,
        "ipc" ipc: String => omitempty,
        "isolation" isolation: String => omitempty,
        "labels" labels: Labels => omitempty,
        "label_file" label_files: Vec<String> => omitempty,
        /// Labels berth/compose adds itself (`yaml:"-" json:"-"`).
        "-" custom_labels: Labels => internal,
        "links" links: Vec<String> => omitempty,
        "logging" logging: Option<LoggingConfig> => omitempty,
        "log_driver" log_driver: String => omitempty,
        "log_opt" log_opt: BTreeMap<String, String> => omitempty,
        "mem_limit" mem_limit: UnitBytes => omitempty,
        "mem_reservation" mem_reservation: UnitBytes => omitempty,
        "memswap_limit" mem_swap_limit: UnitBytes => omitempty,
        "mem_swappiness" mem_swappiness: UnitBytes => omitempty,
        "mac_address" mac_address: String => omitempty,
        "models" models: BTreeMap<String, Option<ServiceModelConfig>> => omitempty,
        "net" net: String => omitempty,
        "network_mode" network_mode: String => omitempty,
        "networks" networks: BTreeMap<String, Option<ServiceNetworkConfig>> => omitempty,
        "oom_kill_disable" oom_kill_disable: bool => omitempty,
        "oom_score_adj" oom_score_adj: i64 => omitempty,
        "pid" pid: String => omitempty,
        "pids_limit" pids_limit: i64 => omitempty,
        "platform" platform: String => omitempty,
        "ports" ports: Vec<ServicePortConfig> => omitempty,
        "privileged" privileged: bool => omitempty,
        "pull_policy" pull_policy: String => omitempty,
        /// In the compose spec but not in compose-go's struct (docker compose drops it): kept so
        /// that nothing written is lost, never written out, so the output stays docker compose's.
        "pull_refresh_after" pull_refresh_after: String => hidden,
        "read_only" read_only: bool => omitempty,
        "restart" restart: String => omitempty,
        "runtime" runtime: String => omitempty,
        "scale" scale: Option<i64> => omitempty,
        "secrets" secrets: Vec<ServiceSecretConfig> => omitempty,
        "security_opt" security_opt: Vec<String> => omitempty,
        "shm_size" shm_size: UnitBytes => omitempty,
        "stdin_open" stdin_open: bool => omitempty,
        "stop_grace_period" stop_grace_period: Option<Duration> => omitempty,
        "stop_signal" stop_signal: String => omitempty,
        "storage_opt" storage_opt: BTreeMap<String, String> => omitempty,
        "sysctls" sysctls: Mapping => omitempty,
        "tmpfs" tmpfs: StringList => omitempty,
        "tty" tty: bool => omitempty,
        "ulimits" ulimits: BTreeMap<String, Option<UlimitsConfig>> => omitempty,
        "use_api_socket" use_api_socket: bool => omitempty,
        "user" user: String => omitempty,
        "userns_mode" user_ns_mode: String => omitempty,
        "uts" uts: String => omitempty,
        "volume_driver" volume_driver: String => omitempty,
        "volumes" volumes: Vec<ServiceVolumeConfig> => omitempty,
        "volumes_from" volumes_from: Vec<String> => omitempty,
        "working_dir" working_dir: String => omitempty,
        "post_start" post_start: Vec<ServiceHook> => omitempty,
        "pre_stop" pre_stop: Vec<ServiceHook> => omitempty,
        ..extensions
    }
}

impl ServiceConfig {
    /// compose-go's `GetScale`: `scale`, else `deploy.replicas`, else 1.
    pub fn get_scale(&self) -> i64 {
        self.scale
            .or_else(|| self.deploy.as_ref().and_then(|d| d.replicas))
            .unwrap_or(1)
    }

    /// compose-go's `GetDependencies`: the services this one depends on.
    pub fn get_dependencies(&self) -> Vec<String> {
        self.depends_on.keys().cloned().collect()
    }

    /// compose-go's `NetworksByPriority`: network names, highest priority first, then by name.
    pub fn networks_by_priority(&self) -> Vec<String> {
        let mut keys: Vec<(i64, &String)> = self
            .networks
            .iter()
            .map(|(k, v)| (v.as_ref().map_or(0, |n| n.priority), k))
            .collect();
        keys.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        keys.into_iter().map(|(_, k)| k.clone()).collect()
    }
}
