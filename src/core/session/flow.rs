//! Which transitions and steps of a record's flow this person may do now, and why not. Whether
//! one is allowed is `can` of its action (the flow's rules are in the plan); the reason only
//! names the first thing in the way, read from the same flow and trail.

use super::{Input, ResourceId, Session};
use crate::core::condition::Truth;
use crate::core::error::RequestError;
use crate::core::workflow::{performers, signed, step_action, Transition, Workflow};
use crate::prelude::*;
use serde_json::{Map, Value};

/// Why a transition or step is open to this person, or the first thing in the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowReason {
    /// They may do it now.
    Ok,
    /// The record's state is not one the transition leaves.
    WrongStatus,
    /// The step does not apply to this record (its `when` is false).
    Skipped,
    /// The step is already signed in this round.
    Signed,
    /// An earlier step that applies is not signed yet.
    NotNext,
    /// They did another transition or step that a separation rule keeps apart from this one.
    Distinct,
    /// No grant gives them the action here (or a deny rule takes it).
    Forbidden,
}

impl FlowReason {
    /// Its stable name: `ok`, `wrong_status`, `skipped`, `signed`, `not_next`, `distinct`,
    /// `forbidden`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowReason::Ok => "ok",
            FlowReason::WrongStatus => "wrong_status",
            FlowReason::Skipped => "skipped",
            FlowReason::Signed => "signed",
            FlowReason::NotNext => "not_next",
            FlowReason::Distinct => "distinct",
            FlowReason::Forbidden => "forbidden",
        }
    }
}

/// One step of a transition, for one person and record.
#[derive(Debug, Clone)]
pub struct StepAnswer {
    /// The step's id (its action is `<transition>:<id>`).
    pub step: String,
    /// Whether it applies to the record.
    pub applies: bool,
    /// Whether it is signed in this round.
    pub signed: bool,
    /// Whether this person may sign it now.
    pub allowed: bool,
    /// Why (not).
    pub reason: FlowReason,
}

/// One transition, for one person and record.
#[derive(Debug, Clone)]
pub struct TransitionAnswer {
    /// The transition (and its action).
    pub transition: String,
    /// The state it reaches.
    pub to: String,
    /// Whether this person may do it now (for a transition with steps: sign the next step).
    pub allowed: bool,
    /// Why (not).
    pub reason: FlowReason,
    /// The step they would sign (a transition with steps that apply).
    pub step: Option<String>,
    /// Whether doing it now moves the record to `to` (no step that applies is left after it).
    pub completes: bool,
    /// Whether a comment is required.
    pub comment_required: bool,
    /// Its steps.
    pub steps: Vec<StepAnswer>,
}

impl TransitionAnswer {
    /// The answer as JSON: `{"transition", "to", "allowed", "reason", "step", "completes",
    /// "comment_required", "steps": [{"step", "applies", "signed", "allowed", "reason"}]}`.
    /// Who signed what is the record's own trail (`_flow.by`, and its history).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        put("transition", Value::from(self.transition.as_str()));
        put("to", Value::from(self.to.as_str()));
        put("allowed", Value::Bool(self.allowed));
        put("reason", Value::from(self.reason.as_str()));
        put(
            "step",
            self.step.as_deref().map_or(Value::Null, Value::from),
        );
        put("completes", Value::Bool(self.completes));
        put("comment_required", Value::Bool(self.comment_required));
        let mut steps = Vec::new();
        for s in &self.steps {
            let mut o = Map::new();
            o.insert("step".into(), Value::from(s.step.as_str()));
            o.insert("applies".into(), Value::Bool(s.applies));
            o.insert("signed".into(), Value::Bool(s.signed));
            o.insert("allowed".into(), Value::Bool(s.allowed));
            o.insert("reason".into(), Value::from(s.reason.as_str()));
            steps.push(Value::Object(o));
        }
        put("steps", Value::Array(steps));
        Value::Object(m)
    }
}

/// Every transition's answer as a JSON list.
pub fn transitions_json(answers: &[TransitionAnswer]) -> Value {
    let mut out = Vec::new();
    for a in answers {
        out.push(a.to_json());
    }
    Value::Array(out)
}

