//! `fieldgate serve` end to end over real HTTP: publish, versions, rollback, 401s, 422s with
//! paths, ETags and 304s, minimized bundles, enforcement 403s, decisions, events, the publish
//! directory, and a crash in the middle of publishing.

mod common;

use common::{root, temp_dir};
use fieldgate::bundle::{verify, PublicKey, TrustedKeys, VerifyOptions};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server on a free loopback port with its own data directory.
struct Server {
    child: Child,
    addr: String,
    data: PathBuf,
}

impl Server {
    fn start(name: &str) -> Server {
        Server::start_in(temp_dir(name), &[])
    }

    fn start_in(dir: PathBuf, extra: &[&str]) -> Server {
        let data = dir.join("data");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fieldgate"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(extra)
            .current_dir(root())
            .env_remove("FIELDGATE_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn fieldgate serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "server exited early");
            if let Some(rest) = line
                .trim()
                .strip_prefix("fieldgate serve: listening on http://")
            {
                break rest.split(' ').next().unwrap().to_string();
            }
        };
        Server { child, addr, data }
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.token"))
            .unwrap()
            .trim()
            .to_string()
    }

    fn public_key(&self) -> PublicKey {
        PublicKey::from_base64(&std::fs::read_to_string(self.data.join("signing.pub")).unwrap())
            .unwrap()
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(&self.addr, method, path, headers, body)
    }

    fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], b"")
    }

    fn admin(&self, method: &str, path: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {}", self.token());
        self.call(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        )
    }

    /// Logs in and returns the cookie header value.
    fn login(&self, user: &str) -> String {
        let r = self.call(
            "POST",
            "/v1/login",
            &[("content-type", "application/json")],
            json!({"user": user}).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let set = r.header("set-cookie").unwrap();
        set.split(';').next().unwrap().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 4 + n..];
    }
}

fn sample_policy() -> Value {
    serde_json::from_slice(&std::fs::read(root().join("examples/acme-erp.policy.json")).unwrap())
        .unwrap()
}

/// The sample with salespeople allowed to edit `credit_limit` on their own customers.
fn more_access() -> Value {
    let mut p = sample_policy();
    p["templates"]["customer_owner"][0]["fields"]["credit_limit"] = json!("editable");
    p
}

