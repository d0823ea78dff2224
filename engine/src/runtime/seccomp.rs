//! Seccomp profile compilation.
