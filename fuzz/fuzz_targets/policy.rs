//! Loads arbitrary bytes as a policy and, when it loads, asks every resource every question:
//! never a panic, a hang or a stack overflow.
#![no_main]

use fieldgate::{Input, Mode, Policy, Subject};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use std::sync::Arc;

fuzz_target!(|bytes: &[u8]| {
    let Ok(policy) = Policy::from_slice(bytes) else { return };
    let policy = Arc::new(policy);
    let users: Vec<String> = policy.user_ids().map(String::from).chain(["nobody".into()]).collect();
    let roles: Vec<String> = policy.role_names().map(String::from).collect();
    let record = json!({"owner_id": "nobody", "department": "d", "status": "pending"});
    for id in users {
        let s = policy.session(&Subject { roles: roles.clone(), department: Some("d".into()), ..Subject::new(id) });
        for r in policy.resource_names() {
            for rec in [None, Some(&record)] {
                let input = Input::json(rec, None);
                for a in policy.action_names(r).unwrap_or_default() {
                    let _ = s.can(a, r, input);
                    let _ = s.explain(a, r, input);
                    let _ = s.scope_filter(r, a, None);
                }
                for m in Mode::ALL {
                    let _ = s.fields(r, m, input);
                }
            }
        }
    }
});
