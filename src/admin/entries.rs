//! Role entries as a policy document writes them in `assignments`: a role's name, or
//! `{"role", "from"?, "until"?}` for a while (dated access). The tools that read documents
//! (lint, the structural diff, admin scopes) read them here, so none misses a dated one.

use serde_json::Value;

/// The role an entry names.
pub(crate) fn role_name(entry: &Value) -> Option<&str> {
    entry.as_str().or_else(|| entry.get("role")?.as_str())
}

/// The entry as people read it: the role, and its dates when it has any
/// (`auditor (until 2027-01-31T23:59:59+08:00)`).
pub(crate) fn entry_text(entry: &Value) -> Option<String> {
    let role = role_name(entry)?;
    let date = |k: &str| entry.get(k).and_then(Value::as_str);
    Some(match (date("from"), date("until")) {
        (None, None) => role.to_string(),
        (Some(f), None) => format!("{role} (from {f})"),
        (None, Some(u)) => format!("{role} (until {u})"),
        (Some(f), Some(u)) => format!("{role} ({f} - {u})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_dated_entries() {
        assert_eq!(role_name(&json!("sales")), Some("sales"));
        let dated = json!({"role": "auditor", "until": "2027-01-31T23:59:59+08:00"});
        assert_eq!(role_name(&dated), Some("auditor"));
        assert_eq!(
            entry_text(&dated).as_deref(),
            Some("auditor (until 2027-01-31T23:59:59+08:00)")
        );
        assert_eq!(role_name(&json!(3)), None);
    }
}
