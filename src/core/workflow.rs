//! Approval flows (审批流程): a resource's states, the transitions between them, the steps a
//! transition waits for, and the separation rules that keep one person from doing two of them
//! on one record.
//!
//! The compiler turns a flow into rules (`compile/workflow.rs`), so `can`, `fields`, explain,
//! scope filters, SQL and every admin tool decide on it without knowing flows. Those rules read
//! the record's state field and its trail (the member [`TRAIL`]), which only
//! [`Workflow::record_after`] writes: the host keeps the trail, the engine decides on it.

use crate::core::attrs::json_eq;
use crate::core::condition::Expr;
use crate::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The record member holding a flow's trail:
/// `{"signed": {transition: [step]}, "by": {transition: [user] | {step: [user]}}, "history": [entry]}`.
/// `signed` holds the steps signed since the state last moved; `by` everyone who ever did each
/// transition or step (what separation rules read); `history` every entry, oldest first.
pub const TRAIL: &str = "_flow";

/// A resource's declared flow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workflow {
    /// The declared field holding the state (dotted for a nested one).
    pub field: String,
    /// The state a created record starts in.
    pub initial: String,
    /// The states' names, as declared (what a state means to people, `final` included, the
    /// tools read from the document).
    pub states: Vec<String>,
    /// The transitions, as declared.
    pub transitions: Vec<Transition>,
    /// Separation rules: in each, no person may do two of the listed actions (transitions and
    /// steps; a transition with steps stands for each of its steps) on one record.
    pub distinct: Vec<Vec<String>>,
}

/// One transition: gated by the resource's action of the same name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transition {
    /// Its name, which is also its action.
    pub name: String,
    /// The states it may leave.
    pub from: Vec<String>,
    /// The state it reaches.
    pub to: String,
    /// Whether the person must write a comment.
    pub comment_required: bool,
    /// The steps it waits for, in order (none: it moves at once).
    pub steps: Vec<Step>,
    /// With steps: the condition that none is left to sign (each either does not apply or is
    /// signed in this round), when doing the transition moves the record at once.
    pub settled: Option<Expr>,
}

/// One step of a transition, signed through the action `<transition>:<step>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// Its id, unique in the transition.
    pub id: String,
    /// Whether the step applies to a record (absent: always).
    pub when: Option<Expr>,
}

/// The action that signs step `step` of transition `transition`.
pub fn step_action(transition: &str, step: &str) -> String {
    format!("{transition}:{step}")
}

/// One entry of a record's history, as the host records it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// Who did it (a user id).
    pub by: &'a str,
    /// When (RFC 3339, the host's clock).
    pub at: &'a str,
    /// What they wrote, if anything.
    pub comment: Option<&'a str>,
}

