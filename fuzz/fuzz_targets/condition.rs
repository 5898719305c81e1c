//! Parses arbitrary text as a condition and, when it parses, evaluates it with and without a
//! record: never a panic, a hang or a stack overflow.
#![no_main]

use fieldgate::core::condition::{parse, Env, SlotTable, UserValues};
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|text: &str| {
    let mut slots = SlotTable::default();
    if let Ok(expr) = parse(text, &mut slots) {
        let user = UserValues {
            id: json!("u1"),
            roles: json!(["a"]),
            department: json!(null),
            groups: json!([]),
            org: json!("o1"),
            attrs: vec![json!(1); slots.user_attrs.len()],
            department_tree: json!(["d1", "d2"]),
            reports: json!(["u2"]),
        };
        let record = json!({"a": 1, "b": "x", "c": [1, 2]});
        let ctx = json!({});
        for rec in [None, Some(&record as &dyn fieldgate::core::Attrs)] {
            let env = Env { slots: &slots, user: &user, record: rec, context: &ctx };
            let t = expr.eval(&env);
            assert_eq!(expr.specialize(&user, None).eval(&env), t);
        }
    }
});
