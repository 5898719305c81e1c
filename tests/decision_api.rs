//! The decision API of `fieldgate serve`: `check` batches (subjects from the directory, errors in
//! place, pinned versions), `filter` trees and SQL, service credentials, and the golden
//! fixtures replayed through `check` so the server answers as `fieldgate eval` does.

mod common;

use common::server::{sample_policy, Server};
use serde_json::{json, Value};

fn service(s: &Server, name: &str) -> String {
    let out = common::fieldgate(
        &["service", "add", name, "--data", s.data.to_str().unwrap()],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::stdout(&out).trim().to_string()
}

fn check(s: &Server, token: &str, body: &Value) -> common::server::Reply {
    s.admin_as(token, "POST", "/v1/apps/acme-erp/check", body)
}

#[test]
fn a_batch_answers_each_request_in_order_with_errors_in_place() {
    let s = Server::start("decide-batch");
    let token = service(&s, "orders-backend");
    let mine = json!({"id": "c-1", "owner_id": "u-alice", "bank_account": "6222020200112233", "name": "A"});
    let theirs = json!({"id": "c-2", "owner_id": "u-bob", "phone": "13812345678", "name": "B"});
    let body = json!({
        "subject": {"id": "u-alice"},
        "requests": [
            {"action": "edit", "resource": "customer", "record": mine, "want": ["allow", "fields"]},
            {"action": "edit", "resource": "customer", "record": theirs},
            {"action": "edit", "resource": "invoice"},
            {"mode": "sideways", "resource": "customer"},
            {"mode": "view", "resource": "customer", "record": mine, "want": ["redact"]},
            {"mode": "edit", "resource": "customer", "record": mine,
             "data": {"name": "New", "tier": "vip", "owner_id": "u-bob"}, "want": ["writable"]},
            {"action": "edit", "resource": "customer", "wnat": ["allow"]},
        ]
    });
    let r = check(&s, &token, &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-fieldgate-version"), Some("1"));
    let out = r.json();
    assert_eq!(out["version"], 1);
    let res = out["results"].as_array().unwrap();
    assert_eq!(res.len(), 7);
    assert_eq!(res[0]["allow"], true);
    assert_eq!(res[0]["fields"]["name"], "editable", "{}", res[0]);
    assert_eq!(res[0]["fields"]["bank_account"], "masked");
    assert_eq!(res[1], json!({"allow": false}));
    assert_eq!(res[2]["error"]["code"], "unknown_resource");
    assert_eq!(res[3]["error"]["code"], "bad_request");
    let shown = &res[4]["redacted"];
    assert_eq!(shown["name"], "A", "{shown}");
    let bank = shown["bank_account"].as_str().unwrap();
    assert!(bank.contains('*') && bank.ends_with("2233"), "{shown}");
    assert!(res[4].get("allow").is_none());
    let w = &res[5]["writable"];
    assert_eq!(w["name"], "New", "{w}");
    assert!(w.get("owner_id").is_none(), "{w}");
    assert!(res[6]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("wnat"));
}

#[test]
fn subjects_come_from_the_body_or_the_directory() {
    let s = Server::start("decide-subjects");
    let t = s.token();
    let order = json!({"created_by": "u-dave", "status": "pending", "department": "purchasing"});
    let ask = |subject: Value| {
        check(
            &s,
            &t,
            &json!({"subject": subject, "requests": [
                {"action": "approve", "resource": "inbound_order", "record": order}]}),
        )
    };
    // u-frank is an approver by the policy's assignments; the directory gives his department.
    assert_eq!(
        ask(json!({"id": "u-frank"})).json()["results"][0]["allow"],
        true
    );
    // A whole subject is taken as given: a role the directory does not know of counts.
    let given = ask(json!({"id": "u-x", "roles": ["approver"]})).json();
    assert_eq!(given["results"][0]["allow"], true, "{given}");
    let nobody = ask(json!({"id": "u-nobody"}));
    assert_eq!(
        (nobody.status, nobody.json()["code"].clone()),
        (404, json!("unknown_user"))
    );
    let bad = ask(json!({"id": 7, "roles": "approver"}));
    assert_eq!(
        (bad.status, bad.json()["code"].clone()),
        (400, json!("bad_request"))
    );
}

#[test]
fn a_pinned_version_answers_until_it_is_gone() {
    let s = Server::start("decide-versions");
    let t = s.token();
    let mut doc = sample_policy();
    doc["roles"]["sales"]["templates"] = json!(["customer_reader"]);
    let p = s.admin("POST", "/v1/apps/acme-erp/policy", &doc);
    assert_eq!(p.status, 201, "{}", p.text());
    let edit = |version: Value| {
        let mut body = json!({"subject": {"id": "u-alice"}, "requests": [
            {"action": "edit", "resource": "customer", "record": {"owner_id": "u-alice"}}]});
        if !version.is_null() {
            body["version"] = version;
        }
        check(&s, &t, &body)
    };
    let now = edit(Value::Null).json();
    assert_eq!(
        (now["version"].clone(), now["results"][0]["allow"].clone()),
        (json!(2), json!(false))
    );
    for _ in 0..2 {
        let then = edit(json!(1)).json();
        assert_eq!(
            (then["version"].clone(), then["results"][0]["allow"].clone()),
            (json!(1), json!(true))
        );
    }
    let gone = edit(json!(9));
    assert_eq!(
        (gone.status, gone.json()["code"].clone()),
        (410, json!("version_gone"))
    );
}

/// A version may be pinned only until a later one has replaced it for `--max-version-age`:
/// a backend pinning for ever kept answering with rights revoked since.
#[test]
fn a_version_replaced_longer_ago_than_the_max_age_is_gone() {
    let s = Server::start_in(
        common::temp_dir("decision-max-age"),
        &["--max-version-age", "1s"],
    );
    let t = s.token();
    let p = s.admin("POST", "/v1/apps/acme-erp/policy", &sample_policy());
    assert_eq!(p.status, 201, "{}", p.text());
    let body = json!({"subject": {"id": "u-alice"}, "version": 1, "requests": [
        {"action": "view", "resource": "customer"}]});
    assert_eq!(check(&s, &t, &body).status, 200, "replaced just now");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let old = check(&s, &t, &body);
    assert_eq!(
        (old.status, old.json()["code"].clone()),
        (410, json!("version_gone")),
        "{}",
        old.text()
    );
    assert!(old.text().contains("--max-version-age"));
    let current = json!({"subject": {"id": "u-alice"}, "version": 2, "requests": [
        {"action": "view", "resource": "customer"}]});
    assert_eq!(
        check(&s, &t, &current).status,
        200,
        "the current one is never too old"
    );
}

#[test]
fn batches_are_bounded() {
    let s = Server::start("decide-bounds");
    let one = json!({"action": "view", "resource": "customer"});
    let full = json!({"subject": {"id": "u-alice"}, "requests": vec![one.clone(); 1000]});
    let r = check(&s, &s.token(), &full);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 1000);
    let over = json!({"subject": {"id": "u-alice"}, "requests": vec![one; 1001]});
    let r = check(&s, &s.token(), &over);
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (413, json!("too_large"))
    );
}

