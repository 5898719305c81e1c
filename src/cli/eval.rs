//! `fieldgate eval`: JSON Lines in, one JSON line out per request, in order.

use super::{load, CliResult};
use crate::core::{Code, Input, Mode, Policy, RequestError, Session, Subject};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy document.
    #[arg(long, required_unless_present = "bundle", conflicts_with = "bundle")]
    policy: Option<PathBuf>,
    /// A signed bundle instead of a policy (with `--trust`).
    #[arg(long, requires = "trust")]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    trust: super::verify::Trust,
    /// Add the reasons to every answer.
    #[arg(long)]
    explain: bool,
}

pub(crate) fn run(a: Args) -> CliResult {
    let policy = match (&a.policy, &a.bundle) {
        (Some(p), _) => load::valid_policy(p)?,
        (None, Some(b)) => load::verified_policy(b, &a.trust)?,
        (None, None) => return Err("give --policy or --bundle".into()),
    };
    let mut evaluator = Evaluator::new(policy, a.explain);
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = line.map_err(|e| format!("cannot read stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let answer = evaluator.answer(&line);
        writeln!(out, "{answer}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

/// Answers request lines, reusing one session per distinct subject.
pub(crate) struct Evaluator {
    policy: Arc<Policy>,
    explain: bool,
    sessions: HashMap<String, Session>,
}

const MAX_CACHED_SESSIONS: usize = 1024;

impl Evaluator {
    pub(crate) fn new(policy: Arc<Policy>, explain: bool) -> Evaluator {
        Evaluator {
            policy,
            explain,
            sessions: HashMap::new(),
        }
    }

    /// The answer to one request line (errors become `{"error":{..}}`).
    pub(crate) fn answer(&mut self, line: &str) -> Value {
        match self.try_answer(line) {
            Ok(v) => v,
            Err(e) => json!({ "error": { "code": e.code, "message": e.message } }),
        }
    }

    fn try_answer(&mut self, line: &str) -> Result<Value, RequestError> {
        let bad = |m: String| RequestError::new(Code::BadRequest, m);
        let req: Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let subject_json = req
            .get("subject")
            .ok_or_else(|| bad("`subject` is required".into()))?;
        let resource = req
            .get("resource")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`resource` is required".into()))?;
        let record = object_or_none(req.get("record"), "record")?;
        let context = object_or_none(req.get("context"), "context")?;
        let key = subject_json.to_string();
        if !self.sessions.contains_key(&key) {
            let subject: Subject = serde_json::from_value(subject_json.clone())
                .map_err(|e| bad(format!("bad subject: {e}")))?;
            if self.sessions.len() >= MAX_CACHED_SESSIONS {
                self.sessions.clear();
            }
            self.sessions
                .insert(key.clone(), self.policy.session(&subject));
        }
        let session = &self.sessions[&key];
        let input = Input::json(record, context);
        let mut out = serde_json::Map::new();
        let action = req
            .get("action")
            .map(|a| {
                a.as_str()
                    .ok_or_else(|| bad("`action` must be a string".into()))
            })
            .transpose()?;
        let mode = req
            .get("mode")
            .map(|m| {
                m.as_str()
                    .and_then(|m| m.parse::<Mode>().ok())
                    .ok_or_else(|| bad(format!("`mode` must be view, create or edit, not {m}")))
            })
            .transpose()?;
        if action.is_none() && mode.is_none() {
            return Err(bad("a request needs `action` or `mode`".into()));
        }
        if let Some(action) = action {
            out.insert(
                "allow".into(),
                Value::Bool(session.can(action, resource, input)?),
            );
            if self.explain {
                let e = session.explain(action, resource, input)?;
                out.insert(
                    "explain".into(),
                    serde_json::to_value(e).unwrap_or(Value::Null),
                );
            }
        }
        let redact = req.get("redact").and_then(Value::as_bool).unwrap_or(false);
        if redact && (mode.is_none() || record.is_none()) {
            return Err(bad("`redact` needs `mode` and `record`".into()));
        }
        if let Some(mode) = mode {
            out.insert(
                "fields".into(),
                session.fields(resource, mode, input)?.to_json(),
            );
            if let (true, Some(rec)) = (redact, record) {
                out.insert(
                    "record".into(),
                    session.redact(resource, mode, rec, context)?,
                );
            }
            if let Some(data) = req.get("formData") {
                out.insert(
                    "writable".into(),
                    session.writable(resource, mode, record, data, context)?,
                );
            }
            if self.explain && action.is_none() {
                let e = session.explain(mode.action().unwrap_or("view"), resource, input);
                out.insert(
                    "explain".into(),
                    e.ok()
                        .and_then(|e| serde_json::to_value(e).ok())
                        .unwrap_or(Value::Null),
                );
            }
        }
        Ok(Value::Object(out))
    }
}

fn object_or_none<'v>(v: Option<&'v Value>, what: &str) -> Result<Option<&'v Value>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(o @ Value::Object(_)) => Ok(Some(o)),
        Some(_) => Err(RequestError::new(
            Code::BadRequest,
            format!("`{what}` must be an object"),
        )),
    }
}
