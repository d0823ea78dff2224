//! Image format logic: references, safe layer extraction, import.

pub mod archive;
pub mod changes;
pub mod extract;
pub mod history;
pub mod import;
pub mod reference;
