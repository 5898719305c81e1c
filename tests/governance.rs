//! Governance on a real `fieldgate serve`: the data access log (reads with the sensitive
//! fields shown unmasked, refusals, client-reported events), alerts on repeated refusals (in
//! the list, on the admin event stream, at a webhook).

mod common;

use common::server::Server;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

fn access(s: &Server, query: &str) -> Vec<Value> {
    let r = s.admin("GET", &format!("/v1/audit/access?{query}"), &Value::Null);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["entries"].as_array().unwrap().clone()
}

#[test]
fn the_access_log_records_reads_unmasked_fields_and_refusals() {
    let s = Server::start("gov-access");
    let alice = s.login("u-alice");
    // Her own customer: the phone shows unmasked; someone else's: masked, so not listed.
    assert_eq!(
        s.user(&alice, "GET", "/v1/data/customer/c-1001", &Value::Null)
            .status,
        200
    );
    assert_eq!(
        s.user(&alice, "GET", "/v1/data/customer/c-1003", &Value::Null)
            .status,
        200
    );
    let views = access(&s, "user=u-alice&resource=customer");
    let own = views
        .iter()
        .find(|e| e["records"] == json!(["c-1001"]))
        .unwrap();
    let other = views
        .iter()
        .find(|e| e["records"] == json!(["c-1003"]))
        .unwrap();
    assert_eq!(
        (
            own["action"].clone(),
            own["outcome"].clone(),
            own["source"].clone()
        ),
        (json!("view"), json!("ok"), json!("server"))
    );
    let shown = |e: &Value| {
        e["unmasked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(shown(own).contains(&"phone".to_string()), "{own}");
    assert!(!shown(other).contains(&"phone".to_string()), "{other}");
    assert!(
        !shown(other).contains(&"credit_limit".to_string()),
        "hidden is not shown at all"
    );

    // The list names each record returned.
    assert_eq!(
        s.user(&alice, "GET", "/v1/data/customer", &Value::Null)
            .status,
        200
    );
    let list = access(&s, "user=u-alice&resource=customer")
        .into_iter()
        .find(|e| e["action"] == "list")
        .unwrap();
    assert_eq!(list["records"].as_array().unwrap().len(), 4);

    // Refusals: editing bob's customer, writing a read-only field, viewing an order she may
    // not see (a 404 for her, a refusal in the log).
    let r = s.user(
        &alice,
        "PUT",
        "/v1/data/customer/c-1003",
        &json!({"notes": "x"}),
    );
    assert_eq!(r.status, 403);
    let r = s.user(
        &alice,
        "PUT",
        "/v1/data/customer/c-1001",
        &json!({"credit_limit": 1}),
    );
    assert_eq!(r.json()["code"], "forbidden_fields");
    let r = s.user(&alice, "GET", "/v1/data/inbound_order/o-2001", &Value::Null);
    assert_eq!(r.status, 404);
    let refusals = access(&s, "user=u-alice");
    let outcome = |action: &str, record: &str| {
        refusals
            .iter()
            .find(|e| e["action"] == action && e["records"] == json!([record]))
            .map(|e| (e["outcome"].clone(), e["fields"].clone()))
            .unwrap()
    };
    assert_eq!(outcome("edit", "c-1003"), (json!("forbidden"), json!([])));
    assert_eq!(
        outcome("edit", "c-1001"),
        (json!("forbidden_fields"), json!(["credit_limit"]))
    );
    assert_eq!(outcome("view", "o-2001"), (json!("forbidden"), json!([])));

    // A record filter, CSV and XLSX exports.
    let one = access(&s, "record=c-1003");
    assert!(one
        .iter()
        .all(|e| e["records"].as_array().unwrap().contains(&json!("c-1003"))));
    assert!(one.len() >= 2);
    let csv = s.admin(
        "GET",
        "/v1/audit/access?format=csv&user=u-alice",
        &Value::Null,
    );
    assert!(csv
        .text()
        .trim_start_matches('\u{feff}')
        .starts_with(
            "\"at\",\"user\",\"action\",\"resource\",\"records\",\"unmasked\",\"outcome\",\"fields\",\"source\""
        ));
    assert!(csv.text().contains("forbidden_fields"));
    let xlsx = s.admin("GET", "/v1/audit/access?format=xlsx", &Value::Null);
    assert_eq!(&xlsx.body[..2], b"PK");
    assert_eq!(s.get("/v1/audit/access").status, 401, "admins only");

    // Client-reported events go beside them, marked; a refused attempt is a refusal, a refused
    // check (drawing a button) only a note.
    let events = json!({"events": [
        {"subject": "u-alice", "action": "delete", "resource": "customer", "allow": false, "kind": "attempt", "record": "c-1003", "version": 1, "at": 1},
        {"subject": "u-alice", "action": "export", "resource": "customer", "allow": false, "kind": "check", "version": 1, "at": 2},
    ]});
    assert_eq!(s.user(&alice, "POST", "/v1/decisions", &events).status, 200);
    let client = access(&s, "source=client");
    let outcomes: Vec<(Value, Value)> = client
        .iter()
        .map(|e| (e["action"].clone(), e["outcome"].clone()))
        .collect();
    assert!(
        outcomes.contains(&(json!("delete"), json!("forbidden"))),
        "{client:?}"
    );
    assert!(
        outcomes.contains(&(json!("export"), json!("refused_check"))),
        "{client:?}"
    );
    assert!(client.iter().all(|e| e["user"] == "u-alice"));
}

/// A one-shot HTTP receiver on loopback: the body of the first POST it gets.
fn receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut len = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        conn.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            .unwrap();
        tx.send(String::from_utf8(body).unwrap()).unwrap();
    });
    (url, rx)
}

