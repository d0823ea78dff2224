//! Whole-app snapshot tests (insta, TestBackend): every view and dialog, in several states and
//! sizes, reached by key presses from a fresh app. Review changes with `cargo insta review`, or
//! accept them with `INSTA_UPDATE=always cargo test`.

mod builds;
mod chrome;
mod containers;
mod detail;
mod events;
mod images;
mod import;
mod lists;
mod logs;
mod networks;
mod stacks;
mod volumes;
