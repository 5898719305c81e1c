//! Sessions: one user's precomputed view of a policy, and the decisions made through it.

use crate::core::attrs::{Attrs, NoAttrs};
use crate::core::condition::{CmpOp, Env, Expr, Operand, Truth, UserRef, UserValues};
use crate::core::error::{Code, RequestError};
use crate::core::policy::*;
use crate::core::state::{FieldState, Mode};
use crate::core::subject::Subject;
use crate::prelude::*;
use alloc::sync::Arc;
use core::cell::OnceCell;
use serde_json::{Map, Value};

/// A resource, resolved once by name for the fast paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResourceId(pub(crate) u32);

/// An action of one resource, resolved once by name for the fast paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActionId(pub(crate) u8);

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
    /// Resolves a resource name.
    ///
    /// # Errors
    /// `unknown_resource`.
    pub fn resource_id(&self, name: &str) -> Result<ResourceId, RequestError> {
        self.resource_pos(name).map(ResourceId).ok_or_else(|| {
            RequestError::new(Code::UnknownResource, format!("no resource `{name}`"))
        })
    }

    /// Resolves an action name of a resource.
    ///
    /// # Errors
    /// `unknown_action` when the resource does not declare it.
    pub fn action_id(&self, resource: ResourceId, name: &str) -> Result<ActionId, RequestError> {
        let res = &self.resources[resource.0 as usize];
        res.actions
            .iter()
            .position(|a| a == name)
            .map(|i| ActionId(i as u8))
            .ok_or_else(|| {
                let msg = format!("resource `{}` has no action `{name}`", res.name);
                RequestError::new(Code::UnknownAction, msg)
            })
    }

    /// The resource with this id (as handed out by [`Policy::resource_id`]), if any.
    pub fn resource_id_at(&self, id: u32) -> Option<ResourceId> {
        ((id as usize) < self.resources.len()).then_some(ResourceId(id))
    }

    /// The action with this index on a resource, if declared.
    pub fn action_at(&self, resource: ResourceId, index: u32) -> Option<ActionId> {
        let n = self.resources[resource.0 as usize].actions.len();
        ((index as usize) < n).then_some(ActionId(index as u8))
    }

    /// Number of declared fields of a resource.
    pub fn field_count(&self, resource: ResourceId) -> usize {
        self.resources[resource.0 as usize].fields.len()
    }

    /// Precomputes one user's effective roles, grants and rules.
    pub fn session(self: &Arc<Self>, subject: &Subject) -> Session {
        Session::new(Arc::clone(self), subject)
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
    plans: Vec<OnceCell<Plan>>,
}

/// One resource as this user sees it, split into what always applies and what depends on the
/// record or context.
pub(crate) struct Plan {
    view: ActionMask,
    modes: [Option<ActionMask>; 3],
    granted: ActionMask,
    /// Per field, in one allocation: what unconditional grants give in each mode (three rows),
    /// then the cap unconditional limits set (a fourth row).
    states: Box<[FieldState]>,
    pub(crate) cond_grants: Vec<CondGrant>,
    denied: ActionMask,
    pub(crate) cond_rules: Vec<CondRule>,
}

pub(crate) struct CondGrant {
    pub actions: ActionMask,
    pub cond: Expr,
    /// The grant's state per field (shared with the policy) ...
    states: Arc<[FieldState]>,
    /// ... and the most it gives any field in each mode.
    caps: [FieldState; 3],
}

pub(crate) struct CondRule {
    pub deny: ActionMask,
    pub caps: Option<Arc<[FieldState]>>,
    pub cond: Expr,
}