impl Workflow {
    /// The transition named `name`.
    pub fn transition(&self, name: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.name == name)
    }

    /// The path of the state field.
    pub fn field_path(&self) -> impl Iterator<Item = &str> {
        self.field.split('.')
    }

    /// The record's state (`None` when absent or not a text).
    pub fn state<'r>(&self, record: &'r Value) -> Option<&'r str> {
        at_path(record, self.field_path())?.as_str()
    }

    /// A new record at the flow's start: in the initial state, with no trail.
    pub fn started(&self, record: &Value) -> Value {
        let mut out = record.clone();
        if let Value::Object(m) = &mut out {
            m.remove(TRAIL);
        }
        set_path(
            &mut out,
            self.field_path(),
            Value::from(self.initial.as_str()),
        );
        out
    }

    /// The record after `e` signs `step` of `t` (or does `t`, which has no steps), moving to
    /// `t.to` when `moves` (the last step that applies, or a transition without steps): the
    /// state, and the trail's history, performers and this round's signatures.
    pub fn record_after(
        &self,
        record: &Value,
        t: &Transition,
        step: Option<&Step>,
        moves: bool,
        e: Entry<'_>,
    ) -> Value {
        let mut out = record.clone();
        let from = self.state(record).map(str::to_string);
        if moves {
            set_path(&mut out, self.field_path(), Value::from(t.to.as_str()));
        }
        let mut trail = match record.get(TRAIL) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        // Who did it, for the separation rules.
        let mut by = take_object(&mut trail, "by");
        match step {
            Some(s) => {
                let mut steps = take_object(&mut by, &t.name);
                push_unique(&mut steps, &s.id, e.by);
                by.insert(t.name.clone(), Value::Object(steps));
            }
            None => push_unique(&mut by, &t.name, e.by),
        }
        trail.insert("by".into(), Value::Object(by));
        // This round's signatures: cleared whenever the state moves.
        let mut signed = take_object(&mut trail, "signed");
        if moves {
            signed.clear();
        } else if let Some(s) = step {
            push_unique(&mut signed, &t.name, &s.id);
        }
        trail.insert("signed".into(), Value::Object(signed));
        let mut entry = Map::new();
        entry.insert(
            "action".into(),
            Value::from(match step {
                Some(s) => step_action(&t.name, &s.id),
                None => t.name.clone(),
            }),
        );
        entry.insert("transition".into(), Value::from(t.name.as_str()));
        if let Some(s) = step {
            entry.insert("step".into(), Value::from(s.id.as_str()));
        }
        entry.insert("by".into(), Value::from(e.by));
        entry.insert("at".into(), Value::from(e.at));
        entry.insert("from".into(), from.map_or(Value::Null, Value::from));
        entry.insert(
            "to".into(),
            if moves {
                Value::from(t.to.as_str())
            } else {
                Value::Null
            },
        );
        if let Some(c) = e.comment {
            entry.insert("comment".into(), Value::from(c));
        }
        let mut history = match trail.remove("history") {
            Some(Value::Array(h)) => h,
            _ => Vec::new(),
        };
        history.push(Value::Object(entry));
        trail.insert("history".into(), Value::Array(history));
        if let Value::Object(m) = &mut out {
            m.insert(TRAIL.into(), Value::Object(trail));
        }
        out
    }
}

/// The steps of transition `t` signed on `record` since its state last moved.
pub fn signed<'r>(record: &'r Value, t: &str) -> Vec<&'r str> {
    strings(at_path(record, [TRAIL, "signed", t]))
}

/// Everyone who ever did `t` (or its step `step`) on `record`.
pub fn performers<'r>(record: &'r Value, t: &str, step: Option<&str>) -> Vec<&'r str> {
    let by = at_path(record, [TRAIL, "by", t]);
    strings(match step {
        Some(s) => by.and_then(|v| v.get(s)),
        None => by,
    })
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn at_path<'r, 'k>(
    record: &'r Value,
    path: impl IntoIterator<Item = &'k str>,
) -> Option<&'r Value> {
    path.into_iter().try_fold(record, |v, k| v.get(k))
}

/// Sets `path` in `record`, making the objects on the way (a record is an object).
fn set_path<'k>(record: &mut Value, path: impl Iterator<Item = &'k str>, value: Value) {
    let keys: Vec<&str> = path.collect();
    let Some((last, way)) = keys.split_last() else {
        return;
    };
    let mut at = record;
    for k in way {
        if !at.get(*k).is_some_and(Value::is_object) {
            if let Value::Object(m) = at {
                m.insert((*k).to_string(), Value::Object(Map::new()));
            }
        }
        match at.get_mut(*k) {
            Some(next) => at = next,
            None => return,
        }
    }
    if let Value::Object(m) = at {
        m.insert((*last).to_string(), value);
    }
}

/// The object under `key` of `m`, taken out (empty when absent or not an object).
fn take_object(m: &mut Map<String, Value>, key: &str) -> Map<String, Value> {
    match m.remove(key) {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    }
}

/// Adds `item` to the list under `key` of `m` (made when absent or not a list), once.
fn push_unique(m: &mut Map<String, Value>, key: &str, item: &str) {
    let mut list = match m.remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let v = Value::from(item);
    if !list.iter().any(|x| json_eq(x, &v)) {
        list.push(v);
    }
    m.insert(key.to_string(), Value::Array(list));
}