#[test]
fn repeated_refusals_raise_one_alert_listed_pushed_and_posted() {
    let (url, hook) = receiver();
    let s = Server::start_in(
        common::temp_dir("gov-alerts"),
        &[
            "--alert-refusals",
            "3",
            "--alert-window",
            "1m",
            "--alert-webhook",
            &url,
        ],
    );
    // An admin page listening for admin events.
    let ticket = s.events_ticket();
    let mut events = s.event_stream(Some(&ticket));
    assert_eq!(
        s.get(&format!("/v1/events?ticket={ticket}")).status,
        401,
        "a ticket works once"
    );

    let bob = s.login("u-bob");
    for _ in 0..2 {
        assert_eq!(
            s.user(
                &bob,
                "PUT",
                "/v1/data/customer/c-1002",
                &json!({"notes": "x"})
            )
            .status,
            403
        );
    }
    let none = s.admin("GET", "/v1/audit/alerts", &Value::Null).json();
    assert_eq!(
        none["alerts"],
        json!([]),
        "two refusals are below the threshold"
    );
    for _ in 0..3 {
        assert_eq!(
            s.user(
                &bob,
                "PUT",
                "/v1/data/customer/c-1002",
                &json!({"notes": "x"})
            )
            .status,
            403
        );
    }
    let alerts = s.admin("GET", "/v1/audit/alerts", &Value::Null).json()["alerts"].clone();
    assert_eq!(
        alerts.as_array().unwrap().len(),
        1,
        "one alert per window: {alerts}"
    );
    assert_eq!(alerts[0]["user"], "u-bob");
    assert_eq!(alerts[0]["detail"]["refusals"], 3);
    assert_eq!(alerts[0]["detail"]["last"]["records"], json!(["c-1002"]));

    let posted: Value =
        serde_json::from_str(&hook.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(posted["type"], "fieldgate.alert");
    assert_eq!(posted["alert"]["user"], "u-bob");

    let mut line = String::new();
    let pushed = loop {
        line.clear();
        assert!(events.read_line(&mut line).unwrap() > 0, "the stream ended");
        if line.starts_with("event: alert") {
            line.clear();
            events.read_line(&mut line).unwrap();
            break line.trim_start_matches("data:").trim().to_string();
        }
    };
    let pushed: Value = serde_json::from_str(&pushed).unwrap();
    assert_eq!(pushed["alert"]["user"], "u-bob");
}

#[test]
fn old_access_entries_are_pruned_by_retention() {
    // A retention of zero prunes everything older than now at start and hourly; the entries a
    // running server writes stay until the next pass. Here: a restart prunes them.
    let dir = common::temp_dir("gov-retention");
    let s = Server::start_in(dir.clone(), &[]);
    let alice = s.login("u-alice");
    s.user(&alice, "GET", "/v1/data/customer/c-1001", &Value::Null);
    assert_eq!(access(&s, "user=u-alice").len(), 1);
    drop(s);
    let s = Server::start_in(dir, &["--access-retention", "1ms"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(access(&s, "user=u-alice"), Vec::<Value>::new());
}

#[test]
fn the_approval_flow_moves_orders_and_nobody_approves_their_own() {
    let s = Server::start("gov-flow");
    // A person who is both purchaser and approver (the case separation of duties is about).
    let mut csv =
        std::fs::read_to_string(common::root().join("examples/acme-erp.directory.csv")).unwrap();
    csv.push_str("u-zed,Zed Wu,purchasing,,purchaser;approver,Buyer and approver\n");
    let r = s.publish_people(csv.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());

    let zed = s.login("u-zed");
    let made = s.user(
        &zed,
        "POST",
        "/v1/data/inbound_order",
        &json!({"order_no": "PO-9", "quantity": 5}),
    );
    assert_eq!(made.status, 201, "{}", made.text());
    let id = made.json()["id"].as_str().unwrap().to_string();
    let step = |who: &str, what: &str, body: &Value| {
        s.user(
            who,
            "POST",
            &format!("/v1/data/inbound_order/{id}/{what}"),
            body,
        )
    };
    let early = step(&zed, "approve", &Value::Null);
    assert_eq!(
        (early.status, early.json()["code"].clone()),
        (409, json!("wrong_status")),
        "a draft is not for approval: the flow takes it from pending only"
    );
    let sent = step(&zed, "submit", &Value::Null);
    assert_eq!(
        (sent.status, sent.json()["status"].clone()),
        (200, json!("pending")),
        "{}",
        sent.text()
    );
    let own = step(&zed, "approve", &Value::Null);
    assert_eq!(
        (own.status, own.json()["code"].clone()),
        (403, json!("forbidden")),
        "nobody approves what they submitted (the flow's separation rule, from the history)"
    );
    assert_eq!(step(&zed, "reject", &json!({"comment": "no"})).status, 403);

    let frank = s.login("u-frank");
    let bare = step(&frank, "reject", &Value::Null);
    assert_eq!(
        (bare.status, bare.json()["code"].clone()),
        (422, json!("comment_required")),
        "a rejection says why"
    );
    let ok = step(&frank, "approve", &json!({"comment": "fine"}));
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        ok.json()["status"],
        json!("approved"),
        "a small order has one step"
    );
    let history = &ok.json()["_flow"]["history"];
    let said: Vec<(Value, Value, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].clone(), e["by"].clone(), e["comment"].clone()))
        .collect();
    assert_eq!(
        said,
        [
            (json!("submit"), json!("u-zed"), Value::Null),
            (json!("approve:manager"), json!("u-frank"), json!("fine"))
        ]
    );
    // The history is the record's, for whoever may view it.
    let read = s.user(
        &zed,
        "GET",
        &format!("/v1/data/inbound_order/{id}/history"),
        &Value::Null,
    );
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.json()["history"], *history);
    assert_eq!(read.json()["state"], "approved");
    let alice = s.login("u-alice");
    let hidden = s.user(
        &alice,
        "GET",
        &format!("/v1/data/inbound_order/{id}/history"),
        &Value::Null,
    );
    assert_eq!(
        hidden.status,
        404,
        "sales do not see inbound orders: {}",
        hidden.text()
    );
    let again = step(&frank, "approve", &Value::Null);
    assert_eq!(
        (again.status, again.json()["code"].clone()),
        (409, json!("wrong_status")),
        "approved is past approval: {}",
        again.text()
    );
    let erin = s.login("u-erin");
    let got = step(&erin, "receive", &Value::Null);
    assert_eq!(
        (got.status, got.json()["status"].clone()),
        (200, json!("received")),
        "{}",
        got.text()
    );
    let late = step(&erin, "receive", &Value::Null);
    assert_eq!(late.status, 409, "received is the flow's end");
    let grace = s.login("u-grace");
    let wrong = step(&grace, "approve", &Value::Null);
    assert_eq!(
        (wrong.status, wrong.json()["code"].clone()),
        (409, json!("wrong_status")),
        "the admin may, but not from `received`"
    );
    assert_eq!(step(&grace, "ship", &Value::Null).status, 404);

    let log = access(&s, &format!("record={id}"));
    let steps: Vec<(String, String, String)> = log
        .iter()
        .rev()
        .filter(|e| e["action"] != "create")
        .map(|e| {
            (
                e["user"].as_str().unwrap().into(),
                e["action"].as_str().unwrap().into(),
                e["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = [
        ("u-zed", "approve", "wrong_status"),
        ("u-zed", "submit", "ok"),
        ("u-zed", "approve", "forbidden"),
        ("u-zed", "reject", "forbidden"),
        ("u-frank", "reject", "comment_required"),
        ("u-frank", "approve", "ok"),
        ("u-zed", "view", "ok"),
        ("u-alice", "view", "forbidden"),
        ("u-frank", "approve", "wrong_status"),
        ("u-erin", "receive", "ok"),
        ("u-erin", "receive", "wrong_status"),
        ("u-grace", "approve", "wrong_status"),
        ("u-grace", "ship", "not_found"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(steps, expect);
}

#[test]
fn drafts_are_kept_per_admin_and_a_stale_save_is_refused() {
    let s = Server::start("gov-drafts");
    assert_eq!(
        s.admin("GET", "/v1/apps/acme-erp/draft", &Value::Null)
            .status,
        404
    );
    let doc = s
        .admin("GET", "/v1/apps/acme-erp/versions/1", &Value::Null)
        .json()["document"]
        .clone();
    let body = json!({"document": doc, "base": 1});
    let first = s.admin("PUT", "/v1/apps/acme-erp/draft", &body);
    assert_eq!(
        (first.status, first.json()["revision"].clone()),
        (200, json!(1)),
        "{}",
        first.text()
    );
    let got = s.admin("GET", "/v1/apps/acme-erp/draft", &Value::Null);
    assert_eq!(got.header("etag"), Some("\"d1\""));
    assert_eq!(got.json()["base"], 1);
    assert_eq!(got.json()["document"], doc);
    let auth = format!("Bearer {}", s.token());
    let save = |tag: &str| {
        s.call(
            "PUT",
            "/v1/apps/acme-erp/draft",
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
                ("if-match", tag),
            ],
            body.to_string().as_bytes(),
        )
    };
    assert_eq!(
        save("\"d1\"").json()["revision"],
        2,
        "a save from the revision it read"
    );
    let stale = save("\"d1\"");
    assert_eq!(
        (
            stale.status,
            stale.json()["code"].clone(),
            stale.json()["detail"]["revision"].clone()
        ),
        (412, json!("stale_draft"), json!(2))
    );
    // Another admin has their own draft.
    let other = common::stdout(&common::fieldgate(
        &["admin", "add", "olga", "--data", s.data.to_str().unwrap()],
        "",
    ))
    .trim()
    .to_string();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        s.admin_as(&other, "GET", "/v1/apps/acme-erp/draft", &Value::Null)
            .status,
        404
    );
    let audit = s.admin("GET", "/v1/audit?kind=draft", &Value::Null).json();
    assert_eq!(
        audit["entries"].as_array().unwrap().len(),
        2,
        "each stored save, not the refused one"
    );
    assert_eq!(
        s.admin("DELETE", "/v1/apps/acme-erp/draft", &Value::Null)
            .status,
        204
    );
    assert_eq!(
        s.admin("GET", "/v1/apps/acme-erp/draft", &Value::Null)
            .status,
        404
    );
}

#[test]
fn an_access_review_campaign_from_opening_to_the_revocation_draft() {
    let s = Server::start("gov-review");
    let open = s.admin(
        "POST",
        "/v1/apps/acme-erp/reviews",
        &json!({"resources": ["customer"], "reviewers": {"departments": {"sales-east": "u-carol", "*": "u-grace"}}}),
    );
    assert_eq!(open.status, 201, "{}", open.text());
    let id = open.json()["id"].as_i64().unwrap();
    assert!(open.json()["lines"].as_u64().unwrap() > 0);

    let carol = s.login("u-carol");
    let mine = s
        .user(&carol, "GET", "/v1/reviews/mine", &Value::Null)
        .json();
    let lines = mine["campaigns"][0]["lines"].as_array().unwrap().clone();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l["reviewer"] == "u-carol" && l["line"]["department"] == "sales-east"),
        "{lines:?}"
    );
    let phone = lines
        .iter()
        .find(|l| l["line"]["person"] == "u-alice" && l["line"]["item"] == "field:phone")
        .unwrap_or_else(|| panic!("alice's phone is reviewed: {lines:?}"));
    let keep = lines.iter().find(|l| l["n"] != phone["n"]).unwrap();
    let decide = |who: &str, n: &Value, d: &str| {
        s.user(
            who,
            "POST",
            &format!("/v1/apps/acme-erp/reviews/{id}/decisions"),
            &json!({"decisions": [{"n": n, "decision": d, "note": "quarterly"}]}),
        )
    };
    assert_eq!(decide(&carol, &phone["n"], "revoke").json()["decided"], 1);
    assert_eq!(decide(&carol, &keep["n"], "keep").status, 200);
    assert_eq!(decide(&carol, &keep["n"], "maybe").status, 400);
    let grace = s.login("u-grace");
    let theirs = decide(&grace, &phone["n"], "keep");
    assert_eq!(
        (theirs.status, theirs.json()["code"].clone()),
        (403, json!("forbidden")),
        "only the line's reviewer decides it"
    );

    let one = s
        .admin(
            "GET",
            &format!("/v1/apps/acme-erp/reviews/{id}"),
            &Value::Null,
        )
        .json();
    let stored = one["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["n"] == phone["n"])
        .unwrap()
        .clone();
    assert_eq!(
        (
            stored["decision"].clone(),
            stored["decided_by"].clone(),
            stored["note"].clone()
        ),
        (json!("revoke"), json!("u-carol"), json!("quarterly"))
    );
    assert!(stored["decided_at"].is_i64());

    let closed = s.admin(
        "POST",
        &format!("/v1/apps/acme-erp/reviews/{id}/close"),
        &Value::Null,
    );
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert_eq!(closed.json()["outcome"]["revoked"], 1);
    assert_eq!(
        s.admin(
            "POST",
            &format!("/v1/apps/acme-erp/reviews/{id}/close"),
            &Value::Null
        )
        .status,
        409
    );
    assert_eq!(
        decide(&carol, &keep["n"], "revoke").status,
        409,
        "a closed review takes no decisions"
    );

    // The draft takes exactly that away; publishing it makes it so.
    let draft = s
        .admin("GET", "/v1/apps/acme-erp/draft", &Value::Null)
        .json();
    assert_eq!(draft["base"], 1);
    let published = s.admin("POST", "/v1/apps/acme-erp/policy", &draft["document"]);
    assert_eq!(published.status, 201, "{}", published.text());
    let lines = published.json()["summary"]["lines"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        lines
            .iter()
            .all(|l| l.as_str().unwrap().starts_with("Alice Chen")),
        "only alice changes: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("Customer › Phone")),
        "{lines:?}"
    );

    let xlsx = s.admin(
        "GET",
        &format!("/v1/apps/acme-erp/reviews/{id}/report.xlsx"),
        &Value::Null,
    );
    assert_eq!(&xlsx.body[..2], b"PK");
    let html = s
        .admin(
            "GET",
            &format!("/v1/apps/acme-erp/reviews/{id}/report.html"),
            &Value::Null,
        )
        .text();
    assert!(html.contains("Totals") && html.contains("quarterly") && html.contains("u-carol"));
    // In the reader's language.
    let auth = format!("Bearer {}", s.token());
    let zh = s.call(
        "GET",
        &format!("/v1/apps/acme-erp/reviews/{id}/report.html"),
        &[("authorization", &auth), ("accept-language", "zh-CN")],
        b"",
    );
    let zh = zh.text();
    assert!(
        zh.contains("权限复核") && zh.contains("汇总") && zh.contains("u-carol"),
        "{zh}"
    );
    assert!(!zh.contains("Totals"));
    let log = s.call(
        "GET",
        "/v1/audit/access?format=csv",
        &[("authorization", &auth), ("accept-language", "zh-CN")],
        b"",
    );
    assert!(
        log.text()
            .trim_start_matches('\u{feff}')
            .starts_with("\"时间\""),
        "{}",
        log.text()
    );
    let list = s
        .admin("GET", "/v1/apps/acme-erp/reviews", &Value::Null)
        .json();
    let cov = |r: &str| {
        list["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["resource"] == r)
            .unwrap()
            .clone()
    };
    assert_eq!(cov("customer")["overdue"], false);
    assert!(cov("customer")["last_reviewed_at"].is_i64());
    assert_eq!(cov("inbound_order")["overdue"], true, "never reviewed");
    let kinds: Vec<Value> = s.admin("GET", "/v1/audit", &Value::Null).json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert!(
        kinds.contains(&json!("review_open")) && kinds.contains(&json!("review_close")),
        "{kinds:?}"
    );
}

#[test]
fn a_backup_taken_under_write_load_restores_with_nothing_acknowledged_missing() {
    let dir = common::temp_dir("gov-backup");
    let s = Server::start_in(dir.clone(), &[]);
    let data = s.data.clone();
    let old_token = s.token();
    // Writers: alice edits her customer's notes with an increasing counter; each acknowledged
    // write is remembered with the time it was acknowledged.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::Mutex::new(
        Vec::<(std::time::Instant, u64)>::new(),
    ));
    let alice = s.login("u-alice");
    let writer = {
        let (stop, acked, addr, origin) = (stop.clone(), acked.clone(), s.addr.clone(), s.origin());
        std::thread::spawn(move || {
            let mut k = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                k += 1;
                let body = json!({"notes": format!("n{k}")}).to_string();
                let r = common::server::request(
                    &addr,
                    "PUT",
                    "/v1/data/customer/c-1001",
                    &[
                        ("cookie", &alice),
                        ("origin", &origin),
                        ("content-type", "application/json"),
                    ],
                    body.as_bytes(),
                );
                if r.status == 200 {
                    acked.lock().unwrap().push((std::time::Instant::now(), k));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let file = dir.join("backup.db");
    let out = common::fieldgate(
        &[
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    let before: u64 = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _)| *t < started)
        .map(|(_, k)| *k)
        .max()
        .unwrap();
    assert!(
        before > 0,
        "writes were acknowledged before the backup began"
    );
    drop(s);

    // Into a fresh directory: refused over a non-empty one, then restored, then served.
    let fresh = common::temp_dir("gov-restore").join("data");
    let r = common::fieldgate(
        &[
            "restore",
            "--in",
            file.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        !r.status.success(),
        "a directory with data is not overwritten without --force"
    );
    let r = common::fieldgate(
        &[
            "restore",
            "--in",
            file.to_str().unwrap(),
            "--data",
            fresh.to_str().unwrap(),
        ],
        "",
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(common::stdout(&r).contains("acme-erp v1"));
    // Without --include-keys there is no signing key: the server refuses to start ...
    let refused = Server::try_start_in(fresh.parent().unwrap().to_path_buf(), &[]);
    assert!(refused.is_err(), "no key, no start");
    // ... until the key is put back.
    std::fs::copy(data.join("signing.key"), fresh.join("signing.key")).unwrap();
    let s = Server::start_in(fresh.parent().unwrap().to_path_buf(), &[]);
    let bob = s.login("u-alice");
    let notes = s
        .user(&bob, "GET", "/v1/data/customer/c-1001", &Value::Null)
        .json()["notes"]
        .clone();
    let kept: u64 = notes
        .as_str()
        .unwrap()
        .trim_start_matches('n')
        .parse()
        .unwrap();
    assert!(
        kept >= before,
        "write n{before} was acknowledged before the backup began, the backup has n{kept}"
    );
    let versions = s
        .admin("GET", "/v1/apps/acme-erp/versions", &Value::Null)
        .json();
    assert_eq!(versions["current"], 1);
    assert_eq!(
        s.admin_as(
            &old_token,
            "GET",
            "/v1/apps/acme-erp/versions",
            &Value::Null
        )
        .status,
        401,
        "the admin `admin` takes this directory's token; named admins come with the database"
    );
}

#[test]
fn a_backup_with_keys_restores_whole_and_a_damaged_one_is_refused() {
    let s = Server::start("gov-backup-keys");
    let data = s.data.clone();
    let token = s.token();
    let p = s.admin("POST", "/v1/apps/acme-erp/rollback-to/1", &Value::Null);
    assert_eq!(p.status, 201);
    let file = data.parent().unwrap().join("with-keys.db");
    let out = common::fieldgate(
        &[
            "backup",
            "--data",
            data.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
            "--include-keys",
        ],
        "",
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds the signing key"));
    drop(s);
    let fresh = common::temp_dir("gov-restore-keys");
    let r = common::fieldgate(
        &[
            "restore",
            "--in",
            file.to_str().unwrap(),
            "--data",
            fresh.join("data").to_str().unwrap(),
        ],
        "",
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let s = Server::start_in(fresh, &["--admin-token", &token]);
    let v = s
        .admin_as(&token, "GET", "/v1/apps/acme-erp/versions", &Value::Null)
        .json();
    assert_eq!(v["current"], 2, "the same current version");
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);
    drop(s);

    // A tampered bundle inside the backup: refused, nothing restored.
    let tampered = data.parent().unwrap().join("tampered.db");
    std::fs::copy(&file, &tampered).unwrap();
    tamper_first_payload(&tampered);
    let target = common::temp_dir("gov-restore-bad").join("data");
    let r = common::fieldgate(
        &[
            "restore",
            "--in",
            tampered.to_str().unwrap(),
            "--data",
            target.to_str().unwrap(),
        ],
        "",
    );
    assert!(!r.status.success());
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!target.join("fieldgate.db").exists());

    // A damaged database in a data directory: the server refuses to start, with why.
    let db = data.join("fieldgate.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(100).take(4000) {
        *b ^= 0x5a;
    }
    std::fs::write(&db, bytes).unwrap();
    let _ = std::fs::remove_file(data.join("fieldgate.db-wal"));
    let e = Server::try_start_in(data.parent().unwrap().to_path_buf(), &[])
        .err()
        .expect("a damaged database is refused");
    assert!(
        e.contains("fieldgate.db")
            && (e.contains("damaged") || e.contains("malformed") || e.contains("not a database")),
        "{e}"
    );
}

/// Flips one base64 letter of the first stored bundle's payload, in the file's bytes, so the
/// payload no longer matches its signature.
fn tamper_first_payload(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    // The bundle is JSON with a base64 payload; flip one base64 letter inside the first payload.
    let needle = b"\"payload\":\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
        + needle.len()
        + 40;
    let mut changed = bytes.clone();
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(path, changed).unwrap();
}

/// Runs `fieldgate backup` of `data` into `file` with extra arguments.
fn backup(data: &std::path::Path, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "backup",
        "--data",
        data.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::fieldgate(&args, "")
}

/// Runs `fieldgate restore` of `file` into `data` with extra arguments.
fn restore(file: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "restore",
        "--in",
        file.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    common::fieldgate(&args, "")
}

/// A backup whose current document was changed after it was taken (u-alice made `admin`,
/// triggers dropped, bundles left signed and valid) is refused: the server enforces and
/// re-signs the document, so it must be the policy its bundle signed. Nothing is restored.
#[test]
fn a_backup_with_a_changed_document_is_refused() {
    let s = Server::start("gov-restore-forged");
    let file = s.data.parent().unwrap().join("plain.db");
    let out = backup(&s.data, &file, &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    drop(s);
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        let doc: String = c
            .query_row("SELECT document FROM versions WHERE version = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut doc: Value = serde_json::from_str(&doc).unwrap();
        doc["assignments"]["users"]["u-alice"] = json!(["admin"]);
        c.execute_batch("DROP TRIGGER versions_no_update").unwrap();
        c.execute(
            "UPDATE versions SET document = ?1 WHERE version = 1",
            [doc.to_string()],
        )
        .unwrap();
    }
    let target = common::temp_dir("gov-restore-forged-into").join("data");
    let r = restore(&file, &target, &[]);
    assert!(!r.status.success());
    assert!(
        common::stderr(&r).contains("not the policy its bundle signed"),
        "{}",
        common::stderr(&r)
    );
    assert!(!target.join("fieldgate.db").exists(), "nothing restored");
}

/// Credentials come back from a backup only with `--include-credentials`: without it, a
/// token added to the file (or revoked since it was taken) stays out, and a directory
/// restored over keeps its own.
#[test]
fn a_restore_takes_credentials_only_when_asked() {
    let s = Server::start("gov-restore-credentials");
    let data = s.data.clone();
    let add = |name: &str, dir: &std::path::Path| {
        let out = common::fieldgate(&["admin", "add", name, "--data", dir.to_str().unwrap()], "");
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::stdout(&out).trim().to_string()
    };
    let olga = add("olga", &data);
    let file = data.parent().unwrap().join("creds.db");
    let out = backup(&data, &file, &["--include-keys"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let token = s.token();
    drop(s);
    let names = |dir: &std::path::Path| {
        let out = common::fieldgate(&["admin", "list", "--data", dir.to_str().unwrap()], "");
        common::stdout(&out)
    };

    // Into an empty directory: no credentials without the flag.
    let fresh = common::temp_dir("gov-restore-creds-fresh");
    let r = restore(&file, &fresh.join("data"), &[]);
    assert!(r.status.success(), "{}", common::stderr(&r));
    assert!(
        common::stdout(&r).contains("credentials: none"),
        "{}",
        common::stdout(&r)
    );
    assert!(!names(&fresh.join("data")).contains("olga"));
    let s = Server::start_in(fresh, &["--admin-token", &token]);
    assert_eq!(
        s.admin_as(&olga, "GET", "/v1/apps/acme-erp/versions", &Value::Null)
            .status,
        401,
        "olga's token did not come back"
    );
    drop(s);

    // With the flag: they come back.
    let asked = common::temp_dir("gov-restore-creds-asked");
    let r = restore(&file, &asked.join("data"), &["--include-credentials"]);
    assert!(r.status.success(), "{}", common::stderr(&r));
    assert!(names(&asked.join("data")).contains("olga"));

    // Over a directory (--force): it keeps its own credentials, not the backup's.
    let over = common::temp_dir("gov-restore-creds-over");
    let r = restore(&file, &over.join("data"), &[]);
    assert!(r.status.success(), "{}", common::stderr(&r));
    add("piet", &over.join("data"));
    let r = restore(&file, &over.join("data"), &["--force"]);
    assert!(r.status.success(), "{}", common::stderr(&r));
    assert!(
        common::stdout(&r).contains("own 1 kept"),
        "{}",
        common::stdout(&r)
    );
    let listed = names(&over.join("data"));
    assert!(
        listed.contains("piet") && !listed.contains("olga"),
        "{listed}"
    );
}

/// `backup --out` never follows a link, even a dangling one, to write elsewhere.
#[test]
fn a_backup_does_not_follow_a_link() {
    let s = Server::start("gov-backup-link");
    let dir = s.data.parent().unwrap().to_path_buf();
    let elsewhere = dir.join("elsewhere.db");
    let link = dir.join("link.db");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let out = backup(&s.data, &link, &[]);
    assert!(!out.status.success());
    assert!(
        common::stderr(&out).contains("exists"),
        "{}",
        common::stderr(&out)
    );
    assert!(!elsewhere.exists());
}

/// A CA and a certificate for `localhost` it signed, made with openssl in `dir`: `(ca.pem,
/// server.pem, server.key)`.
fn localhost_certificate(dir: &std::path::Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=fieldgate-test-ca",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    let p = |f: &str| dir.join(f).display().to_string();
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

/// An https server on loopback (Python's, with the certificate) that prints each body posted
/// to it; its port and what it printed, line by line.
fn https_receiver(
    cert: &str,
    key: &str,
) -> (std::process::Child, u16, std::sync::mpsc::Receiver<String>) {
    let script = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['content-length']))
        print(body.decode(), flush=True)
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
srv = http.server.HTTPServer(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, cert, key])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut port = String::new();
    out.read_line(&mut port).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    (child, port.trim().parse().unwrap(), rx)
}

/// Alerts go to an https webhook, its certificate checked in full (chain and name) against
/// `--alert-webhook-ca` (only http:// webhooks were possible before).
#[test]
fn alerts_are_posted_to_an_https_webhook_whose_certificate_is_checked() {
    let dir = common::temp_dir("gov-https-hook");
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = localhost_certificate(&dir);
    let (mut python, port, posted) = https_receiver(&cert, &key);
    let refuse = |s: &Server| {
        let bob = s.login("u-bob");
        for _ in 0..2 {
            let r = s.user(
                &bob,
                "PUT",
                "/v1/data/customer/c-1002",
                &json!({"notes": "x"}),
            );
            assert_eq!(r.status, 403);
        }
    };
    // Trusted CA, the name on the certificate: posted.
    let url = format!("https://localhost:{port}/hook");
    let s = Server::start_in(
        common::temp_dir("gov-https-hook-ok"),
        &[
            "--alert-refusals",
            "2",
            "--alert-webhook",
            &url,
            "--alert-webhook-ca",
            &ca,
        ],
    );
    refuse(&s);
    let body: Value =
        serde_json::from_str(&posted.recv_timeout(Duration::from_secs(10)).unwrap()).unwrap();
    assert_eq!(
        (body["type"].clone(), body["alert"]["user"].clone()),
        (json!("fieldgate.alert"), json!("u-bob"))
    );
    drop(s);
    // Another name than the certificate's, or the built-in roots (which do not know this CA):
    // nothing is posted.
    for (url, ca) in [
        (format!("https://127.0.0.1:{port}/hook"), Some(ca.as_str())),
        (url.clone(), None),
    ] {
        let mut args = vec!["--alert-refusals", "2", "--alert-webhook", url.as_str()];
        if let Some(ca) = ca {
            args.extend(["--alert-webhook-ca", ca]);
        }
        let s = Server::start_in(common::temp_dir("gov-https-hook-bad"), &args);
        refuse(&s);
        assert!(
            posted.recv_timeout(Duration::from_secs(3)).is_err(),
            "{url}: nothing posted to a server whose certificate does not check"
        );
        assert!(
            s.log().contains("webhook"),
            "the failure is logged: {}",
            s.log()
        );
    }
    // A CA file that cannot be read stops the start.
    let e = Server::try_start_in(
        common::temp_dir("gov-https-hook-noca"),
        &[
            "--alert-webhook",
            &url,
            "--alert-webhook-ca",
            "/nonexistent/ca.pem",
        ],
    )
    .err()
    .expect("refused");
    assert!(e.contains("CA file"), "{e}");
    let _ = python.kill();
}
