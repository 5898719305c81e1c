//! Explanations: which grants and rules decided, so a UI can say why.

use crate::core::condition::Truth;
use crate::core::error::RequestError;
use crate::core::policy::{lists, Effect, Policy, Scope, Targets};
use crate::core::session::{Input, ResourceId, Session};
use crate::core::state::{FieldState, Mode};
use crate::core::window::Window;
use crate::prelude::*;
use serde::Serialize;
use serde_json::Value;

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
    /// The policy is stale (past its validity, kept for an offline device): only `view` is
    /// allowed and fields are at most readonly.
    Stale,
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
    /// Its position in the holder's list of grants.
    pub index: u32,
    /// The user's roles that bring in this grant (for template and role grants).
    pub via_roles: Vec<String>,
    /// Its data scope.
    pub scope: Scope,
    /// Whether it has a `when` condition.
    pub conditional: bool,
    /// Whether it is written for every resource (`"resource": "*"`).
    pub wildcard: bool,
    /// Whether it applies (`true` also when it may apply to some record).
    pub applies: bool,
    /// Whether it lists the action.
    pub lists_action: bool,
    /// What its scope matched on the record, for the scopes that reach past the record itself
    /// (absent without a record, or when it does not apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<ScopeMatch>,
    /// A personal grant's last moment (RFC 3339), when it is dated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// What a `subordinates`, `member` or `parent` scope matched on a record: the reporting line,
/// the members list or the parent record that let the grant apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum ScopeMatch {
    /// The record's owner and how far below the user they are (0: the user themself).
    Subordinates {
        /// The owner's id.
        owner: String,
        /// Levels below the user in the reporting line.
        distance: u64,
    },
    /// The record's members list (the attribute) holds the user.
    Member {
        /// The members attribute.
        list: String,
    },
    /// The parent record the same action is allowed on.
    Parent {
        /// The parent resource.
        resource: String,
        /// The parent record's id, when it has one.
        id: Option<String>,
    },
}

/// One rule, seen from this decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleTrace {
    /// The rule id (for personal denies and limits, their JSON path).
    pub id: String,
    /// `deny` or `limit`.
    pub effect: &'static str,
    /// Whether it applies.
    pub applies: bool,
    /// For deny rules: whether it lists the action.
    pub lists_action: bool,
    /// Whether it has a `when` condition.
    pub conditional: bool,
    /// A personal deny's or limit's last moment (RFC 3339), when it is dated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A window's end as RFC 3339 text, for the explanation.
fn until_text(window: Option<&Window>) -> Option<String> {
    window
        .and_then(|w| w.until)
        .map(crate::core::time::format_rfc3339)
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

/// What one rule that reaches a user would do to a resource's fields in one mode, were it to
/// apply (the admin tools show caps on the cells they bear on).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCap {
    /// The rule id (for personal denies and limits, their JSON path).
    pub id: String,
    /// Whether it applies whatever the record and context (`false`: it depends on them).
    pub always: bool,
    /// The cap per field, in declaration order (`editable` where it caps nothing).
    pub caps: Vec<FieldState>,
}

/// Per field, in declaration order, how its state came about.
struct Trail {
    /// The best state applying grants give (before rules).
    granted: Vec<FieldState>,
    /// The grant that gave it.
    set_by: Vec<Option<String>>,
    /// After applying rules (and stale mode).
    states: Vec<FieldState>,
    /// The rule (or `stale`) that lowered it.
    capped_by: Vec<Option<String>>,
}

