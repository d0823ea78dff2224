//! Stream items and ends: stats into the store's history, task progress into its task, log
//! lines to the view that follows them.

use std::time::Instant;

use super::App;
use crate::dashboard::msg::{Effect, StreamItem, StreamKey};
use crate::dashboard::store::tasks::TaskState;
use crate::dashboard::views::{Level, View};

impl App {
    pub(super) fn on_stream(&mut self, key: StreamKey, item: Option<StreamItem>) {
        match (&key, &item) {
            (StreamKey::Stats(id), Some(StreamItem::Json(v))) => {
                self.store.stats.entry(id.clone()).or_default().push(v);
                self.dirty = true;
            }
            (StreamKey::Task(id), Some(StreamItem::Json(v))) => {
                if let Some(t) = self.store.task_mut(*id) {
                    t.apply(v);
                }
                self.dirty = true;
            }
            (StreamKey::DetailLogs(_), _) => {
                self.with_views(|views, cx| views.containers.on_stream(&key, item.as_ref(), cx));
            }
            (StreamKey::Logs(..), _) => {
                self.with_views(|views, cx| views.logs.on_stream(&key, item.as_ref(), cx));
                self.dirty = true;
            }
            _ => {}
        }
    }

    pub(super) fn on_stream_end(&mut self, key: StreamKey, error: Option<String>) {
        match &key {
            StreamKey::Stats(id) => {
                self.stats_open.remove(id);
                self.stats_ended.insert(id.clone(), Instant::now());
                self.effects.push(Effect::close(key.clone()));
            }
            StreamKey::Task(id) => {
                let id = *id;
                let mut finished = None;
                if let Some(t) = self.store.task_mut(id) {
                    t.finish(error);
                    finished = Some((t.title.clone(), t.state.clone()));
                }
                match finished {
                    Some((title, TaskState::Failed(e))) => {
                        self.set_status(Level::Error, format!("{title}: {e}"))
                    }
                    Some((title, TaskState::Done(d))) => {
                        self.set_status(Level::Info, format!("{title}: {d}"))
                    }
                    _ => {}
                }
            }
            StreamKey::DetailLogs(_) => {
                self.with_views(|views, cx| {
                    // The pane shows why its stream ended, then that it ended.
                    if let Some(e) = error {
                        let item = StreamItem::Text {
                            line: format!("logs: {e}"),
                            stderr: true,
                        };
                        views.containers.on_stream(&key, Some(&item), cx);
                    }
                    views.containers.on_stream(&key, None, cx);
                });
            }
            StreamKey::Logs(..) => {
                // The view shows the end (a stopped container, the engine's message) itself;
                // the status line only reports errors of streams the view still shows.
                if self.views.logs.stream_ended(&key, error.as_deref()) {
                    if let Some(e) = error {
                        self.set_status(Level::Error, format!("logs: {e}"));
                    }
                }
            }
        }
        self.dirty = true;
    }
}
