//! `docker save` / `docker load`: image archives out of and into the image store.
//!
//! Load reads the request body once: layer members stream straight into
//! `ImageService::ingest_layer` (blob store + safe extraction), each on its own worker thread so
//! the layers of a multi-layer archive unpack in parallel while the tar is still being read; the
//! metadata is kept in memory (bounded) and the images are planned and committed once the tar
//! ends, under one ingest lease so nothing ingested is collected before its image is committed.
//! Nothing is committed when any check fails; the lease's end leaves what was ingested to the
//! store's garbage collection.
//!
//! Save resolves every name first (so a bad name is a plain 404), pins the blobs under a lease
//! and streams docker ≥ 25's format from the stored blobs.

mod load;
mod save;
#[cfg(test)]
mod tests;

pub use load::{load, LoadEvent};
pub use save::{prepare_save, write_save};
