//! Docker Engine API wire types (request and response bodies), PascalCase as docker sends them.
//! Unknown request fields are ignored (the open-schema rule); response fields clients read are
//! always filled. `null` in a request body means the zero value, as in Go (see [`go_json`]).

pub mod build;
pub mod container;
pub mod go_json;
pub mod go_keys;
pub mod health;
pub mod image;
pub mod stream;
pub mod volume;
