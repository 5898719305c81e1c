//! `fieldgate eval`: JSON Lines in, one JSON line out per request, in order.

use super::{load, CliResult};
use crate::admin::Directory;
use crate::core::request::object;
use crate::core::{Ask, Code, Mode, Policy, RequestError, Session, Want};
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
    trust: super::load::Trust,
    /// Add the reasons to every answer.
    #[arg(long)]
    explain: bool,
    /// A subject given by id alone (`{"id": …}`) is this directory's person, with their
    /// department, groups, roles and reporting line.
    #[command(flatten)]
    directory: load::DirectoryArgs,
    /// The time of every request without its own `"now"`.
    #[command(flatten)]
    at: super::AtArg,
}

pub(crate) fn run(a: Args) -> CliResult {
    let policy = match (&a.policy, &a.bundle) {
        (Some(p), _) => load::valid_policy(p)?,
        (None, Some(b)) => load::verified_policy(b, &a.trust)?,
        (None, None) => return Err("give --policy or --bundle".into()),
    };
    let directory = a.directory.load(Some(&policy))?;
    let mut evaluator = Evaluator::new(policy, a.explain, directory, a.at.ms());
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
    directory: Option<Directory>,
    /// The time of a request without its own `"now"` (Unix ms).
    at: i64,
    sessions: HashMap<String, Session>,
}

const MAX_CACHED_SESSIONS: usize = 1024;

impl Evaluator {
    pub(crate) fn new(
        policy: Arc<Policy>,
        explain: bool,
        directory: Option<Directory>,
        at: i64,
    ) -> Evaluator {
        Evaluator {
            policy,
            explain,
            directory,
            at,
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
        // The request's own time: RFC 3339 text or Unix milliseconds.
        let now = match req.get("now") {
            None => self.at,
            Some(Value::String(t)) => crate::core::time::parse_rfc3339(t)
                .ok_or_else(|| bad(format!("`now` is not an RFC 3339 time: {t}")))?,
            Some(v) => v
                .as_i64()
                .ok_or_else(|| bad("`now` is RFC 3339 text or Unix milliseconds".into()))?,
        };
        let key = format!("{now} {subject_json}");
        if !self.sessions.contains_key(&key) {
            let subject = Directory::resolve(self.directory.as_ref(), subject_json).map_err(bad)?;
            if self.sessions.len() >= MAX_CACHED_SESSIONS {
                self.sessions.clear();
            }
            self.sessions
                .insert(key.clone(), self.policy.session_at(&subject, now));
        }
        let session = &self.sessions[&key];
        let text = |k: &str| {
            req.get(k)
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| bad(format!("`{k}` must be a string")))
                })
                .transpose()
        };
        let action = text("action")?;
        let transition = text("transition")?;
        let transitions = req
            .get("transitions")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mode = text("mode")?
            .map(|m| {
                m.parse::<Mode>()
                    .map_err(|()| bad(format!("`mode` must be view, create or edit, not {m}")))
            })
            .transpose()?;
        let redact = req.get("redact").and_then(Value::as_bool).unwrap_or(false);
        let record = object(req.get("record"), "record")?;
        if redact && (mode.is_none() || record.is_none()) {
            return Err(bad("`redact` needs `mode` and `record`".into()));
        }
        let data = req.get("formData");
        let ask = Ask {
            action,
            transition,
            mode,
            resource,
            record,
            context: object(req.get("context"), "context")?,
            data,
            want: Want {
                allow: action.is_some() || transition.is_some(),
                fields: mode.is_some(),
                redact,
                writable: mode.is_some() && data.is_some(),
                explain: self.explain,
                transitions,
            },
        };
        // The eval protocol's names: the redacted record is `record`, and an explanation
        // that cannot be made for a mode alone is `null`.
        let explain_mode_only = self.explain && action.is_none() && mode.is_some();
        let ask = Ask {
            want: Want {
                explain: self.explain && action.is_some(),
                ..ask.want
            },
            ..ask
        };
        let mut out = session.answer(&ask)?.to_json();
        if let Some(r) = out.as_object_mut().and_then(|o| o.remove("redacted")) {
            out["record"] = r;
        }
        if explain_mode_only {
            let e = session.answer(&Ask {
                want: Want {
                    explain: true,
                    ..Want::default()
                },
                ..ask
            });
            out["explain"] = e
                .ok()
                .and_then(|a| a.to_json().get("explain").cloned())
                .unwrap_or(Value::Null);
        }
        Ok(out)
    }
}