#[test]
fn services_may_decide_and_read_bundles_and_nothing_else() {
    let s = Server::start("decide-services");
    let token = service(&s, "billing");
    let body = json!({"subject": {"id": "u-alice"}, "requests": [{"action": "view", "resource": "customer"}]});
    assert_eq!(check(&s, &token, &body).status, 200);
    assert_eq!(check(&s, "not-a-token", &body).status, 401);
    let anonymous = s.call(
        "POST",
        "/v1/apps/acme-erp/check",
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    );
    assert_eq!(anonymous.status, 401);
    let filter = json!({"subject": {"id": "u-alice"}, "resource": "customer", "action": "edit"});
    assert_eq!(
        s.admin_as(&token, "POST", "/v1/apps/acme-erp/filter", &filter)
            .status,
        200
    );
    assert_eq!(
        s.admin_as(&token, "GET", "/v1/apps/acme-erp/bundle", &Value::Null)
            .status,
        200
    );
    for (method, path, body) in [
        ("GET", "/v1/apps/acme-erp/versions", Value::Null),
        ("POST", "/v1/apps/acme-erp/policy", sample_policy()),
        ("GET", "/v1/audit", Value::Null),
        ("GET", "/v1/apps/acme-erp/directory", Value::Null),
    ] {
        let r = s.admin_as(&token, method, path, &body);
        assert_eq!(r.status, 401, "{method} {path}: {}", r.text());
    }
    let out = common::fieldgate(
        &[
            "service",
            "remove",
            "billing",
            "--data",
            s.data.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success());
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(
        check(&s, &token, &body).status,
        401,
        "a removed token stops working"
    );
}

#[test]
fn filters_come_as_trees_and_as_sql_or_not_at_all() {
    let s = Server::start("decide-filter");
    let t = s.token();
    let ask = |query: &str, body: Value| {
        s.admin_as(
            &t,
            "POST",
            &format!("/v1/apps/acme-erp/filter{query}"),
            &body,
        )
    };
    let body = json!({"subject": {"id": "u-alice"}, "resource": "customer", "action": "edit"});
    let tree = ask("", body.clone()).json();
    // Her own customers, and those shared with her.
    assert_eq!(
        tree["filter"],
        json!({"or": [
            {"op": "==", "left": {"attr": "owner_id"}, "right": {"value": "u-alice"}},
            {"op": "in", "left": {"value": "u-alice"}, "right": {"attr": "shared_with"}},
        ]})
    );
    assert!(tree.get("where").is_none());
    let pg = ask("?as=sql&dialect=postgres", body.clone()).json();
    assert_eq!(
        pg["where"],
        "((\"owner_id\" IS NOT DISTINCT FROM $1) OR COALESCE(CASE WHEN \
         jsonb_typeof((\"shared_with\")::jsonb) = 'array' THEN (\"shared_with\")::jsonb @> \
         jsonb_build_array(($2)::text) ELSE FALSE END, FALSE))",
        "{pg}"
    );
    assert_eq!(pg["params"], json!(["u-alice", "u-alice"]));
    let mut mapped = body.clone();
    mapped["columns"] = json!({"owner_id": "c.owner", "shared_with": "c.team"});
    let my = ask("?as=sql&dialect=mysql", mapped).json();
    assert_eq!(
        my["where"],
        "((CAST(`c`.`owner` AS BINARY) <=> CAST(? AS BINARY)) OR COALESCE(JSON_TYPE(`c`.`team`) \
         = 'ARRAY' AND CAST(? AS CHAR) MEMBER OF(`c`.`team`), FALSE))",
        "{my}"
    );
    let mut evil = body.clone();
    evil["columns"] = json!({"owner_id": "owner_id; DROP TABLE customer"});
    let r = ask("?as=sql&dialect=sqlite", evil);
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, json!("bad_column"))
    );
    let r = ask("?as=sql&dialect=oracle", body.clone());
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("bad_dialect"))
    );
    // Offline export depends on the context: without it, SQL cannot say it.
    let export = json!({"subject": {"id": "u-bob"}, "resource": "customer", "action": "export"});
    let r = ask("?as=sql&dialect=sqlite", export.clone());
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (422, json!("sql_unsupported")),
        "{}",
        r.text()
    );
    let mut online = export;
    online["context"] = json!({"offline": false});
    let r = ask("?as=sql&dialect=sqlite", online);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["params"], json!(["u-bob"]));
    // A contact follows its customer: a subquery over the customers' table.
    let contacts = json!({"subject": {"id": "u-alice"}, "resource": "contact", "action": "edit",
        "columns": {"customer": "customers"}});
    let r = ask("?as=sql&dialect=postgres", contacts).json();
    assert_eq!(
        r["where"],
        "COALESCE(\"customer_id\" IN (SELECT \"p1\".\"id\" FROM \"customers\" AS \"p1\" WHERE \
         ((\"p1\".\"owner_id\" IS NOT DISTINCT FROM $1) OR COALESCE(CASE WHEN \
         jsonb_typeof((\"p1\".\"shared_with\")::jsonb) = 'array' THEN (\"p1\".\"shared_with\")::jsonb \
         @> jsonb_build_array(($2)::text) ELSE FALSE END, FALSE))), FALSE)",
        "{r}"
    );
}