impl Session {
    fn new(policy: Arc<Policy>, subject: &Subject) -> Session {
        let p = &*policy;
        let mut direct: Vec<u32> = subject.roles.iter().filter_map(|r| p.role_pos(r)).collect();
        let assignment = p.users.get(&subject.id);
        if let Some(a) = assignment {
            direct.extend(&a.roles);
        }
        let dept = subject
            .department
            .as_deref()
            .and_then(|d| p.department_pos(d));
        let mut at = dept;
        while let Some(d) = at {
            direct.extend(p.department_roles.get(&d).into_iter().flatten());
            at = p.departments[d as usize].parent;
        }
        for g in &subject.groups {
            direct.extend(p.group_roles.get(g).into_iter().flatten());
        }
        let mut roles: Vec<u32> = direct
            .iter()
            .flat_map(|&r| core::iter::once(r).chain(p.roles[r as usize].ancestors.iter().copied()))
            .collect();
        roles.sort_unstable();
        roles.dedup();

        let mut grants: Vec<u32> = roles
            .iter()
            .flat_map(|&r| p.roles[r as usize].grants.iter().copied())
            .collect();
        grants.extend(
            assignment
                .into_iter()
                .flat_map(|a| a.grants.iter().copied()),
        );
        grants.sort_unstable();
        grants.dedup();

        let mut rules: Vec<u32> = p
            .global_rules
            .iter()
            .copied()
            .filter(|&r| {
                !p.rules[r as usize]
                    .except_roles
                    .iter()
                    .any(|x| roles.binary_search(x).is_ok())
            })
            .collect();
        rules.extend(
            assignment
                .into_iter()
                .flat_map(|a| a.denies.iter().copied()),
        );

        // The department tree is listed only for a session that has a `department_tree` grant,
        // and role names only when a condition reads `user.roles`.
        let tree_scoped = grants
            .iter()
            .any(|&g| p.grants[g as usize].scope == Scope::DepartmentTree);
        let department_tree = match (&subject.department, dept) {
            (Some(_), Some(d)) if tree_scoped => Value::Array(
                (0..p.departments.len() as u32)
                    .filter(|&c| is_within(p, c, d))
                    .map(|c| Value::String(p.departments[c as usize].name.clone()))
                    .collect(),
            ),
            (Some(name), None) if tree_scoped => Value::Array(vec![Value::String(name.clone())]),
            _ => Value::Null,
        };
        let role_names = if p.reads_user_roles() {
            let names = roles
                .iter()
                .map(|&r| Value::String(p.roles[r as usize].name.clone()));
            Value::Array(names.collect())
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
            attrs: p
                .slots
                .user_attrs
                .iter()
                .map(|path| subject.attrs.attr(path).cloned().unwrap_or(Value::Null))
                .collect(),
            department_tree,
        };
        let plans = (0..p.resources.len()).map(|_| OnceCell::new()).collect();
        Session {
            policy,
            roles,
            grants,
            rules,
            user,
            plans,
        }
    }

    /// The policy this session reads.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The subject's user id.
    pub fn user_id(&self) -> &str {
        self.user.id.as_str().unwrap_or_default()
    }

    /// Effective role names, sorted by declaration.
    pub fn roles(&self) -> Vec<&str> {
        self.roles
            .iter()
            .map(|&r| self.policy.roles[r as usize].name.as_str())
            .collect()
    }

    // ---- fast paths ----

    /// Whether the action is allowed on the resource (for this record, or for some record).
    pub fn can_at(&self, resource: ResourceId, action: ActionId, input: Input<'_>) -> bool {
        let plan = self.plan(resource);
        let bit = 1 << action.0;
        let env = self.env(input);
        let granted = lists(plan.granted, bit)
            || plan
                .cond_grants
                .iter()
                .any(|g| lists(g.actions, bit) && g.cond.eval(&env) != Truth::False);
        granted
            && !lists(plan.denied, bit)
            && !plan
                .cond_rules
                .iter()
                .any(|r| r.deny != 0 && lists(r.deny, bit) && r.cond.eval(&env) == Truth::True)
    }

