//! Networks and volumes, top-level and as a service attaches to them (types/types.go
//! `NetworkConfig`, `IPAMConfig`, `IPAMPool`, `VolumeConfig`, `ServiceNetworkConfig`).

use super::mapping::{Labels, Mapping, Options};

/// compose-go's `External`: whether the resource exists outside the project.
pub type External = bool;

go_struct! {
    /// A service's attachment to a network.
    pub struct ServiceNetworkConfig {
        "aliases" aliases: Vec<String> => omitempty,
        "driver_opts" driver_opts: Options => omitempty,
        "gw_priority" gateway_priority: i64 => omitempty,
        "interface_name" interface_name: String => omitempty,
        "ipv4_address" ipv4_address: String => omitempty,
        "ipv6_address" ipv6_address: String => omitempty,
        "link_local_ips" link_local_ips: Vec<String> => omitempty,
        "mac_address" mac_address: String => omitempty,
        "priority" priority: i64 => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A top-level network. `ipam` is a struct, so JSON always writes it (`"ipam": {}`) while
    /// YAML leaves it out when empty.
    pub struct NetworkConfig {
        "name" name: String => omitempty,
        "driver" driver: String => omitempty,
        "driver_opts" driver_opts: Options => omitempty,
        "ipam" ipam: IPAMConfig => omitempty,
        "external" external: External => omitempty,
        "internal" internal: bool => omitempty,
        "attachable" attachable: bool => omitempty,
        "labels" labels: Labels => omitempty,
        "-" custom_labels: Labels => internal,
        "enable_ipv4" enable_ipv4: Option<bool> => omitempty,
        "enable_ipv6" enable_ipv6: Option<bool> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// IP address management of a network.
    pub struct IPAMConfig {
        "driver" driver: String => omitempty,
        "config" config: Vec<Option<IPAMPool>> => omitempty,
        ..extensions
    }
}

go_struct! {
    /// One address pool.
    pub struct IPAMPool {
        "subnet" subnet: String => omitempty,
        "gateway" gateway: String => omitempty,
        "ip_range" ip_range: String => omitempty,
        "aux_addresses" auxiliary_addresses: Mapping => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A top-level volume.
    pub struct VolumeConfig {
        "name" name: String => omitempty,
        "driver" driver: String => omitempty,
        "driver_opts" driver_opts: Options => omitempty,
        "external" external: External => omitempty,
        "labels" labels: Labels => omitempty,
        "-" custom_labels: Labels => internal,
        ..extensions
    }
}
