//! Ports, mounts and devices of a service (types/types.go `ServicePortConfig`,
//! `ServiceVolumeConfig` and its options, `DeviceMapping`), in their long form: the loader
//! turns the short forms (`8080:80`, `./data:/data:ro`) into these.

use super::mapping::Mapping;
use super::scalars::UnitBytes;

go_struct! {
    /// One published or exposed port.
    pub struct ServicePortConfig {
        "name" name: String => omitempty,
        "mode" mode: String => omitempty,
        "host_ip" host_ip: String => omitempty,
        "target" target: u32 => omitempty,
        "published" published: String => omitempty,
        "protocol" protocol: String => omitempty,
        "app_protocol" app_protocol: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// One mount: bind, volume, tmpfs, image, npipe or cluster.
    pub struct ServiceVolumeConfig {
        "type" type_: String => omitempty,
        "source" source: String => omitempty,
        "target" target: String => omitempty,
        "read_only" read_only: bool => omitempty,
        "consistency" consistency: String => omitempty,
        "bind" bind: Option<ServiceVolumeBind> => omitempty,
        "volume" volume: Option<ServiceVolumeVolume> => omitempty,
        "tmpfs" tmpfs: Option<ServiceVolumeTmpfs> => omitempty,
        "image" image: Option<ServiceVolumeImage> => omitempty,
        ..extensions
    }
}

impl ServiceVolumeConfig {
    /// compose-go's `String`: `source:target:rw|ro[,selinux][,propagation][,nocopy]`.
    pub fn to_short(&self) -> String {
        let mut opts = vec![if self.read_only { "ro" } else { "rw" }.to_string()];
        if let Some(b) = &self.bind {
            if !b.selinux.is_empty() {
                opts.push(b.selinux.clone());
            }
            if !b.propagation.is_empty() {
                opts.push(b.propagation.clone());
            }
        }
        if self.volume.as_ref().is_some_and(|v| v.no_copy) {
            opts.push("nocopy".into());
        }
        format!("{}:{}:{}", self.source, self.target, opts.join(","))
    }
}

go_struct! {
    /// Options of a bind mount.
    pub struct ServiceVolumeBind {
        "selinux" selinux: String => omitempty,
        "propagation" propagation: String => omitempty,
        "create_host_path" create_host_path: bool => omitempty,
        "recursive" recursive: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Options of a volume mount.
    pub struct ServiceVolumeVolume {
        "labels" labels: Mapping => omitempty,
        "nocopy" no_copy: bool => omitempty,
        "subpath" subpath: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Options of a tmpfs mount.
    pub struct ServiceVolumeTmpfs {
        "size" size: UnitBytes => omitempty,
        "mode" mode: u32 => omitempty,
        ..extensions
    }
}

go_struct! {
    /// Options of an image mount.
    pub struct ServiceVolumeImage {
        "subpath" sub_path: String => omitempty,
        ..extensions
    }
}

go_struct! {
    /// A host device mapped into the container.
    pub struct DeviceMapping {
        "source" source: String => omitempty,
        "target" target: String => omitempty,
        "permissions" permissions: String => omitempty,
        ..extensions
    }
}
