//! Lint for approval flows: states nothing reaches, transitions and steps nobody can do, and
//! flows with no separation rule. "Can" is the engine's answer on some record, for every role
//! on its own, every person the policy names, and the directory's people.

use super::{warn, LintCode, Warning};
use crate::admin::directory::Directory;
use crate::admin::subjects;
use crate::core::workflow::step_action;
use crate::core::{Input, Policy, Session, Subject};
use std::sync::Arc;

pub(super) fn flows(p: &Arc<Policy>, directory: Option<&Directory>, out: &mut Vec<Warning>) {
    let flows: Vec<_> = p
        .resources
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.workflow.as_ref()?)))
        .collect();
    if flows.is_empty() {
        return;
    }
    let mut people: Vec<Subject> = p.roles.iter().map(|r| subjects::role(p, &r.name)).collect();
    people.extend(p.user_ids().map(Subject::new));
    if let Some(d) = directory {
        people.extend(d.people().iter().map(|person| person.subject()));
    }
    let sessions: Vec<Session> = people.iter().map(|s| p.session(s)).collect();
    let anyone = |resource: &str, action: &str| {
        sessions
            .iter()
            .any(|s| s.can(action, resource, Input::NONE).unwrap_or(false))
    };
    for (resource, w) in flows {
        let at = format!("resources.{resource}.workflow");
        for s in &w.states {
            let reached = *s == w.initial || w.transitions.iter().any(|t| t.to == *s);
            if !reached {
                let msg = format!(
                    "no transition of `{resource}` leads to state `{}`, and records start in `{}`",
                    s, w.initial
                );
                warn(
                    out,
                    format!("{at}.states.{s}"),
                    LintCode::UnreachableState,
                    msg,
                );
            }
        }
        for t in &w.transitions {
            let tp = format!("{at}.transitions.{}", t.name);
            if !anyone(resource, &t.name) {
                let msg = format!(
                    "nobody can `{}` a `{resource}`: no grant gives the action",
                    t.name
                );
                warn(out, tp.clone(), LintCode::TransitionNobodyCanDo, msg);
            }
            for (i, step) in t.steps.iter().enumerate() {
                let action = step_action(&t.name, &step.id);
                if !anyone(resource, &action) {
                    let msg = format!(
                        "nobody can sign step `{}` of `{}` on a `{resource}`: no grant gives `{action}`",
                        step.id, t.name
                    );
                    warn(
                        out,
                        format!("{tp}.steps[{i}]"),
                        LintCode::StepNobodyCanSign,
                        msg,
                    );
                }
            }
        }
        if w.distinct.is_empty() {
            let msg = format!(
                "the flow of `{resource}` has no separation rule (`distinct`): one person may submit and approve the same record"
            );
            warn(out, at, LintCode::FlowWithoutSeparation, msg);
        }
    }
}
