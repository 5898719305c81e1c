//! One decision request and its answer, as every host asks them: the decision API
//! (`POST /v1/apps/{app}/check`), `fieldgate eval` and the Python package read a request into
//! an `Ask`, and `Session::answer` answers it from the session's plan.

use crate::core::error::{Code, RequestError};
use crate::core::explain::Explanation;
use crate::core::session::{transitions_json, Input, Session, TransitionAnswer};
use crate::core::state::Mode;
use crate::prelude::*;
use serde_json::{Map, Value};

/// What a request wants answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// Whether the action is allowed (needs `action`).
    pub allow: bool,
    /// The state of every field in the mode.
    pub fields: bool,
    /// The record as the mode shows it (needs `record`).
    pub redact: bool,
    /// The part of `data` (or of the record) that may be written in the mode.
    pub writable: bool,
    /// The reasons for the action's (or the mode's) decision.
    pub explain: bool,
    /// The record's flow: every transition and step, as this person may do them now (needs
    /// `record`).
    pub transitions: bool,
}

/// One decision request.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The action asked about.
    pub action: Option<&'a str>,
    /// A transition of the record's flow asked about: `allow` is whether this person may do
    /// it now (needs `record`).
    pub transition: Option<&'a str>,
    /// The form's mode; without it, the mode of the action (`Mode::of_action`).
    pub mode: Option<Mode>,
    /// The resource.
    pub resource: &'a str,
    /// The stored record, if there is one.
    pub record: Option<&'a Value>,
    /// The context (`context.*` in conditions).
    pub context: Option<&'a Value>,
    /// Values to be written (for `writable`); without them, the record's.
    pub data: Option<&'a Value>,
    /// What to answer.
    pub want: Want,
}

/// The answer to an `Ask`: what it wanted, nothing else.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Whether the action is allowed.
    pub allow: Option<bool>,
    /// Field name -> state name.
    pub fields: Option<Value>,
    /// The record as the mode shows it.
    pub redacted: Option<Value>,
    /// What may be written.
    pub writable: Option<Value>,
    /// The reasons.
    pub explain: Option<Explanation>,
    /// The asked transition, as this person may do it now.
    pub transition: Option<TransitionAnswer>,
    /// Every transition of the record's flow.
    pub transitions: Option<Vec<TransitionAnswer>>,
}

/// The members a check request may have.
const MEMBERS: [&str; 8] = [
    "action",
    "transition",
    "mode",
    "resource",
    "record",
    "context",
    "data",
    "want",
];

impl<'a> Ask<'a> {
    /// Reads a request of the decision API: `{"action"?, "transition"?, "mode"?, "resource",
    /// "record"?, "context"?, "data"?, "want"?: ["allow", "fields", "redact", "writable",
    /// "explain", "transitions"]}`. Without `want`, it is `allow` when there is an action or a
    /// transition and `fields` when there is a mode.
    ///
    /// # Errors
    /// `bad_request`, naming the member.
    pub fn from_json(v: &'a Value) -> Result<Ask<'a>, RequestError> {
        let o = v
            .as_object()
            .ok_or_else(|| bad("a request is a JSON object".into()))?;
        if let Some(k) = o.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown member `{k}` (a request has {})",
                MEMBERS.join(", ")
            )));
        }
        let text = |k: &str| -> Result<Option<&'a str>, RequestError> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(bad(format!("`{k}` must be a string"))),
            }
        };
        let action = text("action")?;
        let transition = text("transition")?;
        let mode = text("mode")?
            .map(|m| {
                m.parse::<Mode>()
                    .map_err(|()| bad(format!("`mode` must be view, create or edit, not `{m}`")))
            })
            .transpose()?;
        let resource = text("resource")?.ok_or_else(|| bad("`resource` is required".into()))?;
        let want = match o.get("want") {
            None | Some(Value::Null) => Want {
                allow: action.is_some() || transition.is_some(),
                fields: mode.is_some(),
                ..Want::default()
            },
            Some(Value::Array(items)) => want(items)?,
            Some(_) => return Err(bad("`want` must be a list".into())),
        };
        let ask = Ask {
            action,
            transition,
            mode,
            resource,
            record: object(o.get("record"), "record")?,
            context: object(o.get("context"), "context")?,
            data: object(o.get("data"), "data")?,
            want,
        };
        ask.check()?;
        Ok(ask)
    }

    /// Checks that what is wanted can be answered from what is given.
    ///
    /// # Errors
    /// `bad_request`.
    pub fn check(&self) -> Result<(), RequestError> {
        let w = self.want;
        let flow = self.transition.is_some() || w.transitions;
        if self.action.is_none() && self.mode.is_none() && !flow {
            return Err(bad(
                "a request needs `action`, `transition` or `mode`".into()
            ));
        }
        if self.action.is_some() && self.transition.is_some() {
            return Err(bad(
                "a request asks about `action` or `transition`, not both".into(),
            ));
        }
        if w.allow && self.action.is_none() && self.transition.is_none() {
            return Err(bad("`allow` needs `action` or `transition`".into()));
        }
        if flow && self.record.is_none() {
            return Err(bad("a transition is decided on a `record`".into()));
        }
        if (w.fields || w.redact || w.writable || w.explain)
            && self.action.is_none()
            && self.mode.is_none()
        {
            return Err(bad(
                "`fields`, `redact`, `writable` and `explain` need `action` or `mode`".into(),
            ));
        }
        if w.redact && self.record.is_none() {
            return Err(bad("`redact` needs `record`".into()));
        }
        if w.writable && self.data.or(self.record).is_none() {
            return Err(bad("`writable` needs `data` or `record`".into()));
        }
        if !(w.allow || w.fields || w.redact || w.writable || w.explain || w.transitions) {
            return Err(bad("`want` asks for nothing".into()));
        }
        Ok(())
    }

    /// The mode the fields are in.
    fn mode(&self) -> Mode {
        self.mode
            .unwrap_or_else(|| Mode::of_action(self.action.unwrap_or("view")))
    }
}

