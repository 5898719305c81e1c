//! A resource's `workflow`: read and checked, its step actions added to the resource, and the
//! rules that enforce it made (a transition only from its states, a step only when it is the
//! next one that applies, separation of duties, the state field never written by a form).

use super::*;
use crate::core::condition::{intern, CmpOp, Operand, UserRef};
use crate::core::workflow::{step_action, Step, Transition, Workflow, TRAIL};
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
                let msg = format!("state field `{f}` is not a field of `{}`", res.name);
                self.error(&path.key("field"), Code::UnknownField, msg);
            }
        }
        if res.field_pos(TRAIL).is_some() {
            let msg = format!("`{TRAIL}` is the flow's trail, not a field");
            self.error(&path.key("field"), Code::BadWorkflow, msg);
        }
        let sp = path.key("states");
        let mut states = Vec::new();
        let state_entries = self.required(m, "states", path);
        for (name, sv) in self.entries(state_entries, &sp) {
            let p = sp.key(name);
            if let Some(sm) = self.object(sv, &p) {
                self.known_keys(sm, STATE_KEYS, &p);
                self.label(sm, &p);
                if let Some(f) = sm.get("final").filter(|f| f.to_value().as_bool().is_none()) {
                    self.wrong_type(f, "true or false", &p.key("final"));
                }
            }
            states.push(name.to_string());
        }
        if states.is_empty() {
            self.error(
                &sp,
                Code::BadWorkflow,
                "a flow needs at least one state".into(),
            );
        }
        let known = |s: &str| states.iter().any(|x| x == s);
        let initial = self
            .required(m, "initial", path)
            .and_then(|v| self.string(v, &path.key("initial")));
        if let Some(i) = initial.filter(|i| !known(i)) {
            let msg = format!("no state `{i}` in this flow");
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
            let msg = format!("more than {MAX_ACTIONS} actions with the flow's steps");
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
        states: &[String],
        p: &JsonPath,
    ) -> Option<Transition> {
        let m = self.object(v, p)?;
        self.known_keys(m, TRANSITION_KEYS, p);
        self.label(m, p);
        if !res.actions.iter().any(|a| a == name) {
            let msg = format!(
                "transition `{name}` needs the action `{name}` in `{}`",
                res.name
            );
            self.error(p, Code::UnknownAction, msg);
        } else if FORM_ACTIONS.contains(&name) || !trail_name(name) {
            let msg = format!("`{name}` cannot name a transition (letters, digits, `_`, `-`; not view, create, edit)");
            self.error(p, Code::BadName, msg);
        }
        let known = |s: &str| states.iter().any(|x| x == s);
        let fp = p.key("from");
        let from: Vec<String> = match self.required(m, "from", p) {
            Some(f) => self
                .strings(f, &fp)
                .into_iter()
                .filter_map(|(i, s)| {
                    if known(s) {
                        Some(s.to_string())
                    } else {
                        let msg = format!("no state `{s}` in this flow");
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
            let msg = format!("no state `{t}` in this flow");
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
                let msg = format!("step id `{id}`: letters, digits, `_`, `-`");
                self.error(&at.key("id"), Code::BadName, msg);
            } else if steps.iter().any(|s| s.id == id) || res.actions.contains(&action) {
                let msg = format!("step `{id}` twice (or `{action}` is an action)");
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
            settled: None,
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
                        let msg = format!("no transition or step `{name}` in this flow");
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
                let msg = "a separation rule needs two transitions or steps";
                self.error(&p, Code::BadWorkflow, msg.into());
            }
            out.push(actions);
        }
        out
    }

    /// The rules that enforce the flows of every resource (their ids start `workflow:`).
    /// Plain loops over owned parts: this runs in the browser's module, where every
    /// monomorphised iterator adapter costs download.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn flow_rules(&mut self) -> Vec<u32> {
        let first = self.rules.len() as u32;
        for r in 0..self.resources.len() {
            let Some(mut w) = self.resources.get_mut(r).and_then(|x| x.workflow.take()) else {
                continue;
            };
            let field: Vec<String> = w.field_path().map(str::to_string).collect();
            let state = Operand::Record(intern(&mut self.slots.record, &field));
            let mut made: Vec<(String, Expr)> = Vec::new();
            for t in &mut w.transitions {
                let from = Expr::Cmp(
                    CmpOp::In,
                    state.clone(),
                    Operand::Lit(Arc::new(Value::from(t.from.clone()))),
                );
                made.push((t.name.clone(), not(from.clone())));
                let signed = Operand::Record(intern(
                    &mut self.slots.record,
                    &[TRAIL.to_string(), "signed".into(), t.name.clone()],
                ));
                // Per step: "it does not apply or it is signed", and "it applies and is not".
                let mut done = Vec::new();
                for s in &t.steps {
                    let applies = s.when.clone().unwrap_or(Expr::Const(true));
                    let id = Operand::Lit(Arc::new(Value::from(s.id.as_str())));
                    let is_signed = Expr::Cmp(CmpOp::In, id, signed.clone());
                    // Next: from a state it leaves, applying, not signed, and every step before
                    // it that applies signed.
                    let mut next = vec![from.clone(), applies.clone(), not(is_signed.clone())];
                    next.extend(done.iter().cloned());
                    made.push((step_action(&t.name, &s.id), not(all(next))));
                    done.push(any(vec![not(applies), is_signed]));
                }
                if !t.steps.is_empty() {
                    t.settled = Some(all(done));
                }
            }
            // Per action, everyone a separation rule keeps from it (rules naming it are one).
            let mut apart: Vec<(String, Vec<Expr>)> = Vec::new();
            for rule in &w.distinct {
                // Each listed action, and the gate of each transition whose steps are listed:
                // denied to whoever did another of the rule's actions (for a gate: another
                // transition's).
                let mut guarded: Vec<(String, Vec<&String>)> = Vec::new();
                for a in rule {
                    let others = rule.iter().filter(|o| *o != a).collect();
                    guarded.push((a.clone(), others));
                    if let Some(t) = step_of(a) {
                        if !guarded.iter().any(|(g, _)| g == t) {
                            let others = rule.iter().filter(|o| step_of(o) != Some(t)).collect();
                            guarded.push((t.to_string(), others));
                        }
                    }
                }
                for (a, others) in guarded {
                    let at = match apart.iter().position(|(x, _)| *x == a) {
                        Some(i) => i,
                        None => {
                            apart.push((a, Vec::new()));
                            apart.len() - 1
                        }
                    };
                    for o in others {
                        let mut keys = vec![TRAIL.to_string(), "by".into()];
                        keys.extend(o.split(':').map(str::to_string));
                        let by = Operand::Record(intern(&mut self.slots.record, &keys));
                        if let Some((_, did)) = apart.get_mut(at) {
                            did.push(Expr::Cmp(CmpOp::In, Operand::User(UserRef::Id), by));
                        }
                    }
                }
            }
            let Some(res) = self.resources.get_mut(r) else {
                continue;
            };
            let apart = apart
                .into_iter()
                .map(|(a, did)| (format!("distinct:{a}"), any(did)));
            for (what, when) in made.into_iter().chain(apart) {
                let action = what.strip_prefix("distinct:").unwrap_or(&what);
                let shape = Pattern {
                    actions: Some(vec![action]),
                    fields: Vec::new(),
                }
                .shape(res);
                self.rules.push(Rule {
                    id: format!("{FLOW_RULE_PREFIX}{}:{what}", res.name),
                    effect: Effect::Deny,
                    targets: Targets::One(r as u32, shape),
                    when: Some(when),
                    except_roles: Vec::new(),
                    window: None,
                });
            }
            let field_cap = Pattern {
                actions: Some(Vec::new()),
                fields: vec![(Some(w.field.as_str()), FieldState::Readonly)],
            };
            self.rules.push(Rule {
                id: format!("{FLOW_RULE_PREFIX}{}:field", res.name),
                effect: Effect::Limit,
                targets: Targets::One(r as u32, field_cap.shape(res)),
                when: None,
                except_roles: Vec::new(),
                window: None,
            });
            res.workflow = Some(w);
        }
        (first..self.rules.len() as u32).collect()
    }
}

/// The transition of a step's action (`approve` of `approve:finance`).
fn step_of(action: &str) -> Option<&str> {
    action.split_once(':').map(|(t, _)| t)
}

/// All of `parts` (the enum's own constructors: a generic junction is one more copy of its
/// folding code in the browser's module, and `not` already folds the constants these meet).
fn all(mut parts: Vec<Expr>) -> Expr {
    match parts.len() {
        0 => Expr::Const(true),
        1 => parts.remove(0),
        _ => Expr::And(parts),
    }
}

/// Any of `parts`.
fn any(mut parts: Vec<Expr>) -> Expr {
    match parts.len() {
        0 => Expr::Const(false),
        1 => parts.remove(0),
        _ => Expr::Or(parts),
    }
}

fn not(e: Expr) -> Expr {
    match e {
        Expr::Const(b) => Expr::Const(!b),
        other => Expr::Not(Box::new(other)),
    }
}
