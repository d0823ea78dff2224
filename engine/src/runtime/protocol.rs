//! Shim control protocol.