fn want(items: &[Value]) -> Result<Want, RequestError> {
    let mut w = Want::default();
    for item in items {
        let flag = match item.as_str() {
            Some("allow") => &mut w.allow,
            Some("fields") => &mut w.fields,
            Some("redact") => &mut w.redact,
            Some("writable") => &mut w.writable,
            Some("explain") => &mut w.explain,
            Some("transitions") => &mut w.transitions,
            _ => {
                return Err(bad(format!(
                "`want` holds allow, fields, redact, writable, explain or transitions, not {item}"
            )))
            }
        };
        *flag = true;
    }
    Ok(w)
}

/// `v` as an object, `None` when absent or null.
///
/// # Errors
/// `bad_request` when it is something else.
pub fn object<'v>(v: Option<&'v Value>, what: &str) -> Result<Option<&'v Value>, RequestError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(o @ Value::Object(_)) => Ok(Some(o)),
        Some(_) => Err(bad(format!("`{what}` must be an object"))),
    }
}

fn bad(message: String) -> RequestError {
    RequestError::new(Code::BadRequest, message)
}

impl Session {
    /// Answers one request from this session's plan.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`, `bad_request`.
    pub fn answer(&self, ask: &Ask<'_>) -> Result<Answer, RequestError> {
        ask.check()?;
        let (w, mode) = (ask.want, ask.mode());
        let input = Input::json(ask.record, ask.context);
        let mut out = Answer::default();
        if let (Some(name), Some(record)) = (ask.transition, ask.record) {
            let all = self.transitions(ask.resource, record, ask.context)?;
            let t = all
                .into_iter()
                .find(|t| t.transition == name)
                .ok_or_else(|| {
                    let msg = format!("`{}` has no transition `{name}`", ask.resource);
                    RequestError::new(Code::UnknownAction, msg)
                })?;
            if w.allow {
                out.allow = Some(t.allowed);
            }
            out.transition = Some(t);
        }
        if w.allow {
            if let Some(action) = ask.action {
                out.allow = Some(self.can(action, ask.resource, input)?);
            }
        }
        if w.transitions {
            if let Some(record) = ask.record {
                out.transitions = Some(self.transitions(ask.resource, record, ask.context)?);
            }
        }
        if w.fields {
            out.fields = Some(self.fields(ask.resource, mode, input)?.to_json());
        }
        if w.redact {
            if let Some(record) = ask.record {
                out.redacted = Some(self.redact(ask.resource, mode, record, ask.context)?);
            }
        }
        if w.writable {
            if let Some(data) = ask.data.or(ask.record) {
                let w = self.writable(ask.resource, mode, ask.record, data, ask.context)?;
                out.writable = Some(w);
            }
        }
        if w.explain {
            let action = ask.action.or(mode.action()).unwrap_or("view");
            out.explain = Some(self.explain(action, ask.resource, input)?);
        }
        Ok(out)
    }
}

impl Answer {
    /// The answer as the decision API writes it: `allow`, `fields`, `redacted`, `writable`,
    /// `explain`, each only when asked for.
    pub fn to_json(self) -> Value {
        let mut m = Map::new();
        if let Some(a) = self.allow {
            m.insert("allow".into(), Value::Bool(a));
        }
        let parts = [
            ("fields", self.fields),
            ("redacted", self.redacted),
            ("writable", self.writable),
        ];
        for (k, v) in parts {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        if let Some(e) = self.explain {
            m.insert(
                "explain".into(),
                serde_json::to_value(e).unwrap_or(Value::Null),
            );
        }
        if let Some(t) = self.transition {
            m.insert("transition".into(), t.to_json());
        }
        if let Some(t) = self.transitions {
            m.insert("transitions".into(), transitions_json(&t));
        }
        Value::Object(m)
    }
}
