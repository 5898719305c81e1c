//! Scope filters: the condition a record must meet for an action, for filtering lists locally
//! or building a server query.

use crate::core::attrs::Attrs;
use crate::core::condition::{Env, Expr, Truth};
use crate::core::error::RequestError;
use crate::core::policy::lists;
use crate::core::session::{Input, Session};
use serde_json::Value;

/// The condition on records under which an action is allowed, with everything about the user
/// (and the context, when given) already decided.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeFilter {
    expr: Expr,
}

impl ScopeFilter {
    /// The JSON tree form: `true`, `false`, or nested `and`/`or`/`not`/`op` nodes over
    /// `{"attr": "owner_id"}` and `{"value": …}` operands (see `docs/policy-format.md`).
    pub fn to_json(&self, session: &Session) -> Value {
        self.expr.to_tree(&session.policy().slots)
    }

    /// Whether a record passes the filter.
    pub fn matches(&self, session: &Session, record: &dyn Attrs, context: &dyn Attrs) -> bool {
        let env = Env {
            slots: &session.policy().slots,
            user: &session.user,
            record: Some(record),
            context,
        };
        self.expr.eval(&env) == Truth::True
    }

    /// `Some(answer)` when the filter does not depend on the record at all.
    pub fn as_const(&self) -> Option<bool> {
        self.expr.as_const()
    }
}

impl Session {
    /// The condition a record must meet for `action` on `resource`: the applying grants that list
    /// the action, minus the deny rules that list it.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`.
    pub fn scope_filter(
        &self,
        resource: &str,
        action: &str,
        context: Option<&Value>,
    ) -> Result<ScopeFilter, RequestError> {
        let p = self.policy();
        let rid = p.resource_id(resource)?;
        let bit = 1u64 << p.action_id(rid, action)?.0;
        let r = rid.0;
        let ctx = context.map(|c| (c as &dyn Attrs, &p.slots));
        let specialize = |e: Expr| e.specialize(&self.user, ctx);
        let grants = self
            .grants
            .iter()
            .map(|&g| &p.grants[g as usize])
            .filter(|g| {
                g.targets
                    .shape(&p.resources, r)
                    .is_some_and(|s| lists(s.actions, bit))
            })
            .map(|g| specialize(self.grant_condition(g, r)))
            .collect();
        let denies = self
            .rules
            .iter()
            .map(|&ru| &p.rules[ru as usize])
            .filter(|ru| {
                ru.targets
                    .shape(&p.resources, r)
                    .is_some_and(|s| lists(s.actions, bit))
                    && ru.effect == crate::core::policy::Effect::Deny
            })
            .map(|ru| specialize(self.specialized(ru.when.as_ref())))
            .collect();
        let allowed = Expr::junction(grants, false);
        let denied = match Expr::junction(denies, false) {
            Expr::Const(b) => Expr::Const(!b),
            other => Expr::Not(Box::new(other)),
        };
        Ok(ScopeFilter {
            expr: Expr::junction(vec![allowed, denied], true),
        })
    }

    /// For each record, whether `action` is allowed on it.
    ///
    /// # Errors
    /// `unknown_resource`, `unknown_action`.
    pub fn can_many(
        &self,
        action: &str,
        resource: &str,
        records: &[Value],
        context: Option<&Value>,
    ) -> Result<Vec<bool>, RequestError> {
        let p = self.policy();
        let r = p.resource_id(resource)?;
        let a = p.action_id(r, action)?;
        Ok(records
            .iter()
            .map(|rec| self.can_at(r, a, Input::json(Some(rec), context)))
            .collect())
    }
}
