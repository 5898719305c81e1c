//! Sessions: one user's precomputed view of a policy, and the decisions made through it.
//!
//! `mod.rs` holds the session and its decisions; `plan.rs` the per-resource plans every
//! decision reads; `data.rs` the shaping of records by those decisions (what a form shows, what
//! it may submit); `roles.rs` how a subject comes to hold roles.

mod data;
mod export;
mod flow;
mod plan;
mod roles;

pub use crate::core::policy::{ActionId, ResourceId};
pub use export::{export_cells, ExportColumns};
pub use flow::{transitions_json, FlowReason, StepAnswer, TransitionAnswer};
pub(crate) use plan::Plan;
use plan::{lower, raise_capped};
pub use roles::{RoleSource, RoleVia};

use crate::core::attrs::{Attrs, NoAttrs};
use crate::core::condition::{
    CmpOp, Env, Expr, Ids, Junction, Operand, ParentTest, Truth, UserRef, UserValues,
};
use crate::core::error::RequestError;
use crate::core::policy::*;
use crate::core::state::{FieldState, Mode};
use crate::core::subject::{reports_within, Subject};
use crate::core::window::{self, At};
use crate::prelude::*;
use alloc::sync::Arc;
use core::cell::OnceCell;
use serde_json::{Map, Value};

impl ResourceId {
    /// The position of the resource in declaration order.
    pub fn index(self) -> u32 {
        self.0
    }
}

impl ActionId {
    /// The position of the action in the resource's declaration order.
    pub fn index(self) -> u32 {
        u32::from(self.0)
    }
}

/// What one decision reads besides the subject: the record (if any) and the context.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    /// The record; `None` asks "for some record" (list pages, new forms).
    pub record: Option<&'a dyn Attrs>,
    /// Request context (`context.*`); missing paths are null.
    pub context: &'a dyn Attrs,
}

impl<'a> Input<'a> {
    /// No record, empty context.
    pub const NONE: Input<'static> = Input {
        record: None,
        context: &NoAttrs,
    };

    /// An input from optional JSON record and context.
    pub fn json(record: Option<&'a Value>, context: Option<&'a Value>) -> Input<'a> {
        Input {
            record: record.map(|r| r as &dyn Attrs),
            context: context.map_or(&NoAttrs as &dyn Attrs, |c| c as &dyn Attrs),
        }
    }
}

impl Policy {
    /// Precomputes one user's effective roles, grants and rules with no time given: every
    /// dated entry (`from`, `until`) is left out. Hosts with a clock use [`Policy::session_at`].
    pub fn session(self: &Arc<Self>, subject: &Subject) -> Session {
        Session::new(Arc::clone(self), subject, At::Unknown)
    }

    /// The same at `now` (Unix ms): dated entries count inside their window only.
    pub fn session_at(self: &Arc<Self>, subject: &Subject, now: i64) -> Session {
        Session::new(Arc::clone(self), subject, At::Time(now))
    }
}

/// One user's view of a policy: effective roles, grants and rules, computed once and reused
/// across many decisions. Per-resource plans are built on first use.
pub struct Session {
    policy: Arc<Policy>,
    pub(crate) roles: Vec<u32>,
    pub(crate) grants: Vec<u32>,
    pub(crate) rules: Vec<u32>,
    pub(crate) user: UserValues,
    /// The reporting line below the user, by id, with distances (the subject's).
    pub(crate) reports: Map<String, Value>,
    plans: Vec<OnceCell<Plan>>,
    stale: bool,
    /// When a dated entry reaching the user next starts or stops existing (Unix ms): the
    /// session's answers hold until then.
    changes_at: Option<i64>,
}

impl Session {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    fn new(policy: Arc<Policy>, subject: &Subject, at: At) -> Session {
        let p = &*policy;
        let assignment = p.users.get(&subject.id);
        let dept = subject
            .department
            .as_deref()
            .and_then(|d| p.department_pos(d));
        let mut roles: Vec<u32> = Vec::new();
        p.resolve_roles(subject, at, |r, _, _| roles.push(r));
        sort_ids(&mut roles);
        roles.dedup();

