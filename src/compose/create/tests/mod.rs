//! Tests of the create module: docker compose's recorded requests rebuilt from the same
//! compose files ([`recorded`], the fixtures of tests/fixtures/compose/create recorded by its
//! record.sh), and the smaller conversions on their own ([`units`], [`engine_side`]).

mod engine_side;
mod recorded;
mod units;