/// Every golden case, asked through `check` instead of `fieldgate eval`: the same answers.
#[test]
fn golden_fixtures_answer_the_same_through_check() {
    let s = Server::start("decide-golden");
    let t = s.token();
    let dir = common::root().join("tests/fixtures/core");
    let mut total = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let fixture = common::read_json(&path);
        let policy = match &fixture["policy"] {
            Value::String(rel) => common::read_json(&common::root().join(rel)),
            inline => inline.clone(),
        };
        let app = policy["app"].as_str().unwrap().to_string();
        let published = s.admin("POST", &format!("/v1/apps/{app}/policy"), &policy);
        let version = published.json()["version"].clone();
        assert_eq!(
            published.status,
            201,
            "{}: {}",
            path.display(),
            published.text()
        );
        for case in fixture["cases"].as_array().unwrap() {
            let req = &case["request"];
            let Some((subject, ask)) = as_check(req) else {
                continue;
            };
            let mut body = json!({"subject": subject, "version": version, "requests": [ask]});
            if let Some(now) = req.get("now") {
                body["now"] = now.clone();
            }
            let r = s.admin_as(&t, "POST", &format!("/v1/apps/{app}/check"), &body);
            let want = &case["expect"];
            // A time that is none refuses the whole batch (its one session).
            if r.status == 400 && req.get("now").is_some() {
                assert_eq!(
                    r.json()["code"],
                    want["error"]["code"],
                    "{}: {req}",
                    path.display()
                );
                total += 1;
                continue;
            }
            assert_eq!(r.status, 200, "{}: {req}: {}", path.display(), r.text());
            let mut got = r.json()["results"][0].clone();
            if let Some(red) = got.as_object_mut().and_then(|o| o.remove("redacted")) {
                got["record"] = red;
            }
            match want.get("error") {
                Some(e) => assert_eq!(got["error"]["code"], e["code"], "{}: {req}", path.display()),
                None => assert_eq!(&got, want, "{}: {req}", path.display()),
            }
            total += 1;
        }
    }
    assert!(total > 50, "only {total} cases");
}

