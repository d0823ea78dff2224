//! Deployment configuration (types/types.go `DeployConfig` and its parts, types/device.go).

use super::mapping::{Labels, Mapping};
use super::scalars::{DeviceCount, Duration, NanoCPUs, UnitBytes};

go_struct! {
    /// `deploy`: replicas, resources, restart and update policies, placement.
    pub struct DeployConfig {
        "mode" mode: String => omitempty,
        "replicas" replicas: Option<i64> => omitempty,
        "labels" labels: Labels => omitempty,
        "update_config" update_config: Option<UpdateConfig> => omitempty,
        "rollback_config" rollback_config: Option<UpdateConfig> => omitempty,
        "resources" resources: Resources => omitempty,
        "restart_policy" restart_policy: Option<RestartPolicy> => omitempty,
        "placement" placement: Placement => omitempty,
        "endpoint_mode" endpoint_mode: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// How a service is updated or rolled back.
    pub struct UpdateConfig {
        "parallelism" parallelism: Option<u64> => omitempty,
        "delay" delay: Duration => omitempty,
        "failure_action" failure_action: String => omitempty,
        "monitor" monitor: Duration => omitempty,
        "max_failure_ratio" max_failure_ratio: f32 => omitempty,
        "order" order: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Resource limits and reservations.
    pub struct Resources {
        "limits" limits: Option<Resource> => omitempty,
        "reservations" reservations: Option<Resource> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// One set of resources.
    pub struct Resource {
        "cpus" nano_cpus: NanoCPUs => omitempty,
        "memory" memory_bytes: UnitBytes => omitempty,
        "pids" pids: i64 => omitempty,
        "devices" devices: Vec<DeviceRequest> => omitempty,
        "generic_resources" generic_resources: Vec<GenericResource> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A user-defined resource.
    pub struct GenericResource {
        "discrete_resource_spec" discrete_resource_spec: Option<DiscreteGenericResource> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A counted user-defined resource (`kind`, `value`), both always written.
    pub struct DiscreteGenericResource {
        "kind" kind: String => always,
        "value" value: i64 => always,
        ..extensions
    }
}

go_struct! {
    /// deploy.restart_policy.
    pub struct RestartPolicy {
        "condition" condition: String => omitempty,
        "delay" delay: Option<Duration> => omitempty,
        "max_attempts" max_attempts: Option<u64> => omitempty,
        "window" window: Option<Duration> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Placement constraints.
    pub struct Placement {
        "constraints" constraints: Vec<String> => omitempty,
        "preferences" preferences: Vec<PlacementPreferences> => omitempty,
        "max_replicas_per_node" max_replicas: u64 => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A placement preference.
    pub struct PlacementPreferences {
        "spread" spread: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A device request (`gpus`, `deploy.resources.reservations.devices`); no extensions in Go.
    pub struct DeviceRequest {
        "capabilities" capabilities: Vec<String> => omitempty,
        "driver" driver: String => omitempty,
        "count" count: DeviceCount => omitempty,
        "device_ids" ids: Vec<String> => omitempty,
        "options" options: Mapping => omitempty,
    }
}
