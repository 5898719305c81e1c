//! The bindings inside a real wasm runtime: Node, then headless Chromium (scripts/test-wasm.sh).
#![cfg(target_arch = "wasm32")]

use fieldgate::bundle::{sign, Encoding, SecretKey, SignOptions};
use fieldgate::wasm::WasmEngine;
use serde_json::Value;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const POLICY: &str = include_str!("../examples/acme-erp.policy.json");
const NOW: f64 = 1_795_341_600_000.0;

fn error_code(e: JsValue) -> String {
    let v: Value =
        serde_json::from_str(&e.as_string().expect("errors cross as JSON text")).unwrap();
    v["code"].as_str().unwrap().to_string()
}

#[wasm_bindgen_test]
fn unverified_policy_decides() {
    let e = WasmEngine::from_policy_unverified(POLICY).unwrap();
    let schema: Value = serde_json::from_str(&e.schema().unwrap()).unwrap();
    assert_eq!(schema["app"], "acme-erp");
    // The attributes decisions read: 10 the grants and rules name (the partner's `org` among
    // them), 10 the flows' trails.
    assert_eq!(
        schema["recordPaths"].as_array().unwrap().len(),
        20,
        "{schema}"
    );
    // At 2027-01-01 (Unix ms): the sample's dated grant (u-bob's export) is in force then.
    let s = e
        .session(r#"{"id":"u-alice"}"#, 1_798_761_600_000.0)
        .unwrap();
    let r = e.resource_id("customer").unwrap();
    let edit = e.action_id(r, "edit").unwrap();
    let delete = e.action_id(r, "delete").unwrap();
    // No record (flags 0): some record may qualify.
    assert_eq!(s.can(r, edit, 0), 1);
    assert_eq!(s.can(r, delete, 0), 0);
    // Ids this policy does not have answer -1 / address 0, never a panic.
    assert_eq!(s.can(r, 999, 0), -1);
    assert_eq!(s.can(999, edit, 0), -1);
    assert_ne!(s.field_states(r, 2, 0), 0);
    assert_eq!(s.field_states(999, 2, 0), 0);
    assert_eq!(s.field_states(r, 9, 0), 0);
    let why = |owner: &str| -> Value {
        let rec = format!(r#"{{"owner_id":"{owner}"}}"#);
        serde_json::from_str(&s.explain("edit", "customer", Some(rec), None).unwrap()).unwrap()
    };
    assert_eq!(why("u-alice")["allow"], true);
    assert_eq!(why("u-bob")["reason"], "no_grant");
    // Dated access: u-bob's export grant ends 2029-12-31 (+08:00); the session's time decides,
    // and a session on it says when its answers stop holding.
    let export = e.action_id(r, "export").unwrap();
    let bob = |now: f64| e.session(r#"{"id":"u-bob"}"#, now).unwrap();
    assert_eq!(bob(1_798_761_600_000.0).can(r, export, 0), 1);
    assert_eq!(bob(1_924_992_000_000.0).can(r, export, 0), 0);
    assert_eq!(
        bob(1_798_761_600_000.0).changes_at(),
        1_893_427_199_000.0 + 1.0
    );
    assert_eq!(s.changes_at(), f64::INFINITY);
    let shown: Value = serde_json::from_str(
        &s.redact(
            "customer",
            0,
            r#"{"owner_id":"u-bob","phone":"13812345678"}"#,
            None,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(shown["phone"], "138****5678");
}

#[wasm_bindgen_test]
fn signed_bundles_verify_in_wasm() {
    let key = SecretKey::from_seed(&[5; 32]);
    for encoding in [Encoding::Json, Encoding::Binary] {
        let opts = SignOptions {
            version: Some(3),
            issued_at_ms: NOW as i64,
            expires_at_ms: NOW as i64 + 86_400_000,
            subject: None,
            encoding,
        };
        let bundle = sign(POLICY.as_bytes(), &[&key], &opts).unwrap();
        let load = |extra: &str| {
            let o = format!(
                r#"{{"trustedKeys":["{}"],"now":{NOW}{extra}}}"#,
                key.public().to_base64()
            );
            WasmEngine::load(&bundle, &o)
        };
        let e = load("").unwrap();
        let schema: Value = serde_json::from_str(&e.schema().unwrap()).unwrap();
        assert_eq!(schema["version"], 3);
        assert_eq!(schema["keyId"], key.public().id());
        assert_eq!(
            error_code(load(r#","minVersion":4"#).err().unwrap()),
            "rollback"
        );
        assert_eq!(
            error_code(load(r#","app":"crm""#).err().unwrap()),
            "wrong_app"
        );
        // The host's check (WebCrypto in the package): what to check, then its verdicts.
        let o = format!(
            r#"{{"trustedKeys":["{}"],"now":{NOW}}}"#,
            key.public().to_base64()
        );
        let packed = WasmEngine::to_check(&bundle, &o).unwrap();
        assert_eq!(
            &packed[..6],
            &[1, 0, 0, 0, 0, 0],
            "one signature, by trusted key 0"
        );
        let (sig, message) = (&packed[6..70], &packed[70..]);
        assert!(key.public().verifies(message, sig));
        assert!(load(r#","checked":[0]"#).is_ok());
        assert_eq!(
            error_code(load(r#","checked":[]"#).err().unwrap()),
            "bad_signature",
            "a signature the host did not verify is not taken"
        );
    }
}

#[wasm_bindgen_test]
fn errors_cross_with_codes_and_paths() {
    assert_eq!(
        error_code(WasmEngine::from_policy_unverified("{").err().unwrap()),
        "bad_json"
    );
    let bad = POLICY.replace(
        "\"phone\": {\"label\": {\"zh-CN\": \"电话\", \"en\": \"Phone\"}, \"mask\": \"phone\"},",
        "",
    );
    assert_ne!(bad, POLICY);
    let err = WasmEngine::from_policy_unverified(&bad).err().unwrap();
    let v: Value = serde_json::from_str(&err.as_string().unwrap()).unwrap();
    assert_eq!(v["code"], "unknown_field", "{v}");
    assert_eq!(v["path"], "templates.customer_reader[0].fields.phone");
    let e = WasmEngine::from_policy_unverified(POLICY).unwrap();
    assert_eq!(
        error_code(e.resource_id("invoice").err().unwrap()),
        "unknown_resource"
    );
}
