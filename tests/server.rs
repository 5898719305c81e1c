//! `fieldgate serve` end to end over real HTTP on the SQLite store: the shared cases
//! (tests/server/cases.rs) and what only a data directory has.

mod common;

use common::server::{Server, Store};
use serde_json::Value;

/// The store the shared cases run on.
const STORE: Store = Store::Sqlite;

#[path = "server/cases.rs"]
mod cases;

#[test]
fn first_start_makes_a_private_data_dir() {
    let s = Server::start("server-data-dir");
    use std::os::unix::fs::PermissionsExt;
    for f in ["signing.key", "admin.token", "cookie.key", "fieldgate.db"] {
        let mode = std::fs::metadata(s.data.join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let mode = std::fs::metadata(&s.data).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "the data dir");
    assert_eq!(
        s.admin("GET", "/v1/apps/acme-erp/versions", &Value::Null)
            .json()["current"],
        1
    );
}