/// A `fieldgate eval` request as a `check` request, or `None` for one only eval can ask (a
/// bad subject, which `check` refuses for the whole batch).
fn as_check(req: &Value) -> Option<(Value, Value)> {
    let mut subject = req
        .get("subject")
        .filter(|s| s.get("id").is_some_and(Value::is_string))?
        .clone();
    if subject.as_object().is_some_and(|o| o.len() == 1) {
        // `check` would look a bare id up in the directory; eval takes it as it is.
        subject["roles"] = json!([]);
    }
    let mut ask = serde_json::Map::new();
    let mut want = Vec::new();
    for k in [
        "action",
        "transition",
        "mode",
        "resource",
        "record",
        "context",
    ] {
        if let Some(v) = req.get(k) {
            ask.insert(k.into(), v.clone());
        }
    }
    if req.get("action").is_some() || req.get("transition").is_some() {
        want.push("allow");
    }
    if req.get("transitions") == Some(&Value::Bool(true)) {
        want.push("transitions");
    }
    if req.get("mode").is_some() {
        want.push("fields");
    }
    if req.get("redact") == Some(&Value::Bool(true)) {
        want.push("redact");
    }
    if let Some(d) = req.get("formData") {
        ask.insert("data".into(), d.clone());
        want.push("writable");
    }
    if !want.is_empty() {
        ask.insert("want".into(), json!(want));
    }
    Some((subject, Value::Object(ask)))
}