fn verify_with(
    key: &PublicKey,
    bytes: &[u8],
    user: Option<&str>,
) -> fieldgate::bundle::VerifiedBundle {
    let keys = TrustedKeys::new(vec![key.clone()]);
    let mut opts = VerifyOptions::new(&keys, now_ms());
    opts.app = Some("acme-erp");
    opts.subject = user;
    verify(bytes, &opts).expect("a bundle the server signed verifies")
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[test]
fn first_start_creates_the_data_dir_and_publishes_the_sample() {
    let s = Server::start("server-first-start");
    use std::os::unix::fs::PermissionsExt;
    for f in ["signing.key", "admin.token", "cookie.key"] {
        let mode = std::fs::metadata(s.data.join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{f}");
    }
    let v = s.get("/v1/apps/acme-erp/versions").json();
    assert_eq!(v["current"], 1);
    assert_eq!(v["versions"][0]["published_by"], "fieldgate (sample)");
    let b = s.get("/v1/apps/acme-erp/bundle");
    assert_eq!(b.status, 200);
    let vb = verify_with(&s.public_key(), &b.body, None);
    assert_eq!(vb.policy.version(), 1);
    assert_eq!(s.get("/v1/apps/nope/bundle").json()["code"], "unknown_app");
    assert_eq!(s.get("/v1/nothing-here").json()["code"], "not_found");
}

#[test]
fn etags_give_304_and_change_with_a_new_version() {
    let s = Server::start("server-etag");
    let b = s.get("/v1/apps/acme-erp/bundle");
    let etag = b.header("etag").unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong etag {etag}"
    );
    assert_eq!(b.header("cache-control"), Some("public, no-cache"));
    let again = s.call(
        "GET",
        "/v1/apps/acme-erp/bundle",
        &[("if-none-match", &etag)],
        b"",
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let bin = s.call(
        "GET",
        "/v1/apps/acme-erp/bundle",
        &[("accept", "application/octet-stream")],
        b"",
    );
    assert_eq!(bin.status, 200);
    assert_eq!(&bin.body[..4], b"FGB\0");
    assert_ne!(bin.header("etag"), Some(etag.as_str()));
    verify_with(&s.public_key(), &bin.body, None);
    assert_eq!(
        s.admin("POST", "/v1/apps/acme-erp/policy", &more_access())
            .status,
        201
    );
    let stale = s.call(
        "GET",
        "/v1/apps/acme-erp/bundle",
        &[("if-none-match", &etag)],
        b"",
    );
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("x-fieldgate-version"), Some("2"));
}

#[test]
fn publish_keeps_every_version_with_author_and_diff_and_rollback_adds_one() {
    let s = Server::start("server-publish");
    let auth = format!("Bearer {}", s.token());
    let body = more_access().to_string();
    let dry = s.call(
        "POST",
        "/v1/apps/acme-erp/policy?dry_run=true",
        &[("authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(dry.status, 200);
    let lines = dry.json()["summary"]["lines"].clone();
    assert!(
        lines
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "3 users gain editable on customer.credit_limit (edit)"),
        "{lines}"
    );
    assert_eq!(
        s.get("/v1/apps/acme-erp/versions").json()["current"],
        1,
        "dry run publishes nothing"
    );
    let p = s.call(
        "POST",
        "/v1/apps/acme-erp/policy",
        &[("authorization", &auth), ("x-fieldgate-actor", "grace")],
        body.as_bytes(),
    );
    assert_eq!(p.status, 201, "{}", p.text());
    assert_eq!(p.json()["version"], 2);
    assert_eq!(p.json()["published_by"], "grace");
    let v2 = s.get("/v1/apps/acme-erp/versions/2").json();
    assert_eq!(v2["document"]["version"], 2);
    assert_eq!(v2["summary"]["lines"], lines);
    let d = s.get("/v1/apps/acme-erp/diff?from=1&to=2").json();
    assert!(d["access"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["subject"] == "user:u-alice"));
    let r = s.admin("POST", "/v1/apps/acme-erp/rollback-to/1", &json!(null));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["version"], 3);
    let list = s.get("/v1/apps/acme-erp/versions").json();
    let numbers: Vec<u64> = list["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    let v3 = s.get("/v1/apps/acme-erp/versions/3").json();
    let mut old = s.get("/v1/apps/acme-erp/versions/1").json()["document"].clone();
    old["version"] = json!(3);
    assert_eq!(v3["document"], old, "rollback republishes the old content");
    assert!(v3["summary"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l == "3 users go down to readonly on customer.credit_limit (edit)"));
    assert_eq!(s.get("/v1/apps/acme-erp/versions/9").status, 404);
}

#[test]
fn admin_endpoints_need_the_token_and_change_nothing_without_it() {
    let s = Server::start("server-401");
    let body = more_access().to_string();
    for (path, body) in [
        ("/v1/apps/acme-erp/policy", body.as_str()),
        ("/v1/apps/acme-erp/rollback-to/1", ""),
        (
            "/v1/admin/reassign-records",
            r#"{"from":"u-alice","to":"u-bob"}"#,
        ),
        ("/v1/drafts/transfer", "{}"),
    ] {
        for auth in [None, Some("Bearer wrong")] {
            let mut h = vec![("content-type", "application/json")];
            if let Some(a) = auth {
                h.push(("authorization", a));
            }
            let r = s.call("POST", path, &h, body.as_bytes());
            assert_eq!(r.status, 401, "{path}");
            assert_eq!(r.json()["code"], "unauthorized");
        }
    }
    assert_eq!(s.get("/v1/decisions").status, 401);
    assert_eq!(s.get("/v1/apps/acme-erp/versions").json()["current"], 1);
}

#[test]
fn bad_policies_get_422_with_every_path_and_nothing_changes() {
    let s = Server::start("server-422");
    let mut p = sample_policy();
    p["roles"]["sales"]["grants"][0]["fields"]["phon"] = json!("editable");
    p["roles"]["approver"]["grants"][0]["when"] = json!("record.status ==");
    let r = s.admin("POST", "/v1/apps/acme-erp/policy", &p);
    assert_eq!(r.status, 422);
    let j = r.json();
    assert_eq!(j["code"], "bad_policy");
    let paths: Vec<&str> = j["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"roles.sales.grants[0].fields.phon"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"roles.approver.grants[0].when"),
        "{paths:?}"
    );
    let mut other = sample_policy();
    other["app"] = json!("other-app");
    assert_eq!(
        s.admin("POST", "/v1/apps/acme-erp/policy", &other).json()["code"],
        "wrong_app"
    );
    let auth = format!("Bearer {}", s.token());
    let bad_json = s.call(
        "POST",
        "/v1/apps/acme-erp/policy",
        &[("authorization", &auth)],
        b"{not json",
    );
    assert_eq!(
        (bad_json.status, bad_json.json()["code"].clone()),
        (422, json!("bad_json"))
    );
    let huge = vec![b' '; 5 * 1024 * 1024];
    assert_eq!(
        s.call(
            "POST",
            "/v1/apps/acme-erp/policy",
            &[("authorization", &auth)],
            &huge
        )
        .status,
        413
    );
    assert_eq!(
        s.get("/v1/apps/acme-erp/versions").json()["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn minimized_bundle_for_me_is_bound_to_the_logged_in_user() {
    let s = Server::start("server-for-me");
    assert_eq!(s.get("/v1/apps/acme-erp/bundle?for=me").status, 401);
    let cookie = s.login("u-alice");
    let r = s.call(
        "GET",
        "/v1/apps/acme-erp/bundle?for=me",
        &[("cookie", &cookie)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("private, no-cache"));
    let b = verify_with(&s.public_key(), &r.body, Some("u-alice"));
    assert_eq!(b.policy.header().subject.as_deref(), Some("u-alice"));
    assert!(
        b.policy.user_ids().all(|u| u == "u-alice"),
        "other users' assignments are cut"
    );
    let keys = TrustedKeys::new(vec![s.public_key()]);
    let mut opts = VerifyOptions::new(&keys, now_ms());
    opts.subject = Some("u-bob");
    assert_eq!(
        verify(&r.body, &opts).unwrap_err().code.as_str(),
        "wrong_subject"
    );
    let forged = "fg_user=u-grace~99999999999999~AAAA";
    assert_eq!(
        s.call("GET", "/v1/me", &[("cookie", forged)], b"").status,
        401
    );
}

#[test]
fn data_api_returns_scope_and_redacts_and_refuses_forbidden_writes() {
    let s = Server::start("server-data");
    assert_eq!(s.get("/v1/data/customer").status, 401);
    let alice = s.login("u-alice");
    let list = s
        .call("GET", "/v1/data/customer", &[("cookie", &alice)], b"")
        .json();
    let records = list["records"].as_array().unwrap();
    // Salespeople read every customer (customer_reader) but phone is masked and credit hidden
    // on customers they do not own.
    let bobs = records.iter().find(|r| r["id"] == "c-1003").unwrap();
    assert!(bobs.get("credit_limit").is_none());
    assert_ne!(bobs["phone"], "13755554444");
    let own = records.iter().find(|r| r["id"] == "c-1001").unwrap();
    assert_eq!(own["phone"], "13812345678");
    let put = |cookie: &str, path: &str, body: Value| {
        s.call(
            "PUT",
            path,
            &[("cookie", cookie), ("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    };
    let r = put(
        &alice,
        "/v1/data/customer/c-1001",
        json!({"notes": "call back", "credit_limit": 1}),
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "forbidden_fields");
    assert_eq!(r.json()["fields"], json!(["credit_limit"]));
    let after = s
        .call(
            "GET",
            "/v1/data/customer/c-1001",
            &[("cookie", &alice)],
            b"",
        )
        .json();
    assert_eq!(
        after["notes"], "Prefers calls in the morning.",
        "a refused write writes nothing"
    );
    let ok = put(
        &alice,
        "/v1/data/customer/c-1001",
        json!({"notes": "call back"}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["notes"], "call back");
    let theirs = put(&alice, "/v1/data/customer/c-1003", json!({"notes": "x"}));
    assert_eq!(
        (theirs.status, theirs.json()["code"].clone()),
        (403, json!("forbidden"))
    );
    // Orders under approval are locked for their creator.
    let dave = s.login("u-dave");
    let locked = put(
        &dave,
        "/v1/data/inbound_order/o-2002",
        json!({"quantity": 1}),
    );
    assert_eq!(locked.status, 403);
    let draft = put(
        &dave,
        "/v1/data/inbound_order/o-2001",
        json!({"quantity": 600}),
    );
    assert_eq!(draft.status, 200, "{}", draft.text());
    let erin = s.login("u-erin");
    let orders = s
        .call("GET", "/v1/data/inbound_order", &[("cookie", &erin)], b"")
        .json();
    assert!(orders["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o.get("unit_price").is_none()));
    let created = s.call(
        "POST",
        "/v1/data/customer",
        &[("cookie", &alice), ("content-type", "application/json")],
        json!({"name": "New Co", "phone": "13000000000"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["owner_id"], "u-alice");
    let bad_create = s.call(
        "POST",
        "/v1/data/customer",
        &[("cookie", &alice), ("content-type", "application/json")],
        json!({"name": "X", "credit_limit": 5})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(bad_create.json()["fields"], json!(["credit_limit"]));
}

#[test]
fn reassigning_records_moves_ownership() {
    let s = Server::start("server-reassign");
    let r = s.admin(
        "POST",
        "/v1/admin/reassign-records",
        &json!({"from": "u-alice", "to": "u-bob"}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["moved"]["customer"], 2);
    let bob = s.login("u-bob");
    let c = s
        .call("GET", "/v1/data/customer/c-1001", &[("cookie", &bob)], b"")
        .json();
    assert_eq!(c["owner_id"], "u-bob");
    assert_eq!(
        c["phone"], "13812345678",
        "bob now owns it and sees it unmasked"
    );
}

#[test]
fn drafts_transfer_and_matrix_round_trip() {
    let s = Server::start("server-drafts");
    let doc = sample_policy();
    let t = s.admin(
        "POST",
        "/v1/drafts/transfer",
        &json!({"document": doc, "from": "u-bob", "to": "u-alice"}),
    );
    assert_eq!(t.status, 200, "{}", t.text());
    let moved = t.json();
    assert!(moved["document"]["assignments"]["users"]
        .get("u-bob")
        .is_none());
    assert_eq!(moved["report"]["grants"].as_array().unwrap().len(), 1);
    let unknown = s.admin(
        "POST",
        "/v1/drafts/transfer",
        &json!({"document": doc, "from": "u-nobody", "to": "u-alice"}),
    );
    assert_eq!(
        (unknown.status, unknown.json()["code"].clone()),
        (422, json!("unknown_user"))
    );
    let csv = s
        .admin(
            "POST",
            "/v1/drafts/matrix/export",
            &json!({"document": doc, "resource": "customer"}),
        )
        .text();
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("#label"),
        "{csv}"
    );
    let edited = csv.replacen("sales_manager,editable", "sales_manager,hidden", 1);
    assert_ne!(edited, csv);
    let imported = s.admin(
        "POST",
        "/v1/drafts/matrix/import",
        &json!({"document": doc, "resource": "customer", "csv": edited}),
    );
    assert_eq!(imported.status, 200, "{}", imported.text());
    let bad = s.admin("POST", "/v1/drafts/matrix/import", &json!({"document": doc, "resource": "customer", "csv": csv.replacen("sales_manager,editable", "sales_manager,visible", 1)}));
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["code"], "bad_cells");
    assert_eq!(
        bad.json()["cells"][0]["row"],
        4,
        "header, #label, sales, sales_manager"
    );
}

#[test]
fn decisions_are_stored_and_bounded() {
    let s = Server::start("server-decisions");
    let ev = json!({"subject": "u-alice", "action": "edit", "resource": "customer", "allow": true, "version": 1, "at": 1});
    assert_eq!(
        s.call(
            "POST",
            "/v1/decisions",
            &[("content-type", "application/json")],
            b"[]"
        )
        .status,
        401
    );
    let alice = s.login("u-alice");
    let post = |body: &Value| {
        s.call(
            "POST",
            "/v1/decisions",
            &[("cookie", &alice), ("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    };
    let r = post(&json!({"events": [ev, ev]}));
    assert_eq!(r.json()["accepted"], 2);
    assert_eq!(post(&json!({"events": [{"action": 1}]})).status, 400);
    let many: Vec<Value> = (0..1001).map(|_| ev.clone()).collect();
    assert_eq!(post(&json!({"events": many})).status, 413);
    let stored = s
        .admin("GET", "/v1/decisions?limit=10", &json!(null))
        .json();
    assert_eq!(stored["decisions"].as_array().unwrap().len(), 2);
    assert_eq!(stored["decisions"][0]["reported_by"], "u-alice");
}

/// A chained event as `DecisionLog` sends it: `body` (compact JSON members, in order) with
/// `chain` and `prev`, and the SHA-256 of that text as `hash`.
fn chained(body: &str, chain: &str, prev: Option<&str>) -> (Value, String) {
    use sha2::{Digest, Sha256};
    let prev = prev.map_or("null".to_string(), |p| format!("\"{p}\""));
    let text = format!("{{{body},\"chain\":\"{chain}\",\"prev\":{prev}}}");
    let hash: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["hash"] = json!(hash);
    (event, hash)
}

#[test]
fn decision_chains_show_gaps_edits_and_retries() {
    let s = Server::start("server-decision-chains");
    let alice = s.login("u-alice");
    let post = |events: &[&Value]| {
        s.call(
            "POST",
            "/v1/decisions",
            &[("cookie", &alice), ("content-type", "application/json")],
            json!({ "events": events }).to_string().as_bytes(),
        )
        .json()
    };
    let ev = |at: u32| {
        format!(
            r#""subject":"u-alice","action":"view","resource":"customer","allow":true,"version":1,"at":{at}"#
        )
    };
    let (e1, h1) = chained(&ev(1), "c-1", None);
    let (e2, h2) = chained(&ev(2), "c-1", Some(&h1));
    let (e3, h3) = chained(&ev(3), "c-1", Some(&h2));
    let (_, h4) = chained(&ev(4), "c-1", Some(&h3));
    let (e5, _) = chained(&ev(5), "c-1", Some(&h4));
    let (other, _) = chained(&ev(1), "c-2", None);

    let r = post(&[&e1, &e2]);
    assert_eq!(
        (r["accepted"].as_u64(), r["duplicates"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(r["chain_breaks"], json!([]));
    let r = post(&[&e2, &other]);
    assert_eq!(
        (r["accepted"].as_u64(), r["duplicates"].as_u64()),
        (Some(1), Some(1)),
        "a retry is stored once; a second device starts its own chain"
    );
    assert_eq!(r["chain_breaks"], json!([]));

    let mut edited = e3.clone();
    edited["allow"] = json!(false);
    let r = post(&[&edited, &e5]);
    assert_eq!(
        r["chain_breaks"],
        json!([{"index": 0, "link": "edited"}, {"index": 1, "link": "gap"}]),
        "event 4 never arrived"
    );
    let unchained = json!({"action": "view", "resource": "customer", "allow": true});
    assert_eq!(post(&[&unchained])["chain_breaks"], json!([]));
    let mut broken = e1.clone();
    broken.as_object_mut().unwrap().remove("chain");
    let bad = s.call(
        "POST",
        "/v1/decisions",
        &[("cookie", &alice), ("content-type", "application/json")],
        json!({ "events": [broken] }).to_string().as_bytes(),
    );
    assert_eq!(bad.status, 400);

    let stored = s.admin("GET", "/v1/decisions", &json!(null)).json();
    let links: Vec<&str> = stored["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|d| d["link"].as_str().unwrap())
        .collect();
    assert_eq!(links, ["ok", "ok", "ok", "edited", "gap", "unchained"]);
}

#[test]
fn events_announce_new_versions() {
    let s = Server::start("server-events");
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /v1/events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        s.admin("POST", "/v1/apps/acme-erp/policy", &more_access())
            .status,
        201
    );
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("\"version\":2") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("event: published"), "{seen}");
}

#[test]
fn publish_dir_gets_immutable_versions_and_a_latest_pointer() {
    let dir = temp_dir("server-publish-dir");
    let out = dir.join("cdn");
    let s = Server::start_in(dir.clone(), &["--publish-dir", out.to_str().unwrap()]);
    assert_eq!(
        s.admin("POST", "/v1/apps/acme-erp/policy", &more_access())
            .status,
        201
    );
    let latest: Value =
        serde_json::from_slice(&std::fs::read(out.join("acme-erp/latest.json")).unwrap()).unwrap();
    assert_eq!(latest["version"], 2);
    for n in [1, 2] {
        let bytes = std::fs::read(out.join(format!("acme-erp/v{n}.json"))).unwrap();
        assert_eq!(
            verify_with(&s.public_key(), &bytes, None).policy.version(),
            n
        );
    }
    // Files removed while the server was down come back at the next start.
    drop(s);
    std::fs::remove_file(out.join("acme-erp/v1.json")).unwrap();
    std::fs::remove_file(out.join("acme-erp/latest.json")).unwrap();
    let _s = Server::start_in(dir, &["--publish-dir", out.to_str().unwrap()]);
    assert!(out.join("acme-erp/v1.json").exists());
    let latest: Value =
        serde_json::from_slice(&std::fs::read(out.join("acme-erp/latest.json")).unwrap()).unwrap();
    assert_eq!(
        latest["version"], 2,
        "latest points at the newest version, not the last repaired"
    );
}

/// Kills the server (SIGKILL) while publishes are in flight, many times; after each restart the
/// store must be whole: versions 1..=current with nothing missing, every document compiling and
/// every stored bundle verifying, and the served bundle being the current version.
#[test]
fn a_crash_while_publishing_leaves_the_store_whole() {
    let dir = temp_dir("server-crash");
    let mut published_at_least = 1;
    for round in 0..4u64 {
        let s = Server::start_in(dir.clone(), &[]);
        let addr = s.addr.clone();
        let token = s.token();
        let writer = std::thread::spawn(move || {
            let mut ok = 0;
            for i in 0..200 {
                let mut p = more_access();
                p["x-round"] = json!(format!("{round}-{i}"));
                let auth = format!("Bearer {token}");
                let body = p.to_string();
                let Ok(mut conn) = TcpStream::connect(&addr) else {
                    break;
                };
                let head = format!("POST /v1/apps/acme-erp/policy HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: {auth}\r\ncontent-length: {}\r\n\r\n", body.len());
                if conn
                    .write_all(head.as_bytes())
                    .and_then(|()| conn.write_all(body.as_bytes()))
                    .is_err()
                {
                    break;
                }
                let mut reply = Vec::new();
                if conn.read_to_end(&mut reply).is_err() || !reply.starts_with(b"HTTP/1.1 201") {
                    break;
                }
                ok += 1;
            }
            ok
        });
        std::thread::sleep(Duration::from_millis(150 + 97 * round));
        let mut s = s;
        let _ = s.child.kill(); // SIGKILL: no chance to finish anything
        let _ = s.child.wait();
        published_at_least += writer.join().unwrap();
        drop(s);

        let s = Server::start_in(dir.clone(), &[]);
        let list = s.get("/v1/apps/acme-erp/versions").json();
        let current = list["current"].as_u64().unwrap();
        assert!(
            current >= published_at_least,
            "acknowledged publishes survive: {current} < {published_at_least}"
        );
        let versions = list["versions"].as_array().unwrap();
        assert_eq!(versions.len() as u64, current, "no gaps");
        for (i, v) in versions.iter().enumerate() {
            assert_eq!(v["version"].as_u64().unwrap(), current - i as u64);
        }
        let top = s
            .get(&format!("/v1/apps/acme-erp/versions/{current}"))
            .json();
        let bundle = serde_json::to_vec(&top["bundle"]).unwrap();
        assert_eq!(
            verify_with(&s.public_key(), &bundle, None).policy.version(),
            current
        );
        let served = s.get("/v1/apps/acme-erp/bundle");
        assert_eq!(
            served.header("x-fieldgate-version"),
            Some(current.to_string().as_str())
        );
        published_at_least = current;
    }
    assert!(
        published_at_least > 5,
        "publishes happened between the crashes"
    );
}

#[test]
fn serves_the_demo_pages_and_the_package() {
    let s = Server::start("server-static");
    let index = s.get("/");
    assert_eq!(index.status, 200);
    assert!(index.text().contains("<html"), "www/index.html");
    assert_eq!(s.get("/admin").status, 200);
}