    /// Writes the state of every field, in declaration order, into `out`
    /// (which must hold [`Policy::field_count`] states).
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
        for g in &plan.cond_grants {
            if g.cond.eval(&env) != Truth::False {
                raise_capped(out, &g.states, g.caps[m]);
            }
        }
        lower(out, plan.cap());
        for r in &plan.cond_rules {
            if r.cond.eval(&env) == Truth::True {
                if let Some(caps) = &r.caps {
                    lower(out, caps);
                }
                plan.apply_deny(r.deny, mode, out);
            }
        }
        plan.apply_deny(plan.denied, mode, out);
    }

    /// The states a field has on every record: what unconditional grants give, lowered by
    /// every rule as if it applied (a lower bound over all records and contexts).
    pub fn fields_on_every_record(&self, resource: ResourceId, mode: Mode, out: &mut [FieldState]) {
        let plan = self.plan(resource);
        out.copy_from_slice(plan.base(mode.index()));
        lower(out, plan.cap());
        for r in &plan.cond_rules {
            if let Some(caps) = &r.caps {
                lower(out, caps);
            }
            plan.apply_deny(r.deny, mode, out);
        }
        plan.apply_deny(plan.denied, mode, out);
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
            resource: &self.policy.resources[r.0 as usize],
            states,
        })
    }

    /// A copy of `record` as `mode` shows it: hidden fields removed, masked fields masked.
    /// Keys that are not declared fields are kept.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the record is not an object.
    pub fn redact(
        &self,
        resource: &str,
        mode: Mode,
        record: &Value,
        context: Option<&Value>,
    ) -> Result<Value, RequestError> {
        let obj = as_object(record, "record")?;
        let states = self.fields(resource, mode, Input::json(Some(record), context))?;
        let mut out = Map::with_capacity(obj.len());
        for (k, v) in obj {
            match states.field(k) {
                None => {
                    out.insert(k.clone(), v.clone());
                }
                Some((_, FieldState::Hidden)) => {}
                Some((f, FieldState::Masked)) => {
                    out.insert(
                        k.clone(),
                        f.mask.unwrap_or(crate::core::mask::Mask::Full).apply(v),
                    );
                }
                Some(_) => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// A copy of `form_data` holding only the fields editable in `mode` for `record`: what may
    /// be submitted. Undeclared keys are dropped.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the data is not an object.
    pub fn writable(
        &self,
        resource: &str,
        mode: Mode,
        record: Option<&Value>,
        form_data: &Value,
        context: Option<&Value>,
    ) -> Result<Value, RequestError> {
        let data = as_object(form_data, "form data")?;
        let states = self.fields(resource, mode, Input::json(record, context))?;
        Ok(Value::Object(
            data.iter()
                .filter(|(k, _)| matches!(states.field(k), Some((_, FieldState::Editable))))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }

    /// Keys of `changes` that the user may not write on `record` in `mode` (not declared or not
    /// editable): what a server rejects.
    ///
    /// # Errors
    /// `unknown_resource`; `bad_request` when the changes are not an object.
    pub fn forbidden_writes(
        &self,
        resource: &str,
        mode: Mode,
        record: Option<&Value>,
        changes: &Value,
        context: Option<&Value>,
    ) -> Result<Vec<String>, RequestError> {
        let data = as_object(changes, "changes")?;
        let states = self.fields(resource, mode, Input::json(record, context))?;
        Ok(data
            .keys()
            .filter(|k| !matches!(states.field(k), Some((_, FieldState::Editable))))
            .cloned()
            .collect())
    }

    // ---- internals ----

    pub(crate) fn env<'e>(&'e self, input: Input<'e>) -> Env<'e> {
        Env {
            slots: &self.policy.slots,
            user: &self.user,
            record: input.record,
            context: input.context,
        }
    }

    pub(crate) fn plan(&self, resource: ResourceId) -> &Plan {
        self.plans[resource.0 as usize].get_or_init(|| self.build_plan(resource.0))
    }

    /// The grant's scope and `when`, specialised to this user. The scope compares the record
    /// with the user's own values by reference (no copies); scope filters specialise it.
    pub(crate) fn grant_condition(&self, grant: &Grant, resource: u32) -> Expr {
        let res = &self.policy.resources[resource as usize];
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
            _ => Expr::Const(false),
        };
        Expr::junction([scope, self.specialized(grant.when.as_ref())], true)
    }

    /// A rule's or grant's `when`, specialised to this user (`true` when absent).
    pub(crate) fn specialized(&self, when: Option<&Expr>) -> Expr {
        when.map_or(Expr::Const(true), |w| w.specialize(&self.user, None))
    }

    fn build_plan(&self, r: u32) -> Plan {
        let p = &*self.policy;
        let res = &p.resources[r as usize];
        let n = res.fields.len();
        let mut plan = Plan {
            view: res.action_bit("view"),
            modes: [
                None,
                Some(res.action_bit("create")),
                Some(res.action_bit("edit")),
            ],
            granted: 0,
            states: vec![FieldState::Hidden; 4 * n].into(),
            cond_grants: Vec::new(),
            denied: 0,
            cond_rules: Vec::new(),
        };
        plan.states[3 * n..].fill(FieldState::Editable);
        for &g in &self.grants {
            let grant = &p.grants[g as usize];
            let Some(shape) = grant.targets.shape(&p.resources, r) else {
                continue;
            };
            let cond = self.grant_condition(grant, r);
            let caps: [FieldState; 3] = core::array::from_fn(|m| plan.mode_cap(shape.actions, m));
            match cond.as_const() {
                Some(false) => {}
                Some(true) => {
                    plan.granted |= shape.actions;
                    for (m, cap) in caps.into_iter().enumerate() {
                        raise_capped(&mut plan.states[m * n..], &shape.states, cap);
                    }
                }
                None => plan.cond_grants.push(CondGrant {
                    actions: shape.actions,
                    cond,
                    states: Arc::clone(&shape.states),
                    caps,
                }),
            }
        }
        for &ru in &self.rules {
            let rule = &p.rules[ru as usize];
            let Some(shape) = rule.targets.shape(&p.resources, r) else {
                continue;
            };
            let limit = rule.effect == Effect::Limit;
            let deny = if limit { 0 } else { shape.actions };
            let cond = self.specialized(rule.when.as_ref());
            match cond.as_const() {
                Some(false) => {}
                Some(true) => {
                    plan.denied |= deny;
                    if limit {
                        lower(&mut plan.states[3 * n..], &shape.states);
                    }
                }
                None => plan.cond_rules.push(CondRule {
                    deny,
                    caps: limit.then(|| shape.states.clone()),
                    cond,
                }),
            }
        }
        plan
    }
}

impl Plan {
    /// What unconditional grants give each field in mode `m`.
    fn base(&self, m: usize) -> &[FieldState] {
        row(&self.states, m, self.states.len() / 4)
    }

    /// The cap unconditional limits set on each field.
    fn cap(&self) -> &[FieldState] {
        row(&self.states, 3, self.states.len() / 4)
    }

    /// The most a grant listing `actions` gives any field in mode `m`: editable when it lists
    /// the mode's action, readonly when it lists only `view`, else hidden.
    fn mode_cap(&self, actions: ActionMask, m: usize) -> FieldState {
        match self.modes[m] {
            Some(bit) if lists(actions, bit) => FieldState::Editable,
            _ if lists(actions, self.view) => FieldState::Readonly,
            _ => FieldState::Hidden,
        }
    }

    /// A deny listing `view` (or `*`) hides every field; one listing the mode's action caps
    /// every field at readonly.
    fn apply_deny(&self, deny: ActionMask, mode: Mode, out: &mut [FieldState]) {
        if deny == 0 {
            return;
        }
        let cap = if lists(deny, self.view) {
            FieldState::Hidden
        } else if self.modes[mode.index()].is_some_and(|bit| lists(deny, bit)) {
            FieldState::Readonly
        } else {
            return;
        };
        for s in out.iter_mut() {
            *s = (*s).min(cap);
        }
    }
}

/// Row `i` of `rows`, rows of `n` states each.
fn row(rows: &[FieldState], i: usize, n: usize) -> &[FieldState] {
    &rows[i * n..(i + 1) * n]
}

/// Raises each state to what `by` gives it, at most `cap`.
fn raise_capped(out: &mut [FieldState], by: &[FieldState], cap: FieldState) {
    for (o, b) in out.iter_mut().zip(by) {
        *o = (*o).max((*b).min(cap));
    }
}

fn lower(out: &mut [FieldState], by: &[FieldState]) {
    for (o, b) in out.iter_mut().zip(by) {
        *o = (*o).min(*b);
    }
}

/// Whether department `c` is `d` or below it.
fn is_within(p: &Policy, c: u32, d: u32) -> bool {
    let mut at = Some(c);
    for _ in 0..=p.departments.len() {
        match at {
            Some(x) if x == d => return true,
            Some(x) => at = p.departments[x as usize].parent,
            None => return false,
        }
    }
    false
}

fn as_object<'v>(v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, RequestError> {
    v.as_object().ok_or_else(|| {
        RequestError::new(
            Code::BadRequest,
            format!("the {what} must be a JSON object"),
        )
    })
}

/// Field states of one resource, in declaration order.
#[derive(Debug, Clone)]
pub struct FieldStates<'p> {
    resource: &'p Resource,
    states: Vec<FieldState>,
}

impl<'p> FieldStates<'p> {
    /// The state of a field by name.
    pub fn get(&self, name: &str) -> Option<FieldState> {
        self.field(name).map(|(_, s)| s)
    }

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
