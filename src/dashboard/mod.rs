//! The dashboard (`berth` with no command). The architecture reads top-down:
//!
//! - `session`: one thread joins terminal input, the feed and the app; draws on change.
//! - `feed`: the only code that talks to the engine (events, lists, calls, streams) → `Msg`.
//! - `files`: the dashboard's own file reads (path completion, what a file to import is).
//! - `app`: all state changes happen in `App::update(Msg)`; views and dialogs queue `Cmd`s.
//! - `store`: engine data (lists, stats history, tasks); views keep only UI state.
//! - `views`, `dialogs`, `widgets`: drawing and key handling per screen.
//! - `keymap`, `config`, `theme`: every key and colour, remappable from the config file.

pub mod app;
pub mod config;
pub mod dialogs;
pub mod feed;
pub mod files;
pub mod keymap;
pub mod msg;
pub mod session;
pub mod store;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;

#[cfg(test)]
mod snapshots_tests;
#[cfg(test)]
pub mod testing;

use std::path::PathBuf;

use anyhow::Result;

/// Runs the dashboard until the user quits, with `compose_files` (`--compose-file`) opened in
/// the Stacks view. A bad config file is reported before the screen is touched (exit status 2).
pub fn run(socket: PathBuf, autostart: bool, compose_files: Vec<String>) -> Result<i32> {
    let config = match config::default_path() {
        Some(path) => config::load_or_init(&path)
            .map_err(|e| crate::exit::ExitError::with(2, e.to_string()))?,
        None => config::Config::default(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(session::run(socket, autostart, config, compose_files))?;
    Ok(0)
}
