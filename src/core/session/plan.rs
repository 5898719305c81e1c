//! Plans: one resource as one user sees it, built once per session and resource. What always
//! applies is merged ahead of time; only the parts that depend on the record or context run
//! per decision. Explanations walk the same plan, grant by grant.

use super::Session;
use crate::core::condition::Expr;
use crate::core::policy::*;
use crate::core::state::{FieldState, Mode};
use crate::prelude::*;
use alloc::sync::Arc;

/// One resource as this user sees it, split into what always applies and what depends on the
/// record or context. Every decision about the resource reads it: the hot paths the merged
/// rows and the conditional lists, explanations every grant and rule in order.
pub(crate) struct Plan {
    pub(super) caps: ModeCaps,
    pub(super) granted: ActionMask,
    /// Per field, in one allocation: what unconditional grants give in each mode (three rows),
    /// then the cap unconditional limits set (a fourth row).
    pub(super) states: Box<[FieldState]>,
    /// Positions in `grants` of those whose condition depends on the record or context.
    pub(super) cond_grants: Vec<u32>,
    pub(super) denied: ActionMask,
    /// Positions in `rules` of those whose condition depends on the record or context.
    pub(super) cond_rules: Vec<u32>,
    /// Every grant of the session that covers the resource, in the session's order.
    pub(crate) grants: Vec<PlanGrant>,
    /// Every rule of the session that covers the resource, in the session's order.
    pub(crate) rules: Vec<PlanRule>,
    /// The record slots the conditional grants and rules read, sorted: all a decision about
    /// the resource reads of a record.
    pub(crate) slots: Vec<u32>,
}

/// A grant as it bears on one resource for one user.
pub(crate) struct PlanGrant {
    /// Its index in the policy.
    pub id: u32,
    pub actions: ActionMask,
    /// Its scope and `when`, specialised to the user (a constant when they decide alone).
    pub cond: Expr,
    /// The grant's state per field (shared with the policy) ...
    pub states: Arc<[FieldState]>,
    /// ... and the most it gives any field in each mode.
    pub caps: [FieldState; 3],
}

/// A rule as it bears on one resource for one user.
pub(crate) struct PlanRule {
    /// Its index in the policy.
    pub id: u32,
    /// The actions it denies (none for a limit).
    pub deny: ActionMask,
    /// A limit's cap per field.
    pub caps: Option<Arc<[FieldState]>>,
    /// Its `when`, specialised to the user.
    pub cond: Expr,
}

impl Session {
    /// The plan of resource `r`: every grant and rule of the session that covers it.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::indexing_slicing,
        reason = "field positions index arrays made with one entry per declared field of the same resource; narrowing: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn build_plan(&self, r: u32) -> Plan {
        let p = &*self.policy;
        let res = p.resource_at(r);
        let n = res.fields.len();
        let mut plan = Plan {
            caps: ModeCaps::of(res),
            granted: 0,
            states: vec![FieldState::Hidden; 4 * n].into(),
            cond_grants: Vec::new(),
            denied: 0,
            cond_rules: Vec::new(),
            grants: Vec::new(),
            rules: Vec::new(),
            slots: Vec::new(),
        };
        plan.states[3 * n..].fill(FieldState::Editable);
        for &g in &self.grants {
            let grant = p.grant(g);
            let Some(shape) = grant.targets.shape(&p.resources, r) else {
                continue;
            };
            let shape = shape.into_owned();
            // A `parent` scope asks the parent record about each action apart: one part per
            // action (every other scope reads the same condition for all).
            let parts: Vec<ActionMask> = if grant.scope == Scope::Parent {
                (0..res.actions.len())
                    .map(|i| 1 << i)
                    .filter(|&b| lists(shape.actions, b))
                    .collect()
            } else {
                vec![shape.actions]
            };
            for actions in parts {
                let cond = self.grant_condition(grant, r, actions);
                let caps: [FieldState; 3] = core::array::from_fn(|m| plan.mode_cap(actions, m));
                match cond.as_const() {
                    Some(false) => {}
                    Some(true) => {
                        plan.granted |= actions;
                        for (m, cap) in caps.into_iter().enumerate() {
                            raise_capped(&mut plan.states[m * n..], &shape.states, cap);
                        }
                    }
                    None => plan.cond_grants.push(plan.grants.len() as u32),
                }
                plan.grants.push(PlanGrant {
                    id: g,
                    actions,
                    cond,
                    states: Arc::clone(&shape.states),
                    caps,
                });
            }
        }
        for &ru in &self.rules {
            let rule = p.rule(ru);
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
                None => plan.cond_rules.push(plan.rules.len() as u32),
            }
            plan.rules.push(PlanRule {
                id: ru,
                deny,
                caps: limit.then(|| shape.into_owned().states),
                cond,
            });
        }
        let mut slots = Vec::new();
        for c in plan
            .cond_grants()
            .map(|g| &g.cond)
            .chain(plan.cond_rules().map(|r| &r.cond))
        {
            c.record_slots(&mut slots);
        }
        sort_ids(&mut slots);
        slots.dedup();
        plan.slots = slots;
        plan
    }
}

