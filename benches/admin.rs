//! Admin tool benchmarks: the access diff of a 1 MiB policy pair over a 10,000-person
//! directory, everyone asked (the target: under 10 s). Run with `cargo bench --bench admin`;
//! figures go into BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use fieldgate::admin::{diff, Directory, Limits};
use fieldgate::core::Checked;
use serde_json::{json, Value};
use std::time::Duration;

mod support;
use support::big_policy;

/// 10,000 people over the policy's departments, 50 groups and two of its roles each, so
/// hardly two look alike (the diff asks each kind of person once).
fn people(doc: &Value) -> Value {
    let roles: Vec<&String> = doc["roles"].as_object().unwrap().keys().collect();
    let departments = ["hq", "east", "east-1"];
    let people: Vec<Value> = (0..10_000usize)
        .map(|i| {
            json!({
                "id": format!("p-{i:05}"),
                "department": departments[i % 3],
                "groups": [format!("g-{}", i % 50)],
                "roles": [roles[(i * 7) % roles.len()], roles[(i * 13 + 1) % roles.len()]],
            })
        })
        .collect();
    Value::Array(people)
}

fn benches(c: &mut Criterion) {
    let old_text = big_policy(1 << 20);
    let old_doc: Value = serde_json::from_str(&old_text).unwrap();
    // A group given a role (200 people gain it) and a role losing a grant: changes a diff
    // reports in full (a department made admin of all 800 forms would pass the output cap).
    let mut new_doc = old_doc.clone();
    new_doc["assignments"]["groups"] = json!({"g-7": ["clerk7"]});
    new_doc["roles"]["clerk7"]["grants"]
        .as_array_mut()
        .unwrap()
        .pop();
    let old = Checked::from_value(old_doc).unwrap();
    let new = Checked::from_value(new_doc).unwrap();
    let directory = Directory::from_json(&people(old.doc()), Some(new.policy())).unwrap();
    let d = diff(&old, &new, Some(&directory), &Limits::default()).unwrap();
    assert!(!d.access.is_empty(), "the change gives and takes access");
    println!("{} access changes", d.access.len());

    let mut g = c.benchmark_group("diff");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    g.bench_function(
        format!(
            "diff: {} KiB policy pair, 10,000 people",
            old_text.len() / 1024
        ),
        |b| b.iter(|| diff(&old, &new, Some(&directory), &Limits::default()).unwrap()),
    );
    g.finish();
}

criterion_group!(admin, benches);
criterion_main!(admin);
