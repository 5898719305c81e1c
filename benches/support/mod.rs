//! Benchmark corpora shared by the bench targets.
#![allow(dead_code, reason = "each bench uses a part of the shared helpers")]

use serde_json::{json, Value};

/// The 60-field form policy from `tests/fixtures/bench/`.
pub fn form60() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bench/form60.policy.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The 60-field policy copied under new names until the document passes `bytes`.
pub fn big_policy(bytes: usize) -> String {
    let base = form60();
    let mut doc = base.clone();
    let per_copy = base["resources"].to_string().len() + base["roles"].to_string().len();
    for k in 1..=bytes / per_copy + 1 {
        let res = format!("form{k}");
        doc["resources"][&res] = base["resources"]["form"].clone();
        for (name, role) in base["roles"].as_object().unwrap() {
            let mut role = role.clone();
            for g in role["grants"].as_array_mut().unwrap() {
                if g["resource"] == "form" {
                    g["resource"] = json!(res);
                }
            }
            role.as_object_mut().unwrap().remove("templates");
            doc["roles"][format!("{name}{k}")] = role;
        }
    }
    doc.to_string()
}
