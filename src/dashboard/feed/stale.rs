//! Which lists an engine event makes stale: the feed re-reads exactly those.

use serde_json::Value;

/// Which lists an event makes stale.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stale {
    pub containers: bool,
    pub images: bool,
    pub volumes: bool,
    pub networks: bool,
    pub builds: bool,
}

impl Stale {
    pub const ALL: Stale = Stale {
        containers: true,
        images: true,
        volumes: true,
        networks: true,
        builds: true,
    };

    pub const BUILDS: Stale = Stale {
        containers: false,
        images: false,
        volumes: false,
        networks: false,
        builds: true,
    };

    pub fn any(&self) -> bool {
        self.containers || self.images || self.volumes || self.networks || self.builds
    }

    pub fn merge(&mut self, o: Stale) {
        self.containers |= o.containers;
        self.images |= o.images;
        self.volumes |= o.volumes;
        self.networks |= o.networks;
        self.builds |= o.builds;
    }

    pub fn from_event(ev: &Value) -> Stale {
        let action = ev["Action"]
            .as_str()
            .or(ev["status"].as_str())
            .unwrap_or("");
        let mut s = Stale::default();
        match ev["Type"].as_str().unwrap_or("") {
            "container" => {
                // Exec, attach and copy leave the list as it was.
                let quiet = action.starts_with("exec_")
                    || matches!(
                        action,
                        "attach"
                            | "detach"
                            | "resize"
                            | "top"
                            | "archive-path"
                            | "extract-to-dir"
                            | "export"
                            | "copy"
                    );
                s.containers = !quiet;
                // A commit makes an image; a destroy may free one for prune.
                s.images = action == "commit";
                s.volumes = action == "destroy" || action == "create";
            }
            "image" => {
                s.images = true;
                // A build tags its image (and a removed image changes what a record shows).
                s.builds = matches!(action, "tag" | "untag" | "delete");
            }
            "volume" => s.volumes = true,
            "network" => {
                s.networks = true;
                s.containers = matches!(action, "connect" | "disconnect");
            }
            _ => {}
        }
        s
    }
}
