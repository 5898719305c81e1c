//! Exports that respect permissions, on a real `fieldgate serve`: the export right, scope,
//! masking, hidden fields, formula escaping, labels, XLSX, and the access log entry.

mod common;

use common::server::Server;
use serde_json::{json, Value};

fn rows(csv: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(csv).unwrap();
    assert!(text.starts_with('\u{feff}'), "UTF-8 with a BOM, for Excel");
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut out = vec![head];
    out.extend(
        r.records()
            .map(|x| x.unwrap().iter().map(String::from).collect()),
    );
    out
}

fn col<'a>(t: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = t[0]
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {:?}", t[0]));
    t[1..].iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn exports_carry_only_what_the_caller_may_export_shaped_like_the_screen() {
    let s = Server::start("export");
    // View but no export: 403.
    let alice = s.login("u-alice");
    let r = s.user(&alice, "GET", "/v1/data/customer/export", &Value::Null);
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (403, json!("forbidden"))
    );

    // Bob may export his own customers only (a personal grant): exactly those.
    let bob = s.login("u-bob");
    let evil = "=HYPERLINK(\"http://x\")";
    assert_eq!(
        s.user(
            &bob,
            "PUT",
            "/v1/data/customer/c-1003",
            &json!({"notes": evil})
        )
        .status,
        200
    );
    let r = s.user(&bob, "GET", "/v1/data/customer/export", &Value::Null);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let t = rows(&r.body);
    assert_eq!(t[0][0], "id");
    assert_eq!(
        col(&t, "id"),
        ["c-1003"],
        "his own, not the ones he may only view"
    );
    assert_eq!(
        col(&t, "notes"),
        [format!("'{evil}").as_str()],
        "formula cells escaped"
    );
    assert_eq!(
        col(&t, "bank_account"),
        ["6228 **** **** *** 0018"],
        "masked as on screen"
    );

    // The auditor exports everything, with masked fields masked.
    let heidi = s.login("u-heidi");
    let t = rows(
        &s.user(&heidi, "GET", "/v1/data/customer/export", &Value::Null)
            .body,
    );
    assert_eq!(col(&t, "id"), ["c-1001", "c-1002", "c-1003", "c-1004"]);
    assert!(
        col(&t, "id_number").iter().all(|v| v.contains('*')),
        "{t:?}"
    );
    assert!(
        !col(&t, "phone").iter().any(|v| v.contains('*')),
        "the auditor sees phones"
    );

    // A field hidden for the caller on every exported record is no column at all.
    let mut doc = s
        .admin("GET", "/v1/apps/acme-erp/versions/1", &Value::Null)
        .json()["document"]
        .clone();
    doc["roles"]["auditor"]["grants"][0]["fields"]["credit_limit"] = json!("hidden");
    assert_eq!(
        s.admin("POST", "/v1/apps/acme-erp/policy", &doc).status,
        201
    );
    let t = rows(
        &s.user(&heidi, "GET", "/v1/data/customer/export", &Value::Null)
            .body,
    );
    assert!(!t[0].contains(&"credit_limit".to_string()), "{:?}", t[0]);
    assert!(!String::from_utf8_lossy(
        &s.user(&heidi, "GET", "/v1/data/customer/export", &Value::Null)
            .body
    )
    .contains("500000"));

    // Labels, a choice of fields, and XLSX.
    let t = rows(
        &s.user(
            &heidi,
            "GET",
            "/v1/data/customer/export?labels=true&fields=name,phone",
            &Value::Null,
        )
        .body,
    );
    assert_eq!(t[0], ["id", "Customer name", "Phone"]);
    assert_eq!(
        s.user(
            &heidi,
            "GET",
            "/v1/data/customer/export?fields=nope",
            &Value::Null
        )
        .status,
        400
    );
    let x = s.user(
        &heidi,
        "GET",
        "/v1/data/customer/export?format=xlsx",
        &Value::Null,
    );
    assert_eq!(&x.body[..2], b"PK");
    let sheets = fieldgate::host::table::read_xlsx(&x.body).unwrap();
    assert_eq!(sheets[0].rows.len(), 5, "a header and four records");
    assert_eq!(sheets[0].rows[0][0], "id");

    // Every export is in the access log: who, how many, which fields.
    let log = s
        .admin("GET", "/v1/audit/access?resource=customer", &Value::Null)
        .json()["entries"]
        .clone();
    let exports: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "export")
        .collect();
    let bobs = exports.iter().find(|e| e["user"] == "u-bob").unwrap();
    assert_eq!(
        (bobs["count"].clone(), bobs["records"].clone()),
        (json!(1), json!(["c-1003"]))
    );
    assert!(bobs["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("bank_account")));
    let refused = exports.iter().find(|e| e["user"] == "u-alice").unwrap();
    assert_eq!(refused["outcome"], "forbidden");
}
