//! What the fuzz targets share: asking a loaded policy every question.

use fieldgate::{Input, Mode, Policy, Subject};
use serde_json::json;
use std::sync::Arc;

/// Asks every resource every question, with and without a record, as each user the policy
/// names, as nobody, and as a holder of every role: whatever the answers, never a panic or a hang.
pub fn ask_everything(policy: Policy) {
    let policy = Arc::new(policy);
    let users: Vec<String> = policy
        .user_ids()
        .map(String::from)
        .chain(["nobody".into()])
        .collect();
    let roles: Vec<String> = policy.role_names().map(String::from).collect();
    let record = json!({"owner_id": "nobody", "department": "d", "status": "pending"});
    for id in users {
        let s = policy.session(&Subject {
            roles: roles.clone(),
            department: Some("d".into()),
            ..Subject::new(id)
        });
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
}
