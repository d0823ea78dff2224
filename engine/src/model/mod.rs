//! Docker Engine API wire types (request and response bodies), PascalCase as docker sends them.
//! Unknown request fields are ignored (the open-schema rule); response fields clients read are
//! always filled.

pub mod build;
pub mod container;
pub mod health;
pub mod image;
pub mod stream;
pub mod volume;