impl Session {
    /// The transitions of `resource`'s flow on `record`, as this person may do them now (none
    /// when the resource has no flow).
    ///
    /// # Errors
    /// `unknown_resource`.
    pub fn transitions(
        &self,
        resource: &str,
        record: &Value,
        context: Option<&Value>,
    ) -> Result<Vec<TransitionAnswer>, RequestError> {
        let r = self.policy().resource_id(resource)?;
        let Some(w) = &self.policy().resource_at(r.index()).workflow else {
            return Ok(Vec::new());
        };
        let input = Input::json(Some(record), context);
        let can = |action: &str| {
            self.policy()
                .action_id(r, action)
                .is_ok_and(|a| self.can_at(r, a, input))
        };
        let state = w.state(record);
        let mut out = Vec::new();
        for t in &w.transitions {
            let leaves = state.is_some_and(|s| t.from.iter().any(|f| f == s));
            let done = signed(record, &t.name);
            let mut steps: Vec<StepAnswer> = Vec::new();
            let mut next = None;
            for s in &t.steps {
                let applies =
                    self.specialized(s.when.as_ref()).eval(&self.env(input)) != Truth::False;
                let is_signed = done.contains(&s.id.as_str());
                let blocked = next.is_some();
                if applies && !is_signed && next.is_none() {
                    next = Some(steps.len());
                }
                let action = step_action(&t.name, &s.id);
                let allowed = can(&action);
                let reason = if allowed {
                    FlowReason::Ok
                } else if !leaves {
                    FlowReason::WrongStatus
                } else if !applies {
                    FlowReason::Skipped
                } else if is_signed {
                    FlowReason::Signed
                } else if blocked {
                    FlowReason::NotNext
                } else {
                    self.apart(w, r, record, &action)
                };
                steps.push(StepAnswer {
                    step: s.id.clone(),
                    applies,
                    signed: is_signed,
                    allowed,
                    reason,
                });
            }
            // Whether a later step that applies is theirs on some record.
            let waits = steps
                .iter()
                .skip(next.map_or(usize::MAX, |k| k + 1))
                .any(|s| {
                    s.applies && !s.signed && {
                        let a = step_action(&t.name, &s.step);
                        self.policy()
                            .action_id(r, &a)
                            .is_ok_and(|a| self.can_at(r, a, Input::NONE))
                    }
                });
            let gates = (can(&t.name), waits);
            out.push(self.transition_answer((w, r), t, record, leaves, next, steps, gates));
        }
        Ok(out)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one answer, worked out by the caller's loop"
    )]
    fn transition_answer(
        &self,
        (w, r): (&Workflow, ResourceId),
        t: &Transition,
        record: &Value,
        leaves: bool,
        next: Option<usize>,
        steps: Vec<StepAnswer>,
        (gate, waits): (bool, bool),
    ) -> TransitionAnswer {
        let pending = next.and_then(|k| steps.get(k));
        let allowed = gate && pending.is_none_or(|s| s.allowed);
        let reason = match pending {
            _ if allowed => FlowReason::Ok,
            _ if !leaves => FlowReason::WrongStatus,
            _ if !gate => self.apart(w, r, record, &t.name),
            // Someone who may sign a later step waits for the pending one.
            Some(s) if s.reason == FlowReason::Forbidden && waits => FlowReason::NotNext,
            Some(s) => s.reason,
            None => FlowReason::Forbidden,
        };
        // It completes when no step that applies is unsigned after the one signed now.
        let completes = steps
            .iter()
            .enumerate()
            .all(|(k, s)| Some(k) == next || !s.applies || s.signed);
        TransitionAnswer {
            transition: t.name.clone(),
            to: t.to.clone(),
            allowed,
            reason,
            step: pending.map(|s| s.step.clone()),
            completes,
            comment_required: t.comment_required,
            steps,
        }
    }

    /// `distinct` when a separation rule keeps this person from `action`, which they may do on
    /// some record (they did another of the rule's actions on this one), else `forbidden`.
    fn apart(&self, w: &Workflow, r: ResourceId, record: &Value, action: &str) -> FlowReason {
        let theirs = self
            .policy()
            .action_id(r, action)
            .is_ok_and(|a| self.can_at(r, a, Input::NONE));
        if !theirs {
            return FlowReason::Forbidden;
        }
        let me = self.user_id();
        let did = |other: &str| {
            let (t, step) = match other.split_once(':') {
                Some((t, s)) => (t, Some(s)),
                None => (other, None),
            };
            performers(record, t, step).contains(&me)
        };
        // A transition's gate is kept apart by a rule listing its steps, from the rule's
        // other transitions.
        let of = |a: &str| a == action || a.split_once(':').is_some_and(|(t, _)| t == action);
        let hit = w
            .distinct
            .iter()
            .filter(|rule| rule.iter().any(|a| of(a)))
            .any(|rule| rule.iter().any(|o| !of(o) && did(o)));
        if hit {
            FlowReason::Distinct
        } else {
            FlowReason::Forbidden
        }
    }
}