/// "Records waiting for my step": the filter of a transition, as SQL over a table of the
/// sample's inbound orders (the trail's lists in JSON columns), selects exactly the orders on
/// which the engine offers that person the transition.
#[test]
fn a_transition_filter_selects_the_records_waiting_for_my_step() {
    let s = Server::start("decide-flow-filter");
    let t = s.token();
    let data = common::read_json(&common::root().join("examples/acme-erp.data.json"));
    let orders = data["records"]["inbound_order"].as_array().unwrap().clone();
    let columns = json!({
        "_flow.signed.approve": "signed_approve",
        "_flow.by.submit": "by_submit",
        "_flow.by.reject": "by_reject",
        "_flow.by.approve.manager": "by_manager",
        "_flow.by.approve.finance": "by_finance",
    });
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE inbound_order (id TEXT, status TEXT, total_amount REAL, created_by TEXT, \
         department TEXT, signed_approve TEXT, by_submit TEXT, by_reject TEXT, by_manager TEXT, \
         by_finance TEXT)",
    )
    .unwrap();
    let list = |v: &Value| v.as_array().map(|_| v.to_string());
    for o in &orders {
        let f = &o["_flow"];
        db.execute(
            "INSERT INTO inbound_order VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                o["id"].as_str(),
                o["status"].as_str(),
                o["total_amount"].as_f64(),
                o["created_by"].as_str(),
                o["department"].as_str(),
                list(&f["signed"]["approve"]),
                list(&f["by"]["submit"]),
                list(&f["by"]["reject"]),
                list(&f["by"]["approve"]["manager"]),
                list(&f["by"]["approve"]["finance"]),
            ],
        )
        .unwrap();
    }
    let mut waiting = std::collections::BTreeMap::new();
    for who in ["u-frank", "u-judy", "u-grace", "u-dave"] {
        let body = json!({"subject": {"id": who}, "resource": "inbound_order",
            "transition": "approve", "columns": columns});
        let r = s.admin_as(
            &t,
            "POST",
            "/v1/apps/acme-erp/filter?as=sql&dialect=sqlite",
            &body,
        );
        assert_eq!(r.status, 200, "{who}: {}", r.text());
        assert_eq!(r.json()["transition"], "approve");
        let sql = format!(
            "SELECT id FROM inbound_order WHERE {} ORDER BY id",
            r.json()["where"].as_str().unwrap()
        );
        let params: Vec<rusqlite::types::Value> = r.json()["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| match p {
                Value::String(x) => rusqlite::types::Value::Text(x.clone()),
                Value::Number(n) => rusqlite::types::Value::Real(n.as_f64().unwrap()),
                Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
                _ => rusqlite::types::Value::Null,
            })
            .collect();
        let mut stmt = db.prepare(&sql).unwrap();
        let got: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(params), |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // What the engine offers the same person, order by order.
        let mut want = Vec::new();
        for o in &orders {
            let ask = json!({"subject": {"id": who}, "requests": [
                {"transition": "approve", "resource": "inbound_order", "record": o}]});
            let a = s
                .admin_as(&t, "POST", "/v1/apps/acme-erp/check", &ask)
                .json();
            if a["results"][0]["allow"] == json!(true) {
                want.push(o["id"].as_str().unwrap().to_string());
            }
        }
        want.sort();
        assert_eq!(got, want, "{who}: {sql}");
        waiting.insert(who, got);
    }
    // Frank signs the manager's step of the pending orders but the one he submitted himself;
    // Judy the finance step of the large one he signed.
    assert_eq!(waiting["u-frank"], ["o-2002"].map(String::from));
    assert_eq!(waiting["u-judy"], ["o-2006"].map(String::from));
    assert!(waiting["u-dave"].is_empty());
    let both = json!({"subject": {"id": "u-judy"}, "resource": "inbound_order",
        "transition": "approve", "action": "view"});
    let r = s.admin_as(&t, "POST", "/v1/apps/acme-erp/filter", &both);
    assert_eq!(r.status, 400, "{}", r.text());
}