impl Plan {
    /// The grants whose condition depends on the record or context.
    #[expect(
        clippy::indexing_slicing,
        reason = "the plan's index lists hold positions in its own grant list"
    )]
    pub(super) fn cond_grants(&self) -> impl Iterator<Item = &PlanGrant> {
        self.cond_grants.iter().map(|&i| &self.grants[i as usize])
    }

    /// The rules whose condition depends on the record or context.
    #[expect(
        clippy::indexing_slicing,
        reason = "the plan's index lists hold positions in its own rule list"
    )]
    pub(super) fn cond_rules(&self) -> impl Iterator<Item = &PlanRule> {
        self.cond_rules.iter().map(|&i| &self.rules[i as usize])
    }

    /// Lowers `out` (states in `mode`) as rule `r` does when it applies.
    pub(crate) fn apply_rule(&self, r: &PlanRule, mode: Mode, out: &mut [FieldState]) {
        if let Some(caps) = &r.caps {
            lower(out, caps);
        }
        self.apply_deny(r.deny, mode, out);
    }

    /// What unconditional grants give each field in mode `m`.
    pub(super) fn base(&self, m: usize) -> &[FieldState] {
        row(&self.states, m, self.states.len() / 4)
    }

    /// The cap unconditional limits set on each field.
    pub(super) fn cap(&self) -> &[FieldState] {
        row(&self.states, 3, self.states.len() / 4)
    }

    /// The most a grant listing `actions` gives any field in mode `m`: editable when it lists
    /// the mode's action, readonly when it lists only `view`, else hidden.
    pub(crate) fn mode_cap(&self, actions: ActionMask, m: usize) -> FieldState {
        self.caps.cap(actions, m)
    }

    /// A deny listing `view` (or `*`) hides every field; one listing the mode's action caps
    /// every field at readonly.
    #[expect(
        clippy::indexing_slicing,
        reason = "field positions index arrays made with one entry per declared field of the same resource"
    )]
    pub(crate) fn apply_deny(&self, deny: ActionMask, mode: Mode, out: &mut [FieldState]) {
        if deny == 0 {
            return;
        }
        let cap = if lists(deny, self.caps.view) {
            FieldState::Hidden
        } else if self.caps.modes[mode.index()].is_some_and(|bit| lists(deny, bit)) {
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
#[expect(
    clippy::indexing_slicing,
    reason = "field positions index arrays made with one entry per declared field of the same resource"
)]
fn row(rows: &[FieldState], i: usize, n: usize) -> &[FieldState] {
    &rows[i * n..(i + 1) * n]
}

/// Raises each state to what `by` gives it, at most `cap`.
pub(super) fn raise_capped(out: &mut [FieldState], by: &[FieldState], cap: FieldState) {
    for (o, b) in out.iter_mut().zip(by) {
        *o = (*o).max((*b).min(cap));
    }
}

pub(super) fn lower(out: &mut [FieldState], by: &[FieldState]) {
    for (o, b) in out.iter_mut().zip(by) {
        *o = (*o).min(*b);
    }
}
