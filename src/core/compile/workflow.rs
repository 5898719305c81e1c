//! A resource's `workflow`: read and checked, its step actions added to the resource, and the
//! rules that enforce it made (a transition only from its states, a step only when it is the
//! next one that applies, separation of duties, the state field never written by a form).

use super::*;
use crate::core::condition::{intern, CmpOp, Junction, Operand, UserRef};
use crate::core::workflow::{step_action, FlowState, Step, Transition, Workflow, TRAIL};
use alloc::sync::Arc;
use serde_json::Value;

const WORKFLOW_KEYS: &[&str] = &[
    "field",
    "initial",
    "states",
    "transitions",
    "distinct",
    "label",
];
const STATE_KEYS: &[&str] = &["label", "final"];
const TRANSITION_KEYS: &[&str] = &["from", "to", "steps", "comment", "label"];
const STEP_KEYS: &[&str] = &["id", "when", "label"];

/// Actions with a meaning of their own, which a transition cannot be.
const FORM_ACTIONS: &[&str] = &["view", "create", "edit"];

/// The prefix of the ids of the rules a flow makes (user rules may not use it).
pub(super) const FLOW_RULE_PREFIX: &str = "workflow:";

/// Whether `s` may name a step or a transition inside a record's trail path.
fn trail_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl Compiler {
    /// `workflow` of `res`, whose fields and actions are read: the flow, with each step's action
    /// added to the resource's actions.
    pub(super) fn workflow(
        &mut self,
        v: Val<'_>,
        res: &mut Resource,
        path: &JsonPath,
    ) -> Option<Workflow> {
        let m = self.object(v, path)?;
        self.known_keys(m, WORKFLOW_KEYS, path);
        self.label(m, path);
        let field = self
            .required(m, "field", path)
            .and_then(|f| self.string(f, &path.key("field")));
        if let Some(f) = field {
            if res.field_pos(f).is_none() {
                let msg = format!(
                    "the state field `{f}` is not a declared field of `{}`",
                    res.name
                );
                self.error(&path.key("field"), Code::UnknownField, msg);
            }
        }
        if res.field_pos(TRAIL).is_some() {
            let msg = format!("`{TRAIL}` holds a flow's trail: it cannot be a declared field");
            self.error(&path.key("field"), Code::BadWorkflow, msg);
        }
        let sp = path.key("states");
        let mut states = Vec::new();
        let state_entries = self.required(m, "states", path);
        for (name, sv) in self.entries(state_entries, &sp) {
            let p = sp.key(name);
            let mut terminal = false;
            if let Some(sm) = self.object(sv, &p) {
                self.known_keys(sm, STATE_KEYS, &p);
                self.label(sm, &p);
                if let Some(f) = sm.get("final") {
                    match f.to_value() {
                        Value::Bool(b) => terminal = b,
                        _ => self.wrong_type(f, "true or false", &p.key("final")),
                    }
                }
            }
            states.push(FlowState {
                name: name.to_string(),
                terminal,
            });
        }
        if states.is_empty() {
            self.error(
                &sp,
                Code::BadWorkflow,
                "a flow needs at least one state".into(),
            );
        }
        let known = |s: &str| states.iter().any(|x| x.name == s);
        let initial = self
            .required(m, "initial", path)
            .and_then(|v| self.string(v, &path.key("initial")));
        if let Some(i) = initial.filter(|i| !known(i)) {
            let msg = format!("the initial state `{i}` is not one of the flow's states");
            self.error(&path.key("initial"), Code::UnknownState, msg);
        }
        let tp = path.key("transitions");
        let mut transitions = Vec::new();
        let transition_entries = self.required(m, "transitions", path);
        for (name, tv) in self.entries(transition_entries, &tp) {
            let p = tp.key(name);
            if let Some(t) = self.transition(name, tv, res, &states, &p) {
                transitions.push(t);
            }
        }
        let distinct = self.distinct(m.get("distinct"), &transitions, &path.key("distinct"));
        if res.actions.len() > MAX_ACTIONS {
            let msg = format!(
                "a resource may declare at most {MAX_ACTIONS} actions, its flow's steps included"
            );
            self.error(&path.key("transitions"), Code::TooManyActions, msg);
        }
        Some(Workflow {
            field: field?.to_string(),
            initial: initial?.to_string(),
            states,
            transitions,
            distinct,
        })
    }

    fn transition(
        &mut self,
        name: &str,
        v: Val<'_>,
        res: &mut Resource,
        states: &[FlowState],
        p: &JsonPath,
    ) -> Option<Transition> {
        let m = self.object(v, p)?;
        self.known_keys(m, TRANSITION_KEYS, p);
        self.label(m, p);
        if !res.actions.iter().any(|a| a == name) {
            let msg = format!(
                "transition `{name}` needs an action of the same name: add `{name}` to the actions of `{}`",
                res.name
            );
            self.error(p, Code::UnknownAction, msg);
        } else if FORM_ACTIONS.contains(&name) || !trail_name(name) {
            let msg = format!("`{name}` cannot be a transition (use a name of letters, digits, `_` and `-` other than view, create and edit)");
            self.error(p, Code::BadName, msg);
        }
        let known = |s: &str| states.iter().any(|x| x.name == s);
        let fp = p.key("from");
        let from: Vec<String> = match self.required(m, "from", p) {
            Some(f) => self
                .strings(f, &fp)
                .into_iter()
                .filter_map(|(i, s)| {
                    if known(s) {
                        Some(s.to_string())
                    } else {
                        let msg = format!("`{s}` is not one of the flow's states");
                        self.error(&fp.index(i), Code::UnknownState, msg);
                        None
                    }
                })
                .collect(),
            None => Vec::new(),
        };
        let to = self
            .required(m, "to", p)
            .and_then(|v| self.string(v, &p.key("to")));
        if let Some(t) = to.filter(|t| !known(t)) {
            let msg = format!("`{t}` is not one of the flow's states");
            self.error(&p.key("to"), Code::UnknownState, msg);
        }
        let comment_required = match m.get("comment").map(|c| (c, c.as_str())) {
            None | Some((_, Some("optional"))) => false,
            Some((_, Some("required"))) => true,
            Some((c, _)) => {
                let msg = format!(
                    "`comment` is \"required\" or \"optional\", not {}",
                    c.to_value()
                );
                self.error(&p.key("comment"), Code::BadWorkflow, msg);
                false
            }
        };
        let sp = p.key("steps");
        let mut steps: Vec<Step> = Vec::new();
        for (i, sv) in self.array(m.get("steps"), &sp).enumerate() {
            let at = sp.index(i);
            let Some(sm) = self.object(sv, &at) else {
                continue;
            };
            self.known_keys(sm, STEP_KEYS, &at);
            self.label(sm, &at);
            let when = self.condition(sm.get("when"), &at.key("when"));
            let Some(id) = self
                .required(sm, "id", &at)
                .and_then(|v| self.string(v, &at.key("id")))
            else {
                continue;
            };
            let action = step_action(name, id);
            if !trail_name(id) {
                let msg = format!("step id `{id}` must be letters, digits, `_` and `-`");
                self.error(&at.key("id"), Code::BadName, msg);
            } else if steps.iter().any(|s| s.id == id) || res.actions.contains(&action) {
                let msg =
                    format!("step `{id}` is declared twice (or `{action}` is already an action)");
                self.error(&at.key("id"), Code::Duplicate, msg);
            } else {
                res.actions.push(action);
                steps.push(Step {
                    id: id.to_string(),
                    when,
                });
            }
        }
        Some(Transition {
            name: name.to_string(),
            from,
            to: to?.to_string(),
            comment_required,
            steps,
        })
    }

    /// `distinct`: one list of transitions and steps (`approve:finance`), or a list of such
    /// lists; each expanded to actions (a transition with steps stands for each step).
    fn distinct(
        &mut self,
        v: Option<Val<'_>>,
        transitions: &[Transition],
        path: &JsonPath,
    ) -> Vec<Vec<String>> {
        let Some(v) = v else { return Vec::new() };
        let nested = v
            .as_array()
            .is_some_and(|mut a| a.next().is_some_and(|first| first.as_array().is_some()));
        let lists: Vec<(JsonPath, Val<'_>)> = if nested {
            self.array(Some(v), path)
                .enumerate()
                .map(|(i, l)| (path.index(i), l))
                .collect()
        } else {
            vec![(*path, v)]
        };
        let mut out = Vec::new();
        for (p, l) in lists {
            let mut actions: Vec<String> = Vec::new();
            for (i, name) in self.strings(l, &p) {
                let (t, step) = match name.split_once(':') {
                    Some((t, s)) => (t, Some(s)),
                    None => (name, None),
                };
                let found = transitions.iter().find(|x| x.name == t);
                let named: Vec<String> = match (found, step) {
                    (Some(x), None) if x.steps.is_empty() => vec![x.name.clone()],
                    (Some(x), None) => x.steps.iter().map(|s| step_action(t, &s.id)).collect(),
                    (Some(x), Some(s)) if x.steps.iter().any(|y| y.id == s) => {
                        vec![name.to_string()]
                    }
                    _ => {
                        let msg = format!("`{name}` is not a transition or a step of this flow");
                        self.error(&p.index(i), Code::UnknownAction, msg);
                        continue;
                    }
                };
                for a in named {
                    if !actions.contains(&a) {
                        actions.push(a);
                    }
                }
            }
            if actions.len() < 2 {
                let msg = "a separation rule names at least two different transitions or steps";
                self.error(&p, Code::BadWorkflow, msg.into());
            }
            out.push(actions);
        }
        out
    }

    /// The rules that enforce the flows of every resource (their ids start `workflow:`).
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn flow_rules(&mut self) -> Vec<u32> {
        let mut made: Vec<Rule> = Vec::new();
        for (r, res) in self.resources.iter().enumerate() {
            let Some(w) = &res.workflow else { continue };
            let r = r as u32;
            let field: Vec<String> = w.field_path().map(str::to_string).collect();
            let state = Operand::Record(intern(&mut self.slots.record, &field));
            let deny = |id: String, action: &str, when: Expr| Rule {
                id,
                effect: Effect::Deny,
                targets: Targets::One(
                    r,
                    Pattern::<&str> {
                        actions: Some(vec![action]),
                        fields: Vec::new(),
                    }
                    .shape(res),
                ),
                when: Some(when),
                except_roles: Vec::new(),
            };
            let rid = |what: &str| format!("{FLOW_RULE_PREFIX}{}:{what}", res.name);
            for t in &w.transitions {
                let from = Expr::Cmp(
                    CmpOp::In,
                    state.clone(),
                    Operand::Lit(Arc::new(Value::from(t.from.clone()))),
                );
                made.push(deny(rid(&t.name), &t.name, not(from.clone())));
                let signed = intern(
                    &mut self.slots.record,
                    &[TRAIL.to_string(), "signed".into(), t.name.clone()],
                );
                let is_signed = |s: &Step| {
                    Expr::Cmp(
                        CmpOp::In,
                        Operand::Lit(Arc::new(Value::from(s.id.as_str()))),
                        Operand::Record(signed),
                    )
                };
                let applies = |s: &Step| s.when.clone().unwrap_or(Expr::Const(true));
                for (k, s) in t.steps.iter().enumerate() {
                    // Next: from a state it leaves, applying, not signed, and every step before
                    // it that applies signed.
                    let before = t
                        .steps
                        .iter()
                        .take(k)
                        .map(|b| Expr::junction([not(applies(b)), is_signed(b)], Junction::Or));
                    let next = Expr::junction(
                        [from.clone(), applies(s), not(is_signed(s))]
                            .into_iter()
                            .chain(before),
                        Junction::And,
                    );
                    let action = step_action(&t.name, &s.id);
                    made.push(deny(rid(&action), &action, not(next)));
                }
            }
            for (i, rule) in w.distinct.iter().enumerate() {
                // Each listed action, and the gate of each transition whose steps are listed:
                // denied to whoever did another of the rule's actions (for a gate: another
                // transition's).
                let gates = w.transitions.iter().filter(|t| {
                    !t.steps.is_empty() && rule.iter().any(|a| step_of(a) == Some(t.name.as_str()))
                });
                let mut guarded: Vec<(&str, Vec<&String>)> = rule
                    .iter()
                    .map(|a| (a.as_str(), rule.iter().filter(|o| *o != a).collect()))
                    .collect();
                guarded.extend(gates.map(|t| {
                    let others = rule
                        .iter()
                        .filter(|o| step_of(o) != Some(t.name.as_str()))
                        .collect();
                    (t.name.as_str(), others)
                }));
                for (a, others) in guarded {
                    let others = others.into_iter().map(|o| {
                        let mut keys = vec![TRAIL.to_string(), "by".into()];
                        keys.extend(o.split(':').map(str::to_string));
                        let by = intern(&mut self.slots.record, &keys);
                        Expr::Cmp(CmpOp::In, Operand::User(UserRef::Id), Operand::Record(by))
                    });
                    let when = Expr::junction(others.collect::<Vec<_>>(), Junction::Or);
                    made.push(deny(rid(&format!("distinct[{i}]:{a}")), a, when));
                }
            }
            let field_cap = Pattern::<&str> {
                actions: Some(Vec::new()),
                fields: vec![(Some(w.field.as_str()), FieldState::Readonly)],
            };
            made.push(Rule {
                id: rid("field"),
                effect: Effect::Limit,
                targets: Targets::One(r, field_cap.shape(res)),
                when: None,
                except_roles: Vec::new(),
            });
        }
        let first = self.rules.len() as u32;
        self.rules.extend(made);
        (first..self.rules.len() as u32).collect()
    }
}

/// The transition of a step's action (`approve` of `approve:finance`).
fn step_of(action: &str) -> Option<&str> {
    action.split_once(':').map(|(t, _)| t)
}

fn not(e: Expr) -> Expr {
    match e {
        Expr::Const(b) => Expr::Const(!b),
        other => Expr::Not(Box::new(other)),
    }
}
