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

/// Spreadsheet uploads are read within limits, and what comes back is bounded: a 1,800-byte
/// workbook with cells at A1 and XFD1048576 aborted the server (a 550 GB grid), and a header
/// of long unknown columns was echoed back in a 419 MB error.
#[test]
fn spreadsheet_uploads_are_read_within_limits_and_errors_are_bounded() {
    let s = Server::start("server-xlsx-limits");
    let auth = format!("Bearer {}", s.token());
    let put = |body: &[u8]| {
        s.call(
            "PUT",
            "/v1/apps/acme-erp/directory",
            &[("authorization", &auth)],
            body,
        )
    };
    let far = common::workbook(&[(0, 0, "id"), (1_048_575, 16_383, "x")]);
    let r = put(&far);
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, serde_json::json!("bad_directory")),
        "{}",
        r.text()
    );
    let long = "长".repeat(30_000);
    let header: Vec<(u32, u16, &str)> = (0..300).map(|c| (0, c, long.as_str())).collect();
    let r = put(&common::workbook(&header));
    assert_eq!(r.status, 422, "{}", &r.text()[..200.min(r.text().len())]);
    assert!(
        r.body.len() < 1 << 20,
        "the error does not echo the cells: {} bytes",
        r.body.len()
    );
    // The matrix import reads the same way.
    let doc = s
        .admin("GET", "/v1/apps/acme-erp/versions/1", &Value::Null)
        .json()["document"]
        .clone();
    use base64::Engine as _;
    let r = s.admin(
        "POST",
        "/v1/drafts/matrix/import",
        &serde_json::json!({"document": doc, "resource": "customer",
            "file": base64::engine::general_purpose::STANDARD.encode(&far)}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("more than"), "{}", r.text());
    assert_eq!(s.get("/v1/config").status, 200, "the server is alive");
}

/// Health for orchestrators, security headers on every answer, and reads with the login
/// cookie that another page made refused before anything is read or counted.
#[test]
fn health_headers_and_reads_from_other_pages() {
    let s = Server::start("server-health-headers");
    let health = s.get("/healthz");
    assert_eq!(
        (health.status, health.json()["status"].clone()),
        (200, "ok".into())
    );
    let ready = s.get("/readyz");
    assert_eq!(
        (ready.status, ready.json()["status"].clone()),
        (200, "ready".into())
    );
    for path in ["/", "/admin", "/v1/config"] {
        let r = s.get(path);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        assert_eq!(
            csp.contains("'unsafe-eval'"),
            path == "/",
            "only the form page (its form library compiles validators) allows eval: {path}: {csp}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let alice = s.login("u-alice");
    let read = |site: &str| {
        s.call(
            "GET",
            "/v1/data/customer/c-1003",
            &[("cookie", &alice), ("sec-fetch-site", site)],
            b"",
        )
    };
    assert_eq!(read("same-origin").status, 200);
    for site in ["same-site", "cross-site"] {
        let r = read(site);
        assert_eq!(
            (r.status, r.json()["code"].clone()),
            (403, "forbidden_origin".into()),
            "{site}"
        );
    }
    // Refused before the session is read: no refusal counted against Alice.
    let log = s
        .admin("GET", "/v1/audit/access?user=u-alice", &Value::Null)
        .json();
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "only the same-origin read: {log}");
    assert_eq!(entries[0]["outcome"], "ok");
}

/// `--alert-webhook` is checked at start: a scheme the server cannot post to stops it with the
/// reason instead of losing the first alert.
#[test]
fn a_webhook_it_cannot_post_to_stops_the_start() {
    for url in ["ftp://alerts.example/hook", "http://", "not a url"] {
        let e = Server::try_start_in(
            common::temp_dir("server-webhook-scheme"),
            &["--alert-webhook", url],
        )
        .err()
        .unwrap_or_else(|| panic!("{url} was accepted"));
        assert!(e.contains("--alert-webhook"), "{url}: {e}");
    }
}

/// A person's minimized bundle follows the directory: moved to another department, they get a
/// new bundle (and ETag) at once, not the cached one until the next publication.
#[test]
fn a_minimized_bundle_follows_a_directory_change() {
    let s = Server::start("server-for-me-directory");
    let zoe_in = |dept: &str| {
        let csv = format!("id,name,department\nu-alice,Alice,sales-east\nu-zoe,Zoe,{dept}\n");
        let r = s.publish_people(csv.as_bytes());
        assert_eq!(r.status, 200, "{}", r.text());
    };
    zoe_in("sales-east");
    let zoe = s.login("u-zoe");
    let first = s.user(&zoe, "GET", "/v1/apps/acme-erp/bundle?for=me", &Value::Null);
    assert_eq!(first.status, 200);
    let tag = first.header("etag").unwrap().to_string();
    // The warehouse department holds a role: her bundle is another one now.
    zoe_in("warehouse");
    let origin = s.origin();
    let again = s.call(
        "GET",
        "/v1/apps/acme-erp/bundle?for=me",
        &[
            ("cookie", &zoe),
            ("origin", &origin),
            ("if-none-match", &tag),
        ],
        b"",
    );
    let me = s.user(&zoe, "GET", "/v1/me", &Value::Null).json();
    assert_eq!(me["department"], "warehouse");
    assert_eq!(again.status, 200, "a new bundle, not 304");
    assert_ne!(again.header("etag"), Some(tag.as_str()));
}

/// Operators' view: `GET /metrics` (admin or `--metrics-token`) in the Prometheus text format,
/// and one JSON log line per request with the id it was answered under.
#[test]
fn metrics_and_structured_request_logs() {
    let s = Server::start_in(
        common::temp_dir("server-metrics-logs"),
        &["--metrics-token", "scrape-me", "--log-format", "json"],
    );
    assert_eq!(s.get("/v1/config").status, 200);
    let tagged = s.call("GET", "/v1/config", &[("x-request-id", "lb-4711")], b"");
    assert_eq!(tagged.header("x-request-id"), Some("lb-4711"));
    let fresh = s.get("/v1/config");
    let id = fresh.header("x-request-id").unwrap().to_string();
    assert_eq!(id.len(), 16, "{id}");
    let t = s.token();
    let check = s.admin(
        "POST",
        "/v1/apps/acme-erp/check",
        &serde_json::json!({"subject": {"id": "u-alice"}, "requests": [
            {"action": "view", "resource": "customer"},
            {"action": "fly", "resource": "customer"}]}),
    );
    assert_eq!(check.status, 200, "{}", check.text());
    assert_eq!(s.get("/metrics").status, 401);
    let wrong = s.admin_as("nope", "GET", "/metrics", &Value::Null);
    assert_eq!(wrong.status, 401);
    for token in ["scrape-me", t.as_str()] {
        let m = s.admin_as(token, "GET", "/metrics", &Value::Null);
        assert_eq!(m.status, 200);
        assert!(m
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        let text = m.text();
        for want in [
            r#"fieldgate_http_requests_total{method="GET",route="/v1/config",status="200"} 3"#,
            r#"fieldgate_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/config"} 3"#,
            r#"fieldgate_decisions_total{outcome="allow"} 1"#,
            r#"fieldgate_decisions_total{outcome="error"} 1"#,
            "fieldgate_access_log_queue ",
            "fieldgate_publishes_total 1", // the sample, published at first start
        ] {
            assert!(text.contains(want), "{want} in:\n{text}");
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let log = s.log();
    let line = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("a JSON line for {id} in:\n{log}"));
    assert_eq!(line["route"], "/v1/config");
    assert_eq!(line["status"], 200);
    assert_eq!(line["method"], "GET");
    assert!(line["micros"].is_u64());
}
