//! Container init: everything between fork and execve of the container process.
