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

/// A signing key rotated without downtime: both keys sign during the overlap, then the new
/// one alone, with the old public key named as retired for the versions it signed.
#[test]
fn signing_keys_rotate_with_an_overlap() {
    use fieldgate::bundle::{verify, PublicKey, TrustedKeys, VerifyOptions};
    let dir = common::temp_dir("server-rotation");
    let old = Server::start_in(dir.clone(), &[]).public_key();
    let new = fieldgate::host::keys::generate().unwrap();
    let (new_file, old_pub) = (dir.join("new.key"), dir.join("data/signing.pub"));
    std::fs::write(&new_file, new.to_base64()).unwrap();
    let verifies_with = |s: &Server, key: &PublicKey| {
        let bundle = s
            .admin("GET", "/v1/apps/acme-erp/bundle", &Value::Null)
            .body;
        let keys = TrustedKeys::new(vec![key.clone()]);
        verify(
            &bundle,
            &VerifyOptions::new(&keys, common::server::now_ms()),
        )
        .map(|_| ())
        .map_err(|e| e.code.as_str().to_string())
    };
    let trusted =
        |s: &Server| s.admin("GET", "/v1/config", &Value::Null).json()["trusted_keys"].clone();

    let s = Server::start_in(
        dir.clone(),
        &["--next-signing-key", new_file.to_str().unwrap()],
    );
    assert_eq!(
        trusted(&s),
        serde_json::json!([old.to_base64(), new.public().to_base64()])
    );
    assert_eq!(
        verifies_with(&s, &old),
        Ok(()),
        "clients still on the old key"
    );
    assert_eq!(
        verifies_with(&s, &new.public()),
        Ok(()),
        "clients already on the new key"
    );
    drop(s);

    // The new key alone: the stored versions were signed by the old one only.
    let refused = Server::try_start_in(dir.clone(), &["--signing-key", new_file.to_str().unwrap()])
        .err()
        .expect("a key that signed nothing stored is refused");
    assert!(refused.contains("--retired-key"), "{refused}");

    let s = Server::start_in(
        dir,
        &[
            "--signing-key",
            new_file.to_str().unwrap(),
            "--retired-key",
            old_pub.to_str().unwrap(),
        ],
    );
    assert_eq!(trusted(&s), serde_json::json!([new.public().to_base64()]));
    assert_eq!(verifies_with(&s, &new.public()), Ok(()));
    assert_eq!(verifies_with(&s, &old), Err("untrusted_key".to_string()));
}

#[test]
fn a_stopping_server_ends_its_event_streams_and_exits_promptly() {
    use std::time::{Duration, Instant};
    let mut s = Server::start("server-stop");
    let mut stream = s.event_stream(None);
    let asked = Instant::now();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // The stream ends (not only when the shutdown's time limit cuts it) and the process exits.
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut stream, &mut rest);
    let ended = asked.elapsed();
    let status = s.child.wait().unwrap();
    assert!(
        ended < Duration::from_secs(3),
        "the event stream ended {ended:?} after SIGTERM"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "exited ({status}) {:?} after SIGTERM",
        asked.elapsed()
    );
}
