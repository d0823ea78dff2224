//! The image builder: what `docker build` asks of the engine (see ARCHITECTURE.md).

pub mod copy;
