//! Long-running work (pull, push, import, load, build) the user can send to the background: its
//! progress, as read from the engine's JSON progress stream, and how it ended.

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
    /// Finished ("Pull complete", "Already exists", "Pushed", ...): a full bar even when the
    /// engine never said the size (layers that already exist have none).
    pub done: bool,
}

impl LayerProgress {
    /// How far along the bar is.
    pub fn fraction(&self) -> f64 {
        if self.done {
            1.0
        } else if self.total > 0 {
            (self.current.min(self.total) as f64) / self.total as f64
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: u64,
    pub title: String,
    pub state: TaskState,
    pub layers: Vec<LayerProgress>,
    /// Messages without a layer id ("Digest: …", "Status: …").
    pub notes: Vec<String>,
    /// The local file the task sends (import, load): the import prompt offers a failed one's
    /// path again, so nothing typed is lost to an engine error.
    pub upload: Option<std::path::PathBuf>,
    /// A build's current step (`Step 3/7 : RUN make`), the line the task list shows live.
    pub step: Option<String>,
    /// What a build task was asked to build: the build form offers a failed one's values
    /// again, and the Builds view knows the task is a build.
    pub build: Option<crate::dashboard::msg::BuildSpec>,
}

impl Task {
    pub fn new(id: u64, title: impl Into<String>) -> Task {
        Task {
            id,
            title: title.into(),
            state: TaskState::Running,
            layers: Vec::new(),
            notes: Vec::new(),
            upload: None,
            step: None,
            build: None,
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
        // Load reports its result as text ("Loaded image: busybox:latest\n"); a build its
        // steps and what they print (stderr wrapped in colour escapes, dropped here).
        if let Some(text) = msg["stream"].as_str() {
            for line in strip_ansi(text).lines().map(str::trim) {
                if line.is_empty() {
                    continue;
                }
                // The step has a line of its own; the notes are what it printed.
                if line.starts_with("Step ") && line.contains(" : ") {
                    self.step = Some(line.to_string());
                } else {
                    self.notes.push(line.to_string());
                }
            }
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
                            done: false,
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
                    "Pull complete"
                        | "Already exists"
                        | "Layer already exists"
                        | "Pushed"
                        | "Uploaded"
                ) || status.starts_with("Mounted from")
                {
                    layer.current = layer.total;
                    layer.done = true;
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

    /// Ends the task when its stream ends: a failure (HTTP error or a dropped connection) unless
    /// an in-stream error already failed it; otherwise done, described by the engine's summary:
    /// a pull's "Status: Downloaded newer image for …", a push's "latest: digest: … size: …",
    /// a load's "Loaded image: …" lines, an import's new image id.
    pub fn finish(&mut self, error: Option<String>) {
        if !self.is_running() {
            return;
        }
        self.state = match error {
            Some(e) => TaskState::Failed(e),
            None => TaskState::Done(self.summary()),
        };
    }

    fn summary(&self) -> String {
        // A build: its tags, else the image id it made.
        let tagged: Vec<&str> = self
            .notes
            .iter()
            .filter_map(|n| n.strip_prefix("Successfully tagged "))
            .collect();
        if !tagged.is_empty() {
            return format!("built {}", tagged.join(", "));
        }
        if let Some(id) = self
            .notes
            .iter()
            .rev()
            .find_map(|n| n.strip_prefix("Successfully built "))
        {
            return format!("built {id}");
        }
        let loaded: Vec<&str> = self
            .notes
            .iter()
            .filter(|n| n.starts_with("Loaded image"))
            .map(String::as_str)
            .collect();
        if !loaded.is_empty() {
            return loaded.join(", ");
        }
        self.notes
            .iter()
            .rev()
            .find(|n| {
                n.starts_with("Status: ") || n.contains(": digest: ") || n.starts_with("sha256:")
            })
            .map(|n| n.strip_prefix("Status: ").unwrap_or(n).to_string())
            .unwrap_or_else(|| "done".into())
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

/// `text` without terminal escape sequences (`ESC [ ... letter`): a build's stderr comes
/// wrapped in red, which the task list draws with its own colours.
pub fn strip_ansi(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte (a letter, `@` to `~`).
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
    }
    out.into()
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
            | "Loading layer"
            | "Uploading"
            | "Uploaded"
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
        // The stream's normal end does not turn a failure into success.
        t.finish(None);
        assert_eq!(t.state, TaskState::Failed("manifest unknown".into()));
    }

    /// The messages exactly as the berth engine's pull sends them (engine/src/service/pull.rs):
    /// layers listed first, "Already exists" without sizes, bytes while downloading, a final
    /// "Status:" line.
    #[test]
    fn follows_the_berth_engines_pull_stream() {
        let mut t = Task::new(1, "pull busybox");
        for m in [
            json!({"status": "Pulling from library/busybox", "id": "latest"}),
            json!({"status": "Already exists", "progressDetail": {}, "id": "aaaaaaaaaaaa"}),
            json!({"status": "Pulling fs layer", "progressDetail": {}, "id": "bbbbbbbbbbbb"}),
            json!({"status": "Downloading", "progressDetail": {"current": 100, "total": 400}, "progress": "[==>  ]", "id": "bbbbbbbbbbbb"}),
        ] {
            t.apply(&m);
        }
        assert_eq!(t.layers[0].fraction(), 1.0);
        assert_eq!(t.layers[1].fraction(), 0.25);
        assert_eq!(t.fraction(), Some(0.25));
        for m in [
            json!({"status": "Verifying Checksum", "progressDetail": {}, "id": "bbbbbbbbbbbb"}),
            json!({"status": "Download complete", "progressDetail": {}, "id": "bbbbbbbbbbbb"}),
            json!({"status": "Extracting", "progressDetail": {"current": 400, "total": 400}, "id": "bbbbbbbbbbbb"}),
            json!({"status": "Pull complete", "progressDetail": {}, "id": "bbbbbbbbbbbb"}),
            json!({"status": "Digest: sha256:abc"}),
            json!({"status": "Status: Downloaded newer image for busybox:latest"}),
        ] {
            t.apply(&m);
        }
        assert!(t.layers.iter().all(|l| l.done));
        t.finish(None);
        assert_eq!(
            t.state,
            TaskState::Done("Downloaded newer image for busybox:latest".into())
        );
        let mut t = Task::new(2, "pull nope");
        t.finish(Some("pull access denied for nope".into()));
        assert_eq!(
            t.state,
            TaskState::Failed("pull access denied for nope".into())
        );
    }

    /// A load as the engine streams it (the file's upload reported by the feed alongside).
    #[test]
    fn follows_a_load_and_an_import() {
        let mut t = Task::new(4, "load busybox.tar");
        t.apply(&json!({"status": "Uploading", "id": "file", "progressDetail": {"current": 50, "total": 200}}));
        t.apply(&json!({"status": "Loading layer", "id": "3f4d90098f5b", "progressDetail": {"current": 100, "total": 100}}));
        assert_eq!(t.layers.len(), 2);
        assert_eq!(t.layers[0].fraction(), 0.25);
        t.apply(&json!({"stream": "Loaded image: busybox:latest\n"}));
        t.apply(&json!({"stream": "Loaded image: busybox:1.36\n"}));
        t.apply(&json!({"status": "Uploaded", "id": "file", "progressDetail": {"current": 200, "total": 200}}));
        assert!(t.layers.iter().all(|l| l.fraction() == 1.0));
        t.finish(None);
        assert_eq!(
            t.state,
            TaskState::Done("Loaded image: busybox:latest, Loaded image: busybox:1.36".into())
        );
        let mut t = Task::new(5, "import rootfs.tar as mine:latest");
        t.apply(&json!({"status": "sha256:5d6f3e1156593adf"}));
        t.finish(None);
        assert_eq!(t.state, TaskState::Done("sha256:5d6f3e1156593adf".into()));
    }

    /// A build's stream as the engine sends it (docker's legacy builder shapes): the current
    /// step follows the `Step` lines, stderr loses its colour escapes, and the end names the tags.
    #[test]
    fn follows_a_build() {
        let mut t = Task::new(6, "build shop/web:dev from .");
        for m in [
            json!({"stream": "Step 1/3 : FROM busybox"}),
            json!({"stream": "\n"}),
            json!({"stream": " ---> 1d2b3c4d5e6f\n"}),
            json!({"stream": "Step 2/3 : RUN make"}),
            json!({"stream": "\n"}),
            json!({"stream": " ---> Running in 0a1b2c3d4e5f\n"}),
            json!({"stream": "\u{1b}[91mwarning: old compiler\n\u{1b}[0m"}),
        ] {
            t.apply(&m);
        }
        assert_eq!(t.step.as_deref(), Some("Step 2/3 : RUN make"));
        assert_eq!(
            t.notes.last().map(String::as_str),
            Some("warning: old compiler")
        );
        for m in [
            json!({"stream": "Step 3/3 : CMD [\"web\"]"}),
            json!({"aux": {"ID": "sha256:9f8e7d6c5b4a"}}),
            json!({"stream": "Successfully built 9f8e7d6c5b4a\n"}),
            json!({"stream": "Successfully tagged shop/web:dev\n"}),
        ] {
            t.apply(&m);
        }
        t.finish(None);
        assert_eq!(t.state, TaskState::Done("built shop/web:dev".into()));
        let mut t = Task::new(7, "build .");
        t.apply(&json!({"stream": "Step 1/2 : RUN exit 3\n"}));
        t.apply(&json!({"errorDetail": {"code": 3, "message": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"}, "error": "The command '/bin/sh -c exit 3' returned a non-zero code: 3"}));
        t.finish(None);
        assert_eq!(
            t.state,
            TaskState::Failed("The command '/bin/sh -c exit 3' returned a non-zero code: 3".into())
        );
        assert_eq!(strip_ansi("a\u{1b}[1;31mb\u{1b}[0mc"), "abc");
    }

    #[test]
    fn follows_a_push() {
        let mut t = Task::new(3, "push localhost:5000/app:1");
        t.apply(&json!({"status": "The push refers to repository [localhost:5000/app]"}));
        t.apply(&json!({"status": "Preparing", "progressDetail": {}, "id": "l1"}));
        t.apply(&json!({"status": "Pushing", "progressDetail": {"current": 5, "total": 10}, "id": "l1"}));
        assert_eq!(t.fraction(), Some(0.5));
        t.apply(&json!({"status": "Pushed", "progressDetail": {}, "id": "l1"}));
        t.apply(&json!({"status": "1: digest: sha256:abc size: 527"}));
        t.finish(None);
        assert_eq!(
            t.state,
            TaskState::Done("1: digest: sha256:abc size: 527".into())
        );
    }
}
