//! The image builder: what `POST /build` needs below the service layer.

pub mod context;
pub mod dockerignore;
