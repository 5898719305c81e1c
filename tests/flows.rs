//! Approval flows on random flows, grants and histories: what `transitions()` offers agrees with
//! a model written straight from the issue (a transition only from its states, steps in order
//! when they apply, separation rules from the history), with `can` of each action and with the
//! transition filter; and driving records through the flow the way the data API does (offer,
//! then `record_after`) never reaches a state the flow does not allow, never lets one person
//! sign two actions a separation rule keeps apart, and moves a record only when every step that
//! applies is signed.

use fieldgate::core::workflow::{performers, signed, step_action, Entry};
use fieldgate::core::FlowReason;
use fieldgate::{Input, Policy, Subject};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

const STATES: [&str; 4] = ["s0", "s1", "s2", "s3"];
const TRANSITIONS: [&str; 3] = ["t0", "t1", "t2"];
const STEPS: [&str; 3] = ["a", "b", "c"];
const PEOPLE: [&str; 4] = ["p0", "p1", "p2", "p3"];

/// One transition: from-states (bits), to-state, steps (each with an optional amount limit).
#[derive(Debug, Clone)]
struct T {
    from: Vec<usize>,
    to: usize,
    steps: Vec<(usize, Option<u32>)>,
}

#[derive(Debug, Clone)]
struct Flow {
    transitions: Vec<T>,
    /// Separation rules, as names (`t0`, `t1:a`).
    distinct: Vec<Vec<String>>,
    /// Per person, the actions granted (all records).
    grants: Vec<Vec<String>>,
}

impl Flow {
    fn actions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, t) in self.transitions.iter().enumerate() {
            out.push(TRANSITIONS[i].to_string());
            for (s, _) in &t.steps {
                out.push(step_action(TRANSITIONS[i], STEPS[*s]));
            }
        }
        out
    }

    fn doc(&self) -> Value {
        let transitions: serde_json::Map<String, Value> = self
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let steps: Vec<Value> = t
                    .steps
                    .iter()
                    .map(|(s, limit)| match limit {
                        Some(n) => json!({"id": STEPS[*s], "when": format!("record.amount > {n}")}),
                        None => json!({"id": STEPS[*s]}),
                    })
                    .collect();
                let from: Vec<&str> = t.from.iter().map(|&f| STATES[f]).collect();
                (
                    TRANSITIONS[i].to_string(),
                    json!({"from": from, "to": STATES[t.to], "steps": steps}),
                )
            })
            .collect();
        let mut names: Vec<&str> = vec!["view", "edit"];
        names.extend(TRANSITIONS.iter().take(self.transitions.len()));
        let users: serde_json::Map<String, Value> = PEOPLE
            .iter()
            .zip(&self.grants)
            .map(|(p, g)| {
                let mut actions = vec!["view".to_string()];
                actions.extend(g.iter().cloned());
                (
                    p.to_string(),
                    json!({"grants": [{"resource": "doc", "actions": actions}]}),
                )
            })
            .collect();
        let mut workflow = json!({
            "field": "state", "initial": "s0",
            "states": {"s0": {}, "s1": {}, "s2": {}, "s3": {}},
            "transitions": transitions,
        });
        if !self.distinct.is_empty() {
            workflow["distinct"] = json!(self.distinct);
        }
        json!({
            "format": "fieldgate/1", "app": "flows", "version": 1,
            "resources": {"doc": {
                "actions": names,
                "fields": {"state": {}, "amount": {}},
                "workflow": workflow
            }},
            "assignments": {"users": users}
        })
    }
}

fn flow() -> impl Strategy<Value = Flow> {
    let t = (
        prop::collection::btree_set(0..4usize, 1..3),
        0..4usize,
        prop::collection::btree_map(0..3usize, prop::option::of(0..100u32), 0..3),
    )
        .prop_map(|(from, to, steps)| T {
            from: from.into_iter().collect(),
            to,
            steps: steps.into_iter().collect(),
        });
    prop::collection::vec(t, 1..4).prop_flat_map(|transitions| {
        let flow = Flow {
            transitions,
            distinct: Vec::new(),
            grants: Vec::new(),
        };
        let actions = flow.actions();
        let names = {
            let mut n: Vec<String> = TRANSITIONS
                .iter()
                .take(flow.transitions.len())
                .map(|t| t.to_string())
                .collect();
            n.extend(actions.iter().filter(|a| a.contains(':')).cloned());
            n
        };
        let rule = prop::sample::subsequence(names.clone(), 0..=names.len().min(3));
        let grants = prop::collection::vec(
            prop::sample::subsequence(actions.clone(), 0..=actions.len()),
            PEOPLE.len(),
        );
        (Just(flow), prop::collection::vec(rule, 0..3), grants).prop_map(
            |(mut flow, rules, grants)| {
                // A rule needs two different actions once transitions stand for their steps.
                flow.distinct = rules
                    .into_iter()
                    .filter(|r| expand(&flow, r).len() >= 2)
                    .collect();
                flow.grants = grants;
                flow
            },
        )
    })
}

