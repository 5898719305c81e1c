//! The server tests every store must pass (tests/server/cases.rs), on PostgreSQL: each server
//! gets a database of its own in the cluster `FIELDGATE_TEST_PG_URL` names (scripts/test.sh
//! starts one with scripts/pg.sh).

mod common;

use common::server::Store;

/// The store the shared cases run on.
const STORE: Store = Store::Postgres;

#[path = "server/cases.rs"]
mod cases;
