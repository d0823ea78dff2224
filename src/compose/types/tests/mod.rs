//! Tests of the compose types: the recorded docker compose outputs read back and rewritten
//! byte for byte ([`fixtures`]), and each lenient decoder on its own ([`decoders`]).

mod decoders;
mod fixtures;
mod forms;
