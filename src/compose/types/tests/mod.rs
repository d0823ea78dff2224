//! Tests of the compose types.