/// A rule's names as actions: a transition with steps stands for each of its steps.
fn expand(flow: &Flow, rule: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in rule {
        let named = match TRANSITIONS.iter().position(|t| t == name) {
            Some(i) if !flow.transitions[i].steps.is_empty() => flow.transitions[i]
                .steps
                .iter()
                .map(|(s, _)| step_action(name, STEPS[*s]))
                .collect(),
            _ => vec![name.clone()],
        };
        for a in named {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// Whether `who` ever did `action` (a transition, or `transition:step`) on `record`.
fn did(record: &Value, who: &str, action: &str) -> bool {
    let (t, s) = match action.split_once(':') {
        Some((t, s)) => (t, Some(s)),
        None => (action, None),
    };
    performers(record, t, s).contains(&who)
}

/// The model: whether `who` may do transition `i` on `record` now, and the step they would
/// sign, written from the issue without the engine.
fn model(flow: &Flow, who: usize, i: usize, record: &Value) -> (bool, Option<usize>) {
    let t = &flow.transitions[i];
    let name = TRANSITIONS[i];
    let state = record["state"].as_str().unwrap_or("");
    let granted = |a: &str| flow.grants[who].iter().any(|g| g == a);
    let me = PEOPLE[who];
    // Kept apart from `a`: some rule naming it (for a gate: one of its steps) where `who` did
    // another of the rule's actions (for a gate: another transition's).
    let apart = |a: &str| {
        flow.distinct.iter().any(|r| {
            let acts = expand(flow, r);
            let of = |x: &str| x == a || x.split_once(':').is_some_and(|(t, _)| t == a);
            acts.iter().any(|x| of(x)) && acts.iter().any(|x| !of(x) && did(record, me, x))
        })
    };
    if !t.from.iter().any(|&f| STATES[f] == state) || !granted(name) || apart(name) {
        return (false, None);
    }
    let amount = record["amount"].as_u64().unwrap_or(0);
    let done = signed(record, name);
    let next = t.steps.iter().position(|(s, limit)| {
        let applies = limit.is_none_or(|n| amount > u64::from(n));
        applies && !done.contains(&STEPS[*s])
    });
    match next {
        None => (true, None),
        Some(k) => {
            let a = step_action(name, STEPS[t.steps[k].0]);
            (granted(&a) && !apart(&a), Some(t.steps[k].0))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_flow_offers_what_the_model_says_and_never_goes_astray(
        flow in flow(),
        amount in 0..100u64,
        calls in prop::collection::vec((0..4usize, 0..3usize), 1..24),
    ) {
        let doc = flow.doc();
        let p = Arc::new(Policy::from_value(&doc).unwrap_or_else(|e| panic!("{e}\n{doc:#}")));
        let w = p.workflow("doc").unwrap().clone();
        let sessions: Vec<_> = PEOPLE.iter().map(|id| p.session(&Subject::new(*id))).collect();
        let mut record = w.started(&json!({"id": "r1", "amount": amount}));
        for (n, (who, i)) in calls.into_iter().enumerate() {
            let i = i % flow.transitions.len();
            let name = TRANSITIONS[i];
            let s = &sessions[who];
            let offered = s.transitions("doc", &record, None).unwrap();
            prop_assert_eq!(offered.len(), flow.transitions.len());
            // Every offer agrees with the model, with `can`, and with the transition filter.
            for (j, o) in offered.iter().enumerate() {
                let (allowed, step) = model(&flow, who, j, &record);
                prop_assert_eq!(o.allowed, allowed, "{} {:?} on {}", PEOPLE[who], o, record);
                if allowed {
                    prop_assert_eq!(o.step.as_deref(), step.map(|k| STEPS[k]));
                    prop_assert_eq!(o.reason, FlowReason::Ok);
                } else {
                    prop_assert_ne!(o.reason, FlowReason::Ok);
                }
                let can = |a: &str| s.can(a, "doc", Input::json(Some(&record), None)).unwrap();
                let via_can = can(&o.transition)
                    && o.step.as_ref().is_none_or(|st| can(&step_action(&o.transition, st)));
                prop_assert_eq!(o.allowed, via_can);
                let f = s.transition_filter("doc", &o.transition, None).unwrap();
                prop_assert_eq!(f.matches(s, &record, &fieldgate::core::NoAttrs), o.allowed);
            }
            // Do it as the data API does.
            let o = &offered[i];
            if !o.allowed {
                continue;
            }
            let t = w.transition(name).unwrap();
            let step = o.step.as_ref().and_then(|id| t.steps.iter().find(|x| &x.id == id));
            let before = record["state"].as_str().unwrap().to_string();
            let at = format!("2026-12-06T10:{n:02}:00Z");
            let e = Entry { by: PEOPLE[who], at: &at, comment: None };
            record = w.record_after(&record, t, step, o.completes, e);
            let after = record["state"].as_str().unwrap();
            prop_assert!(t.from.contains(&before), "left {before} by {name}");
            if o.completes {
                prop_assert_eq!(after, t.to.as_str());
                prop_assert!(signed(&record, name).is_empty());
            } else {
                prop_assert_eq!(after, before.as_str(), "a step that does not complete keeps the state");
            }
            // Nobody did two actions a separation rule keeps apart.
            for r in &flow.distinct {
                for p in PEOPLE {
                    let two = expand(&flow, r).iter().filter(|a| did(&record, p, a)).count();
                    prop_assert!(two <= 1, "{} did two of {:?}: {}", p, r, record);
                }
            }
        }
        // The history holds every move, oldest first, each from the state the one before left.
        let history = record["_flow"]["history"].as_array().cloned().unwrap_or_default();
        let mut state = "s0".to_string();
        for e in &history {
            prop_assert_eq!(e["from"].as_str(), Some(state.as_str()));
            if let Some(to) = e["to"].as_str() {
                state = to.to_string();
            }
        }
        prop_assert_eq!(record["state"].as_str(), Some(state.as_str()));
    }
}