        let mut grants: Vec<u32> = roles
            .iter()
            .flat_map(|&r| p.role(r).grants.iter().copied())
            .collect();
        grants.extend(
            assignment
                .into_iter()
                .flat_map(|a| a.grants.iter().copied())
                .filter(|&g| window::exists(p.grant(g).window.as_ref(), at)),
        );
        sort_ids(&mut grants);
        grants.dedup();

        let mut rules: Vec<u32> = p
            .global_rules
            .iter()
            .copied()
            .filter(|&r| {
                !p.rule(r)
                    .except_roles
                    .iter()
                    .any(|x| roles.binary_search(x).is_ok())
            })
            .collect();
        rules.extend(
            assignment
                .into_iter()
                .flat_map(|a| a.rules.iter().copied())
                .filter(|&r| window::exists(p.rule(r).window.as_ref(), at)),
        );
        rules.extend(p.flow_rules.iter().copied());

        // The department tree is listed only for a session that has a `department_tree` grant,
        // and role names only when a condition reads `user.roles`.
        let tree_scoped = grants
            .iter()
            .any(|&g| p.grant(g).scope == Scope::DepartmentTree);
        let department_tree = match (&subject.department, dept) {
            (Some(_), Some(d)) if tree_scoped => Value::Array(
                (0..p.departments.len() as u32)
                    .filter(|&c| is_within(p, c, d))
                    .map(|c| Value::String(p.department(c).name.clone()))
                    .collect(),
            ),
            (Some(name), None) if tree_scoped => Value::Array(vec![Value::String(name.clone())]),
            _ => Value::Null,
        };
        let role_names = if p.reads_user_roles() {
            let names = by_name(roles.iter().map(|&r| p.role(r).name.as_str()));
            Value::Array(names.into_iter().map(|n| Value::String(n.into())).collect())
        } else {
            Value::Null
        };
        let user = UserValues {
            id: Value::String(subject.id.clone()),
            roles: role_names,
            department: subject
                .department
                .clone()
                .map_or(Value::Null, Value::String),
            groups: Value::Array(subject.groups.iter().cloned().map(Value::String).collect()),
            org: subject.org.clone().map_or(Value::Null, Value::String),
            attrs: p
                .slots
                .user_attrs
                .iter()
                .map(|path| subject.attrs.attr(path).cloned().unwrap_or(Value::Null))
                .collect(),
            department_tree,
            reports: Value::Array(
                subject
                    .reports
                    .keys()
                    .map(|id| Value::String(id.clone()))
                    .collect(),
            ),
        };
        let plans = (0..p.resources.len()).map(|_| OnceCell::new()).collect();
        let changes_at = match at {
            At::Time(now) => p.next_change(subject, now),
            At::Unknown | At::Ever => None,
        };
        Session {
            policy,
            roles,
            grants,
            rules,
            user,
            reports: subject.reports.clone(),
            plans,
            stale: false,
            changes_at,
        }
    }

    /// When the session's answers stop holding: a dated entry reaching the user starts or
    /// stops existing then (Unix ms). A host keeping a session across time makes a new one
    /// at that moment.
    pub fn changes_at(&self) -> Option<i64> {
        self.changes_at
    }

    /// Stale mode: the policy is past its validity and only kept for an offline device (see
    /// `BundleStore`'s grace period). Every action but `view` is then denied and every field is
    /// at most readonly, in every decision, explanation and filter of the session.
    pub fn set_stale(&mut self, stale: bool) {
        self.stale = stale;
    }

    /// Whether the session is in stale mode.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// The policy this session reads.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The subject's user id.
    pub fn user_id(&self) -> &str {
        self.user.id.as_str().unwrap_or_default()
    }

    /// Effective role names, sorted by name (what conditions see as `user.roles`).
    pub fn roles(&self) -> Vec<&str> {
        by_name(
            self.roles
                .iter()
                .map(|&r| self.policy.role(r).name.as_str()),
        )
    }

    // ---- fast paths ----

