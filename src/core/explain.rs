//! Explanations: which grants and rules decided, so a UI can say why.

use crate::core::condition::Truth;
use crate::core::error::RequestError;
use crate::core::policy::{lists, Effect, Policy};
use crate::core::session::{Input, Session};
use crate::core::state::{FieldState, Mode};
use crate::prelude::*;
use serde::Serialize;

/// Why a decision came out as it did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// The answer of `can`.
    pub allow: bool,
    /// `allowed`, `no_grant` (nothing gives the action) or `denied_by_rule`.
    pub reason: Reason,
    /// The deny rules that forbid the action (empty unless `reason` is `denied_by_rule`).
    pub denied_by: Vec<String>,
    /// Every grant of the user on this resource, with whether it applies.
    pub grants: Vec<GrantTrace>,
    /// Every rule that can reach the user on this resource, with whether it applies.
    pub rules: Vec<RuleTrace>,
    /// The form mode the field states are for (`create`/`edit` for those actions, else `view`).
    pub mode: Mode,
    /// Per field: the state, the grant that set it and the rule that capped it.
    pub fields: Vec<FieldTrace>,
}

/// The outcome of a `can` decision, told apart for UIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Some applying grant lists the action and no deny rule applies.
    Allowed,
    /// No applying grant lists the action.
    NoGrant,
    /// A grant lists it, but an applying deny rule forbids it.
    DeniedByRule,
}

/// One grant, seen from this decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrantTrace {
    /// JSON path of the grant, e.g. `roles.sales.grants[0]`: its stable id.
    pub id: String,
    /// `role`, `template` or `user`.
    pub source: &'static str,
    /// The role or template name, or the user id, that holds the grant.
    pub name: String,
    /// The user's roles that bring in this grant (for template and role grants).
    pub via_roles: Vec<String>,
    /// Whether it applies (`true` also when it may apply to some record).
    pub applies: bool,
    /// Whether it lists the action.
    pub lists_action: bool,
}

/// One rule, seen from this decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    /// The rule id (for personal denies, their JSON path).
    pub id: String,
    /// `deny` or `limit`.
    pub effect: &'static str,
    /// Whether it applies.
    pub applies: bool,
    /// For deny rules: whether it lists the action.
    pub lists_action: bool,
}

/// One field's state and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldTrace {
    /// The field name.
    pub name: String,
    /// The final state.
    pub state: FieldState,
    /// The grant (by id) that gave the highest state, if any.
    pub set_by: Option<String>,
    /// The state before rules.
    pub granted: FieldState,
    /// The rule (by id) that lowered it, if any.
    pub capped_by: Option<String>,
}

impl Session {
    /// Explains `can(action, resource)` and the field states of the matching mode.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`.
    pub fn explain(
        &self,
        action: &str,
        resource: &str,
        input: Input<'_>,
    ) -> Result<Explanation, RequestError> {
        let p: &Policy = self.policy();
        let rid = p.resource_id(resource)?;
        let aid = p.action_id(rid, action)?;
        let r = rid.0;
        let res = &p.resources[r as usize];
        let bit = 1u64 << aid.0;
        let mode = match action {
            "create" => Mode::Create,
            "edit" => Mode::Edit,
            _ => Mode::View,
        };
        let env = self.env(input);
        let view = res.action_bit("view");
        let mode_bit = mode.action().map(|a| res.action_bit(a));
        let n = res.fields.len();

        let mut grants = Vec::new();
        let mut granted = vec![FieldState::Hidden; n];
        let mut set_by: Vec<Option<String>> = vec![None; n];
        for &g in &self.grants {
            let grant = &p.grants[g as usize];
            let Some(shape) = grant.targets.shape(&p.resources, r) else {
                continue;
            };
            let applies = self.grant_condition(grant, r).eval(&env) != Truth::False;
            let path = grant.path(p);
            let cap = match mode_bit {
                Some(b) if lists(shape.actions, b) => FieldState::Editable,
                _ if lists(shape.actions, view) => FieldState::Readonly,
                _ => FieldState::Hidden,
            };
            if applies {
                for (i, s) in shape.states.iter().enumerate() {
                    let c = (*s).min(cap);
                    if c > granted[i] || (set_by[i].is_none() && c > FieldState::Hidden) {
                        granted[i] = c;
                        set_by[i] = Some(path.clone());
                    }
                }
            }
            let (source, name) = grant.origin.holder(p);
            let via_roles = self
                .roles
                .iter()
                .filter(|&&ro| p.roles[ro as usize].grants.contains(&g))
                .map(|&ro| p.roles[ro as usize].name.clone())
                .collect();
            let lists_action = lists(shape.actions, bit);
            grants.push(GrantTrace {
                id: path,
                source,
                name: name.to_string(),
                via_roles,
                applies,
                lists_action,
            });
        }

        let mut rules = Vec::new();
        let mut states = granted.clone();
        let mut capped_by: Vec<Option<String>> = vec![None; n];
        let mut denied_by = Vec::new();
        for &ru in &self.rules {
            let rule = &p.rules[ru as usize];
            let Some(shape) = rule.targets.shape(&p.resources, r) else {
                continue;
            };
            let applies = self.specialized(rule.when.as_ref()).eval(&env) == Truth::True;
            let deny = rule.effect == Effect::Deny;
            let lists_action = deny && lists(shape.actions, bit);
            if applies {
                let caps: Vec<FieldState> = if deny {
                    let all = if lists(shape.actions, view) {
                        FieldState::Hidden
                    } else if mode_bit.is_some_and(|b| lists(shape.actions, b)) {
                        FieldState::Readonly
                    } else {
                        FieldState::Editable
                    };
                    vec![all; n]
                } else {
                    shape.states.to_vec()
                };
                for i in 0..n {
                    if caps[i] < states[i] {
                        states[i] = caps[i];
                        capped_by[i] = Some(rule.id.clone());
                    }
                }
                if lists_action {
                    denied_by.push(rule.id.clone());
                }
            }
            let effect = if deny { "deny" } else { "limit" };
            rules.push(RuleTrace {
                id: rule.id.clone(),
                effect,
                applies,
                lists_action,
            });
        }

        let allow = self.can_at(rid, aid, input);
        let any_grant = grants.iter().any(|g| g.applies && g.lists_action);
        let reason = match (allow, any_grant) {
            (true, _) => Reason::Allowed,
            (false, false) => Reason::NoGrant,
            (false, true) => Reason::DeniedByRule,
        };
        if reason != Reason::DeniedByRule {
            denied_by.clear();
        }
        let fields = res
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| FieldTrace {
                name: f.name.to_string(),
                state: states[i],
                set_by: set_by[i].clone(),
                granted: granted[i],
                capped_by: capped_by[i].clone(),
            })
            .collect();
        Ok(Explanation {
            action: action.to_string(),
            resource: resource.to_string(),
            allow,
            reason,
            denied_by,
            grants,
            rules,
            mode,
            fields,
        })
    }
}
