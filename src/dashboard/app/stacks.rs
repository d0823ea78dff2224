//! The Stacks view's state changes: compose files asked of the feed (opened by the user, or
//! named by a project's labels) and their answers, and compose verbs started as tasks.

use super::App;
use crate::dashboard::dialogs;
use crate::dashboard::msg::{Effect, FeedRequest, StreamKey};
use crate::dashboard::store::stacks::{
    apply_loaded, derive, StackFile, StackInfo, StackLoad, StackOp, StackRun, StackTarget,
};
use crate::dashboard::store::tasks::Task;
use crate::dashboard::views::Level;

impl App {
    /// Asks for the files the containers' labels name that were not read yet, so projects
    /// started elsewhere show their services, profiles and config too.
    pub(super) fn read_label_files(&mut self) {
        for f in derive::unread_label_files(&self.store) {
            self.effects
                .push(Effect::feed(FeedRequest::LoadStack(f.load_request())));
            self.store.stack_files.push(f);
        }
    }

    /// `berth --compose-file FILE…`: the files opened in the Stacks view from the start.
    pub fn open_compose_files(&mut self, files: Vec<String>) {
        for file in files {
            let load = StackLoad {
                files: vec![file],
                working_dir: None,
                name: None,
                profiles: Vec::new(),
            };
            self.load_stack(load, true);
        }
    }

    /// Reads (again) a compose file: a new entry, or the known one with these profiles.
    pub(super) fn load_stack(&mut self, load: StackLoad, opened: bool) {
        let key = load.key();
        match self.store.stack_files.iter_mut().find(|f| f.key() == key) {
            Some(f) => {
                f.loading = true;
                f.opened |= opened;
                f.profiles = load.profiles.clone();
            }
            None => self.store.stack_files.push(StackFile {
                files: load.files.clone(),
                working_dir: load.working_dir.clone(),
                name: load.name.clone(),
                opened,
                profiles: load.profiles.clone(),
                loading: true,
                loaded: None,
            }),
        }
        self.effects
            .push(Effect::feed(FeedRequest::LoadStack(load)));
        self.store_changed();
    }

    /// A file's answer. An opened file that cannot be read says why on the status line (its
    /// row keeps the message); a label's file fails quietly (the project may come from
    /// another machine), the row shows it.
    pub(super) fn stack_loaded(&mut self, key: String, result: Result<StackInfo, String>) {
        let opened = self
            .store
            .stack_files
            .iter()
            .any(|f| f.key() == key && f.opened);
        if let (true, Err(e)) = (opened, &result) {
            self.set_status(Level::Error, e.clone());
        }
        apply_loaded(&mut self.store.stack_files, &key, result);
        self.store_changed();
    }

    /// Starts a compose verb as a background task; the status line says so and, when it ends,
    /// how it went.
    pub(super) fn stack_task(&mut self, target: StackTarget, op: StackOp, show: bool) {
        let id = self.next_task;
        self.next_task += 1;
        let title = op.title(&target.name);
        self.store.tasks.push(Task::new(id, title.clone()));
        self.effects.push(Effect::feed(FeedRequest::Stack(StackRun {
            key: StreamKey::Task(id),
            target,
            op,
        })));
        if show {
            self.dialogs
                .push(Box::new(dialogs::tasks::TaskDialog::one(id)));
        } else {
            let tasks = self
                .config
                .keymap
                .label(crate::dashboard::keymap::Action::Tasks);
            self.set_status(Level::Info, format!("{title}… ({tasks}: progress)"));
        }
    }
}