    /// Whether the action is allowed on the resource (for this record, or for some record).
    pub fn can_at(&self, resource: ResourceId, action: ActionId, input: Input<'_>) -> bool {
        let plan = self.plan(resource);
        let bit = 1 << action.0;
        if self.stale && !lists(plan.caps.view, bit) {
            return false;
        }
        let env = self.env(input);
        let granted = lists(plan.granted, bit)
            || plan
                .cond_grants()
                .any(|g| lists(g.actions, bit) && g.cond.eval(&env) != Truth::False);
        granted
            && !lists(plan.denied, bit)
            && !plan
                .cond_rules()
                .any(|r| r.deny != 0 && lists(r.deny, bit) && r.cond.eval(&env) == Truth::True)
    }

    /// Writes the state of every field, in declaration order, into `out`
    /// (which must hold [`Policy::field_count`] states).
    #[expect(
        clippy::indexing_slicing,
        reason = "a mode indexes the three per-mode caps; field positions index arrays made with one entry per declared field of the same resource"
    )]
    pub fn fields_into(
        &self,
        resource: ResourceId,
        mode: Mode,
        input: Input<'_>,
        out: &mut [FieldState],
    ) {
        let plan = self.plan(resource);
        let m = mode.index();
        out.copy_from_slice(plan.base(m));
        let env = self.env(input);
        for g in plan.cond_grants() {
            if g.cond.eval(&env) != Truth::False {
                raise_capped(out, &g.states, g.caps[m]);
            }
        }
        lower(out, plan.cap());
        for r in plan.cond_rules() {
            if r.cond.eval(&env) == Truth::True {
                plan.apply_rule(r, mode, out);
            }
        }
        plan.apply_deny(plan.denied, mode, out);
        self.cap_if_stale(out);
    }

    /// The states a field has on every record: what unconditional grants give, lowered by
    /// every rule as if it applied (a lower bound over all records and contexts).
    pub fn fields_on_every_record(&self, resource: ResourceId, mode: Mode, out: &mut [FieldState]) {
        let plan = self.plan(resource);
        out.copy_from_slice(plan.base(mode.index()));
        lower(out, plan.cap());
        for r in plan.cond_rules() {
            plan.apply_rule(r, mode, out);
        }
        plan.apply_deny(plan.denied, mode, out);
        self.cap_if_stale(out);
    }

    // ---- by name ----

    /// Whether `action` is allowed on `resource` for the record (or for some record when `None`).
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`.
    pub fn can(
        &self,
        action: &str,
        resource: &str,
        input: Input<'_>,
    ) -> Result<bool, RequestError> {
        let r = self.policy.resource_id(resource)?;
        let a = self.policy.action_id(r, action)?;
        Ok(self.can_at(r, a, input))
    }

    /// The state of every declared field of `resource` in `mode`, in declaration order.
    ///
    /// # Errors
    /// `unknown_resource`.
    pub fn fields(
        &self,
        resource: &str,
        mode: Mode,
        input: Input<'_>,
    ) -> Result<FieldStates<'_>, RequestError> {
        let r = self.policy.resource_id(resource)?;
        let mut states = vec![FieldState::Hidden; self.policy.field_count(r)];
        self.fields_into(r, mode, input, &mut states);
        Ok(FieldStates {
            resource: self.policy.resource_at(r.0),
            states,
        })
    }

    // ---- internals ----

    /// In stale mode, every field at most readonly.
    pub(crate) fn cap_if_stale(&self, out: &mut [FieldState]) {
        if self.stale {
            for s in out.iter_mut() {
                *s = (*s).min(FieldState::Readonly);
            }
        }
    }

    /// Whether stale mode denies `action` of `resource` (everything but `view`).
    pub(crate) fn stale_denies(&self, resource: ResourceId, action: ActionId) -> bool {
        self.stale && !lists(self.plan(resource).caps.view, 1 << action.0)
    }

    pub(crate) fn env<'e>(&'e self, input: Input<'e>) -> Env<'e> {
        Env {
            slots: &self.policy.slots,
            user: &self.user,
            record: input.record,
            context: input.context,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "a session has one plan slot per resource of its policy, and a `ResourceId` is only made for one of them"
    )]
    pub(crate) fn plan(&self, resource: ResourceId) -> &Plan {
        self.plans[resource.0 as usize].get_or_init(|| self.build_plan(resource.0))
    }

    /// The grant's scope and `when`, specialised to this user, for the action with bit `bit`
    /// (only a `parent` scope depends on the action: it asks the parent record about the same
    /// action). The scope compares the record with the user's own values by reference (no
    /// copies); scope filters specialise it.
    pub(crate) fn grant_condition(&self, grant: &Grant, resource: u32, bit: ActionMask) -> Expr {
        let res = self.policy.resource_at(resource);
        let user = &self.user;
        let matches = |op, slot, u| Expr::Cmp(op, Operand::Record(slot), Operand::User(u));
        let scope = match (grant.scope, res.owner, res.department) {
            (Scope::All, _, _) => Expr::Const(true),
            (Scope::Own, Some(slot), _) => matches(CmpOp::Eq, slot, UserRef::Id),
            (Scope::Department, _, Some(slot)) if !user.department.is_null() => {
                matches(CmpOp::Eq, slot, UserRef::Department)
            }
            (Scope::DepartmentTree, _, Some(slot)) if !user.department_tree.is_null() => {
                matches(CmpOp::In, slot, UserRef::DepartmentTree)
            }
            (Scope::Subordinates, Some(slot), _) => {
                let below = reports_within(&self.reports, grant.depth);
                let ids = Ids::new(core::iter::once(self.user_id()).chain(below));
                Expr::Cmp(
                    CmpOp::In,
                    Operand::Record(slot),
                    Operand::Ids(Arc::new(ids)),
                )
            }
            (Scope::Member, _, _) => match res.members {
                Some(slot) => {
                    Expr::Cmp(CmpOp::In, Operand::User(UserRef::Id), Operand::Record(slot))
                }
                None => Expr::Const(false),
            },
            (Scope::Org, _, _) => match res.org {
                Some(slot) if !user.org.is_null() => matches(CmpOp::Eq, slot, UserRef::Org),
                _ => Expr::Const(false),
            },
            (Scope::Parent, _, _) => match &res.parent {
                Some(link) => {
                    let name = (0..res.actions.len())
                        .find(|&i| bit == 1 << i)
                        .and_then(|i| res.actions.get(i));
                    let up = self.policy.resource_at(link.resource);
                    let test = match name.map(|a| up.action_bit(a)) {
                        Some(b) if b != 0 => self.decision(link.resource, b),
                        _ => Expr::Const(false),
                    };
                    Expr::Parent(Box::new(ParentTest {
                        resource: link.resource,
                        slot: link.slot,
                        test,
                    }))
                }
                None => Expr::Const(false),
            },
            _ => Expr::Const(false),
        };
        Expr::junction(
            [scope, self.specialized(grant.when.as_ref())],
            Junction::And,
        )
    }

    /// The condition a record of resource `r` must meet for the action with bit `bit`: the
    /// applying grants that list the action, minus the deny rules that list it (context paths
    /// left to read).
    pub(crate) fn decision(&self, r: u32, bit: ActionMask) -> Expr {
        let p = &*self.policy;
        let grants = self
            .grants
            .iter()
            .map(|&g| p.grant(g))
            .filter(|g| {
                g.targets
                    .shape(&p.resources, r)
                    .is_some_and(|s| lists(s.actions, bit))
            })
            .map(|g| self.grant_condition(g, r, bit));
        let denies = self
            .rules
            .iter()
            .map(|&ru| p.rule(ru))
            .filter(|ru| {
                ru.effect == Effect::Deny
                    && ru
                        .targets
                        .shape(&p.resources, r)
                        .is_some_and(|s| lists(s.actions, bit))
            })
            .map(|ru| self.specialized(ru.when.as_ref()));
        let allowed = Expr::junction(grants, Junction::Or);
        let denied = match Expr::junction(denies, Junction::Or) {
            Expr::Const(b) => Expr::Const(!b),
            other => Expr::Not(Box::new(other)),
        };
        Expr::junction([allowed, denied], Junction::And)
    }

    /// A rule's or grant's `when`, specialised to this user (`true` when absent).
    pub(crate) fn specialized(&self, when: Option<&Expr>) -> Expr {
        when.map_or(Expr::Const(true), |w| w.specialize(&self.user, None))
    }
}

/// Names sorted (an insertion sort: a user holds few roles, and the library sort would add its
/// own machinery for strings to the wasm module).
fn by_name<'n>(names: impl Iterator<Item = &'n str>) -> Vec<&'n str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        let at = out.iter().position(|x| *x > n).unwrap_or(out.len());
        out.insert(at, n);
    }
    out
}

/// Whether department `c` is `d` or below it.
fn is_within(p: &Policy, c: u32, d: u32) -> bool {
    let mut at = Some(c);
    for _ in 0..=p.departments.len() {
        match at {
            Some(x) if x == d => return true,
            Some(x) => at = p.department(x).parent,
            None => return false,
        }
    }
    false
}

/// Field states of one resource, in declaration order.
#[derive(Debug, Clone)]
pub struct FieldStates<'p> {
    pub(super) resource: &'p Resource,
    pub(super) states: Vec<FieldState>,
}

impl<'p> FieldStates<'p> {
    /// The state of a field by name.
    pub fn get(&self, name: &str) -> Option<FieldState> {
        self.field(name).map(|(_, s)| s)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "a field position indexes `states`, which has one entry per declared field"
    )]
    fn field(&self, name: &str) -> Option<(Field<'p>, FieldState)> {
        let i = self.resource.field_pos(name)? as usize;
        Some((self.resource.fields.get(i), self.states[i]))
    }

    /// `(name, state)` pairs in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'p str, FieldState)> + '_ {
        self.resource
            .fields
            .names()
            .zip(self.states.iter().copied())
    }

    /// The states in declaration order.
    pub fn states(&self) -> &[FieldState] {
        &self.states
    }

    /// `{ "name": "editable", … }` in declaration order.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(n, s)| (n.to_string(), Value::String(s.as_str().into())))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::core::{Input, Mode, Policy, Subject};
    use alloc::sync::Arc;
    use serde_json::json;

    #[test]
    fn a_resource_without_fields_still_answers() {
        let doc = json!({
            "format": "fieldgate/1", "app": "t", "version": 1,
            "resources": { "report": { "actions": ["view", "export"], "fields": {} } },
            "roles": { "r": { "grants": [{ "resource": "report", "actions": ["export"] }] } }
        });
        let p = Arc::new(Policy::from_json(&doc.to_string()).unwrap());
        let s = p.session(&Subject {
            roles: vec!["r".into()],
            ..Subject::new("u")
        });
        assert!(s.can("export", "report", Input::NONE).unwrap());
        assert!(!s.can("view", "report", Input::NONE).unwrap());
        let states = s.fields("report", Mode::Edit, Input::NONE).unwrap();
        assert!(states.states().is_empty());
    }

    #[test]
    fn conditions_read_the_users_attributes() {
        let doc = json!({
            "format": "fieldgate/1", "app": "t", "version": 1,
            "resources": { "doc": { "actions": ["view"], "fields": { "a": {} } } },
            "roles": { "r": { "grants": [{ "resource": "doc", "actions": ["view"],
                "when": "user.attrs.level >= 3 && user.attrs.org.tier == 'gold'" }] } }
        });
        let p = Arc::new(Policy::from_json(&doc.to_string()).unwrap());
        let can = |attrs: serde_json::Value| {
            let subject = Subject {
                roles: vec!["r".into()],
                attrs: attrs.as_object().cloned().unwrap_or_default(),
                ..Subject::new("u")
            };
            p.session(&subject).can("view", "doc", Input::NONE).unwrap()
        };
        assert!(can(json!({ "level": 3, "org": { "tier": "gold" } })));
        assert!(!can(json!({ "level": 2, "org": { "tier": "gold" } })));
        assert!(!can(json!({ "level": 3, "org": { "tier": "silver" } })));
        assert!(!can(json!({})));
    }
}
