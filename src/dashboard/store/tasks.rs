//! Long-running work (pull, push, prune) the user can send to the background: its progress, as
//! read from the engine's JSON progress stream, and how it ended.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum TaskState {
    Running,
    Done(String),
    Failed(String),
}

/// One layer's line in a pull or push: `Downloading 3.1MB / 10MB`.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerProgress {
    pub id: String,
    pub status: String,
    pub current: u64,
    pub total: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub state: TaskState,
    pub layers: Vec<LayerProgress>,
    /// Messages without a layer id ("Digest: …", "Status: …").
    pub notes: Vec<String>,
}

impl Task {
    pub fn new(id: u64, title: impl Into<String>) -> Task {
        Task {
            id,
            title: title.into(),
            state: TaskState::Running,
            layers: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.state == TaskState::Running
    }

    /// Applies one message of docker's JSON progress stream.
    pub fn apply(&mut self, msg: &Value) {
        if let Some(err) = msg["errorDetail"]["message"]
            .as_str()
            .or_else(|| msg["error"].as_str())
        {
            self.state = TaskState::Failed(err.to_string());
            return;
        }
        let status = msg["status"].as_str().unwrap_or_default();
        match msg["id"].as_str() {
            Some(id) if is_layer_status(status) => {
                let id = id.to_string();
                let current = msg["progressDetail"]["current"].as_u64();
                let total = msg["progressDetail"]["total"].as_u64();
                let layer = match self.layers.iter_mut().find(|l| l.id == id) {
                    Some(l) => l,
                    None => {
                        self.layers.push(LayerProgress {
                            id,
                            status: String::new(),
                            current: 0,
                            total: 0,
                        });
                        self.layers.last_mut().expect("just pushed")
                    }
                };
                layer.status = status.to_string();
                if let Some(c) = current {
                    layer.current = c;
                }
                if let Some(t) = total {
                    layer.total = t;
                }
                if matches!(
                    status,
                    "Pull complete" | "Already exists" | "Layer already exists" | "Pushed"
                ) || status.starts_with("Mounted from")
                {
                    layer.current = layer.total;
                }
            }
            Some(id) if !status.is_empty() => self.notes.push(format!("{id}: {status}")),
            _ if !status.is_empty() => self.notes.push(status.to_string()),
            _ => {}
        }
        // Bounded: a chatty stream must not grow the task without limit.
        if self.notes.len() > 50 {
            self.notes.remove(0);
        }
    }

    /// Overall fraction done, over the layers whose size is known.
    pub fn fraction(&self) -> Option<f64> {
        let (cur, tot) = self
            .layers
            .iter()
            .filter(|l| l.total > 0)
            .fold((0u64, 0u64), |(c, t), l| {
                (c + l.current.min(l.total), t + l.total)
            });
        (tot > 0).then(|| cur as f64 / tot as f64)
    }
}

fn is_layer_status(status: &str) -> bool {
    matches!(
        status,
        "Pulling fs layer"
            | "Waiting"
            | "Downloading"
            | "Verifying Checksum"
            | "Download complete"
            | "Extracting"
            | "Pull complete"
            | "Already exists"
            | "Preparing"
            | "Pushing"
            | "Pushed"
            | "Layer already exists"
            | "Compressing"
    ) || status.starts_with("Mounted from")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_a_pull() {
        let mut t = Task::new(1, "pull busybox");
        t.apply(&json!({"status": "Pulling from library/busybox", "id": "latest"}));
        t.apply(&json!({"status": "Pulling fs layer", "id": "aaa"}));
        t.apply(&json!({"status": "Downloading", "id": "aaa", "progressDetail": {"current": 50, "total": 200}}));
        t.apply(&json!({"status": "Already exists", "id": "bbb"}));
        assert_eq!(t.layers.len(), 2);
        assert_eq!(t.fraction(), Some(0.25));
        t.apply(&json!({"status": "Pull complete", "id": "aaa", "progressDetail": {}}));
        assert_eq!(t.fraction(), Some(1.0));
        assert_eq!(t.notes, vec!["latest: Pulling from library/busybox"]);
        assert!(t.is_running());
        t.apply(
            &json!({"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}),
        );
        assert_eq!(t.state, TaskState::Failed("manifest unknown".into()));
    }
}
