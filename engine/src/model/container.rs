//! Container wire types.
