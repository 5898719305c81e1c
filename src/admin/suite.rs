//! Policy test suites: named cases with expected `can` and `fields` answers, so customers test
//! their own policies in their CI.
//!
//! ```json
//! { "subjects": { "alice": { "id": "u-alice", "roles": ["sales"] } },
//!   "records":  { "own": { "owner_id": "u-alice" } },
//!   "cases": [ { "name": "sales edit their own customers", "subject": "alice",
//!                "resource": "customer", "record": "own",
//!                "can": { "edit": true, "delete": false },
//!                "mode": "edit", "fields": { "credit_limit": "readonly" } } ] }
//! ```
//! `subject` and `record` name an entry of `subjects`/`records` or are given inline; `record`
//! and `context` are optional; `mode` defaults to `view`; `now` (RFC 3339) asks at that time
//! (dated access; default the suite's `--at`, else now).

use crate::admin::Directory;
use crate::core::{Input, Mode, Policy};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// Every expectation that did not hold, in words (empty when the case passed).
    pub failures: Vec<String>,
}

/// The outcome of a suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuiteReport {
    /// One result per case, in order.
    pub cases: Vec<CaseResult>,
}

impl SuiteReport {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.failures.is_empty()).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Runs a suite against a policy. A malformed case is a failed case that says why.
///
/// # Errors
/// A message when the suite itself is not an object with a `cases` array.
pub fn run_suite(
    policy: &Arc<Policy>,
    suite: &Value,
    directory: Option<&Directory>,
    at: i64,
) -> Result<SuiteReport, String> {
    let cases = suite
        .get("cases")
        .and_then(Value::as_array)
        .ok_or("a test suite needs a `cases` array")?;
    let named = |section: &str, v: Option<&Value>| -> Result<Option<Value>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(n)) => suite
                .get(section)
                .and_then(|s| s.get(n))
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("no `{section}.{n}`")),
            Some(other) => Ok(Some(other.clone())),
        }
    };
    let mut out = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("cases[{i}]"), String::from);
        let failures = match run_case(policy, case, &named, directory, at) {
            Ok(f) => f,
            Err(e) => vec![e],
        };
        out.push(CaseResult { name, failures });
    }
    Ok(SuiteReport { cases: out })
}

type Named<'a> = dyn Fn(&str, Option<&Value>) -> Result<Option<Value>, String> + 'a;

fn run_case(
    policy: &Arc<Policy>,
    case: &Value,
    named: &Named<'_>,
    directory: Option<&Directory>,
    at: i64,
) -> Result<Vec<String>, String> {
    let given = named("subjects", case.get("subject"))?.ok_or("a case needs a `subject`")?;
    let subject = Directory::resolve(directory, &given)?;
    let resource = case
        .get("resource")
        .and_then(Value::as_str)
        .ok_or("a case needs a `resource`")?;
    let record = named("records", case.get("record"))?;
    let context = case.get("context").cloned();
    let input = Input::json(record.as_ref(), context.as_ref());
    // A case may ask at its own time (`"now"`, RFC 3339): dated access counts then.
    let at = match case.get("now") {
        None => at,
        Some(t) => t
            .as_str()
            .and_then(crate::core::time::parse_rfc3339)
            .ok_or("a case's `now` is an RFC 3339 time with an offset")?,
    };
    let session = policy.session_at(&subject, at);
    let mut failures = Vec::new();
    for (action, want) in case
        .get("can")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let want = want
            .as_bool()
            .ok_or_else(|| format!("`can.{action}` must be true or false"))?;
        let got = session
            .can(action, resource, input)
            .map_err(|e| e.to_string())?;
        if got != want {
            failures.push(format!("can {action}: expected {want}, got {got}"));
        }
    }
    if let Some(fields) = case.get("fields").and_then(Value::as_object) {
        let mode: Mode = match case.get("mode").and_then(Value::as_str) {
            None => Mode::View,
            Some(m) => m.parse().map_err(|()| format!("bad mode `{m}`"))?,
        };
        let states = session
            .fields(resource, mode, input)
            .map_err(|e| e.to_string())?;
        for (field, want) in fields {
            let got = states
                .get(field)
                .ok_or_else(|| format!("`{resource}` has no field `{field}`"))?;
            if want.as_str() != Some(got.as_str()) {
                failures.push(format!(
                    "field {field} ({}): expected {want}, got \"{got}\"",
                    mode.as_str()
                ));
            }
        }
    }
    Ok(failures)
}