impl Session {
    /// Explains `can(action, resource)` and the field states of the matching mode. It reads
    /// the plan the decisions use: `allow` is [`Session::can`]'s answer and every field's
    /// `state` is [`Session::fields`]', with the grant and rule that made it so.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`.
    #[expect(
        clippy::indexing_slicing,
        reason = "a `ResourceId` is only made for a resource of this policy; `decided` and every vector of `trail` have one entry per declared field"
    )]
    pub fn explain(
        &self,
        action: &str,
        resource: &str,
        input: Input<'_>,
    ) -> Result<Explanation, RequestError> {
        let p: &Policy = self.policy();
        let rid = p.resource_id(resource)?;
        let aid = p.action_id(rid, action)?;
        let bit = 1u64 << aid.0;
        let mode = Mode::of_action(action);
        let n = p.field_count(rid);
        let mut trail = Trail {
            granted: vec![FieldState::Hidden; n],
            set_by: vec![None; n],
            states: Vec::new(),
            capped_by: vec![None; n],
        };
        let grants = self.trace_grants(rid, mode, bit, input, &mut trail);
        trail.states = trail.granted.clone();
        let (rules, mut denied_by) = self.trace_rules(rid, mode, bit, input, &mut trail);
        if self.is_stale() {
            for (s, by) in trail.states.iter_mut().zip(&mut trail.capped_by) {
                if *s > FieldState::Readonly {
                    *s = FieldState::Readonly;
                    *by = Some("stale".into());
                }
            }
        }
        let allow = self.can_at(rid, aid, input);
        let any_grant = grants.iter().any(|g| g.applies && g.lists_action);
        let reason = match (allow, any_grant) {
            (true, _) => Reason::Allowed,
            (false, _) if self.stale_denies(rid, aid) => Reason::Stale,
            (false, false) => Reason::NoGrant,
            (false, true) => Reason::DeniedByRule,
        };
        if reason != Reason::DeniedByRule {
            denied_by.clear();
        }
        let mut decided = vec![FieldState::Hidden; n];
        self.fields_into(rid, mode, input, &mut decided);
        debug_assert_eq!(
            decided, trail.states,
            "the trace follows the plan's decision"
        );
        let res = p.resource_at(rid.0);
        let fields = res
            .fields
            .names()
            .enumerate()
            .map(|(i, name)| FieldTrace {
                name: name.to_string(),
                state: decided[i],
                set_by: trail.set_by[i].clone(),
                granted: trail.granted[i],
                capped_by: trail.capped_by[i].clone(),
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

    /// Every grant of the plan as seen from this decision; records in `trail` which applying
    /// grant gave each field its best state.
    #[expect(
        clippy::indexing_slicing,
        reason = "a mode indexes the three per-mode caps; `trail` has one entry per declared field"
    )]
    fn trace_grants(
        &self,
        rid: ResourceId,
        mode: Mode,
        bit: u64,
        input: Input<'_>,
        trail: &mut Trail,
    ) -> Vec<GrantTrace> {
        let p: &Policy = self.policy();
        let plan = self.plan(rid);
        let env = self.env(input);
        let m = mode.index();
        let mut grants = Vec::with_capacity(plan.grants.len());
        for g in &plan.grants {
            let grant = p.grant(g.id);
            let applies = g.cond.eval(&env) != Truth::False;
            let path = grant.path(p);
            if applies {
                for (i, s) in g.states.iter().enumerate() {
                    let c = (*s).min(g.caps[m]);
                    if c > trail.granted[i] || (trail.set_by[i].is_none() && c > FieldState::Hidden)
                    {
                        trail.granted[i] = c;
                        trail.set_by[i] = Some(path.clone());
                    }
                }
            }
            let (source, name) = grant.origin.holder(p);
            let via_roles = self
                .roles
                .iter()
                .filter(|&&ro| p.role(ro).grants.contains(&g.id))
                .map(|&ro| p.role(ro).name.clone())
                .collect();
            // A `parent` grant is planned once per action (each decides on its own action of
            // the parent record): it is traced once, as the entry for this action.
            let lists_action = lists(g.actions, bit);
            if let Some(seen) = grants.iter_mut().find(|t: &&mut GrantTrace| t.id == path) {
                if lists_action && !seen.lists_action {
                    seen.applies = applies;
                    seen.lists_action = true;
                    seen.matched = applies
                        .then(|| self.scope_match(rid, grant.scope, input))
                        .flatten();
                }
                continue;
            }
            grants.push(GrantTrace {
                id: path,
                source,
                name: name.to_string(),
                index: grant.index,
                via_roles,
                scope: grant.scope,
                conditional: grant.when.is_some(),
                wildcard: matches!(grant.targets, Targets::All(_)),
                matched: applies
                    .then(|| self.scope_match(rid, grant.scope, input))
                    .flatten(),
                applies,
                lists_action,
                until: until_text(grant.window.as_ref()),
            });
        }
        grants
    }

    /// What `scope` matched on the record of `input` (for the scopes reaching past the record).
    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables"
    )]
    fn scope_match(&self, rid: ResourceId, scope: Scope, input: Input<'_>) -> Option<ScopeMatch> {
        let p: &Policy = self.policy();
        let res = p.resource_at(rid.0);
        let record = input.record?;
        let slot = |s: u32| &p.slots.record[s as usize];
        let text = |s: u32| Some(record.attr(slot(s))?.as_str()?.to_string());
        match scope {
            Scope::Subordinates => {
                let owner = text(res.owner?)?;
                let distance = if owner == self.user_id() {
                    0
                } else {
                    self.reports.get(&owner)?.as_u64()?
                };
                Some(ScopeMatch::Subordinates { owner, distance })
            }
            Scope::Member => Some(ScopeMatch::Member {
                list: slot(res.members?).dotted(),
            }),
            Scope::Parent => {
                let link = res.parent.as_ref()?;
                let parent = record.attr(slot(link.slot))?;
                Some(ScopeMatch::Parent {
                    resource: p.resource_at(link.resource).name.clone(),
                    id: parent.get("id").and_then(Value::as_str).map(String::from),
                })
            }
            _ => None,
        }
    }

    /// Every rule of the plan as seen from this decision, and the deny rules that refuse it;
    /// lowers `trail.states` where applying rules cap them.
    fn trace_rules(
        &self,
        rid: ResourceId,
        mode: Mode,
        bit: u64,
        input: Input<'_>,
        trail: &mut Trail,
    ) -> (Vec<RuleTrace>, Vec<String>) {
        let p: &Policy = self.policy();
        let plan = self.plan(rid);
        let env = self.env(input);
        let n = trail.states.len();
        let mut rules = Vec::with_capacity(plan.rules.len());
        let mut denied_by = Vec::new();
        for r in &plan.rules {
            let rule = p.rule(r.id);
            let applies = r.cond.eval(&env) == Truth::True;
            let lists_action = r.deny != 0 && lists(r.deny, bit);
            if applies {
                let mut caps = vec![FieldState::Editable; n];
                plan.apply_rule(r, mode, &mut caps);
                let lowered = trail.states.iter_mut().zip(&mut trail.capped_by).zip(caps);
                for ((state, by), cap) in lowered {
                    if cap < *state {
                        *state = cap;
                        *by = Some(rule.id.clone());
                    }
                }
                if lists_action {
                    denied_by.push(rule.id.clone());
                }
            }
            let effect = match rule.effect {
                Effect::Deny => "deny",
                Effect::Limit => "limit",
            };
            rules.push(RuleTrace {
                id: rule.id.clone(),
                effect,
                applies,
                lists_action,
                conditional: rule.when.is_some(),
                until: until_text(rule.window.as_ref()),
            });
        }
        (rules, denied_by)
    }

    /// What each rule that reaches this user on `resource` would do to its fields in `mode`,
    /// in the session's order, from the same plan [`Session::fields`] reads.
    ///
    /// # Errors
    /// `unknown_resource`.
    pub fn rule_caps(&self, resource: &str, mode: Mode) -> Result<Vec<RuleCap>, RequestError> {
        let p = self.policy();
        let rid = p.resource_id(resource)?;
        let plan = self.plan(rid);
        let n = p.field_count(rid);
        Ok(plan
            .rules
            .iter()
            .filter(|r| r.cond.as_const() != Some(false))
            .map(|r| {
                let mut caps = vec![FieldState::Editable; n];
                plan.apply_rule(r, mode, &mut caps);
                RuleCap {
                    id: p.rule(r.id).id.clone(),
                    always: r.cond.as_const() == Some(true),
                    caps,
                }
            })
            .collect())
    }
}
