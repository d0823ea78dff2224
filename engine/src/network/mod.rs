//! Container networking. `dns`: the embedded resolver that user-defined networks use.
pub mod dns;
