//! Evaluator benchmarks: a 60-field form, `can`, session creation, compiling a 1 MiB policy.
//! Run with `cargo bench --bench evaluator`; figures go into BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fieldgate::core::{NoAttrs, Slots};
use fieldgate::{FieldState, Input, Mode, Policy, Subject};
use serde_json::{json, Value};
use std::sync::Arc;

mod support;
use support::{big_policy, form60};

fn subject() -> Subject {
    Subject {
        department: Some("east".into()),
        ..Subject::new("u-1")
    }
}

fn record() -> Value {
    let mut r = json!({"owner": "u-1", "dept": "east-1", "status": "draft", "amount": 500});
    for i in 0..60 {
        r[format!("f{i:02}")] = json!(format!("value {i}"));
    }
    r
}

fn benches(c: &mut Criterion) {
    let policy = Arc::new(Policy::from_value(&form60()).unwrap());
    let session = policy.session(&subject());
    assert_eq!(session.roles().len(), 3);
    let rec = record();
    let input = Input::json(Some(&rec), None);
    let r = policy.resource_id("form").unwrap();
    let edit = policy.action_id(r, "edit").unwrap();
    let mut out = vec![FieldState::Hidden; policy.field_count(r)];
    assert_eq!(out.len(), 60);

    c.bench_function("fields_into: 60-field form, with record", |b| {
        b.iter(|| session.fields_into(r, Mode::Edit, black_box(input), &mut out))
    });
    c.bench_function("fields by name: 60-field form, with record", |b| {
        b.iter(|| {
            session
                .fields(black_box("form"), Mode::Edit, black_box(input))
                .unwrap()
                .states()
                .len()
        })
    });
    c.bench_function("can_at: with record", |b| {
        b.iter(|| session.can_at(r, edit, black_box(input)))
    });
    c.bench_function("can_at: no record", |b| {
        b.iter(|| session.can_at(r, edit, black_box(Input::NONE)))
    });
    let slots: Vec<Value> = policy
        .record_paths()
        .iter()
        .map(|p| {
            p.split('.')
                .try_fold(&rec, |v, k| v.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        })
        .collect();
    let slot_input = Input {
        record: Some(&Slots(&slots)),
        context: &NoAttrs,
    };
    c.bench_function("can_at: with record as slots", |b| {
        b.iter(|| session.can_at(r, edit, black_box(slot_input)))
    });
    c.bench_function("fields_into: 60-field form, record as slots", |b| {
        b.iter(|| session.fields_into(r, Mode::Edit, black_box(slot_input), &mut out))
    });
    c.bench_function("can by name: with record", |b| {
        b.iter(|| {
            session
                .can(black_box("edit"), black_box("form"), black_box(input))
                .unwrap()
        })
    });
    // 本人及下属 for a manager with 1,000 people below them: the owner is looked up in the
    // reporting line (a sorted list, binary search).
    let crm = Arc::new(
        Policy::from_value(&json!({
            "format": "fieldgate/1", "app": "crm", "version": 1,
            "resources": {"customer": {"actions": ["view", "edit"], "owner": "owner",
                "fields": {"name": {}, "phone": {}}}},
            "roles": {"lead": {"grants": [
                {"resource": "customer", "actions": ["view", "edit"], "scope": "subordinates"}]}}
        }))
        .unwrap(),
    );
    let reports: serde_json::Map<String, Value> = (0..1000)
        .map(|i| (format!("u-{i:04}"), json!(1 + i % 4)))
        .collect();
    let lead = crm.session(&Subject {
        roles: vec!["lead".into()],
        reports,
        ..Subject::new("u-lead")
    });
    let customer = crm.resource_id("customer").unwrap();
    let crm_edit = crm.action_id(customer, "edit").unwrap();
    let theirs = json!({"owner": "u-0777", "name": "Acme", "phone": "138"});
    let theirs = Input::json(Some(&theirs), None);
    assert!(lead.can_at(customer, crm_edit, theirs));
    c.bench_function("can_at: subordinates, 1,000 reports, with record", |b| {
        b.iter(|| lead.can_at(customer, crm_edit, black_box(theirs)))
    });
    c.bench_function("session: user with 3 roles", |b| {
        b.iter(|| policy.session(black_box(&subject())))
    });
    c.bench_function("session + first fields: user with 3 roles", |b| {
        b.iter(|| {
            let s = policy.session(black_box(&subject()));
            s.fields_into(r, Mode::Edit, input, &mut out);
        })
    });
    let big = big_policy(1 << 20);
    c.bench_function(
        &format!("serde_json::Value parse only: {} KiB", big.len() / 1024),
        |b| b.iter(|| serde_json::from_str::<Value>(black_box(&big)).unwrap()),
    );
    c.bench_function(
        &format!(
            "serde_json_borrow::Value parse only: {} KiB",
            big.len() / 1024
        ),
        |b| {
            b.iter(|| {
                serde_json::from_str::<serde_json_borrow::Value>(black_box(&big))
                    .unwrap()
                    .is_object()
            })
        },
    );
    c.bench_function(&format!("compile: {} KiB policy", big.len() / 1024), |b| {
        b.iter_with_large_drop(|| Policy::from_json(black_box(&big)).unwrap())
    });
}

criterion_group! {
    name = evaluator;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(evaluator);
