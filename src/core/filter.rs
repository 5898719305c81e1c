//! Scope filters: the condition a record must meet for an action, for filtering lists locally
//! or building a server query.

use crate::core::attrs::Attrs;
use crate::core::condition::{Env, Expr, Junction, Truth};
use crate::core::error::{Code, RequestError};
use crate::core::session::{Input, Session};
use crate::core::workflow::step_action;
use crate::prelude::*;
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

    /// The compiled condition (for its SQL form).
    #[cfg(feature = "std")]
    pub(crate) fn expr(&self) -> &Expr {
        &self.expr
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
        let aid = p.action_id(rid, action)?;
        if self.stale_denies(rid, aid) {
            return Ok(ScopeFilter {
                expr: Expr::Const(false),
            });
        }
        let ctx = context.map(|c| (c as &dyn Attrs, &p.slots));
        let decision = self.decision(rid.0, 1u64 << aid.0);
        Ok(ScopeFilter {
            expr: decision.specialize(&self.user, ctx),
        })
    }

    /// The condition a record must meet for this person to do `transition` of `resource`'s
    /// flow now: for a transition with steps, to sign the step it waits for (the records
    /// "waiting for my step"). The flow's own rules are in each action's decision.
    ///
    /// # Errors
    /// `unknown_resource`; `unknown_action` when the resource's flow has no such transition.
    pub fn transition_filter(
        &self,
        resource: &str,
        transition: &str,
        context: Option<&Value>,
    ) -> Result<ScopeFilter, RequestError> {
        let p = self.policy();
        p.resource_id(resource)?;
        let t = p
            .workflow(resource)
            .and_then(|w| w.transition(transition))
            .ok_or_else(|| {
                let msg = format!("`{resource}` has no transition `{transition}`");
                RequestError::new(Code::UnknownAction, msg)
            })?;
        let of = |action: &str| -> Result<Expr, RequestError> {
            Ok(self.scope_filter(resource, action, context)?.expr)
        };
        let gate = of(&t.name)?;
        let expr = if t.steps.is_empty() {
            gate
        } else {
            let mut open = t
                .steps
                .iter()
                .map(|s| of(&step_action(&t.name, &s.id)))
                .collect::<Result<Vec<_>, _>>()?;
            // No step left to sign: the gate alone moves the record.
            if let Some(settled) = &t.settled {
                let ctx = context.map(|c| (c as &dyn Attrs, &p.slots));
                open.push(settled.specialize(&self.user, ctx));
            }
            Expr::junction([gate, Expr::junction(open, Junction::Or)], Junction::And)
        };
        Ok(ScopeFilter { expr })
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

#[cfg(test)]
mod tests {
    use crate::core::{Input, Policy, Subject};
    use alloc::sync::Arc;
    use serde_json::json;

    fn policy() -> Arc<Policy> {
        let doc = json!({
            "format": "fieldgate/1", "app": "t", "version": 1,
            "departments": { "hq": {}, "east": { "parent": "hq" }, "east-1": { "parent": "east" } },
            "resources": { "doc": { "actions": ["view", "edit", "delete"], "owner": "owner",
                "department": "dept", "fields": { "a": {} } } },
            "roles": {
                "mine": { "grants": [{ "resource": "doc", "actions": ["edit"], "scope": "own" }] },
                "tree": { "grants": [{ "resource": "doc", "actions": ["view"], "scope": "department_tree" }] },
                "audit": { "grants": [{ "resource": "doc", "actions": ["delete"],
                    "when": "'tree' in user.roles && record.amount < 10" }] }
            }
        });
        Arc::new(Policy::from_json(&doc.to_string()).unwrap())
    }

    fn subject(roles: &[&str]) -> Subject {
        Subject {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            department: Some("east".into()),
            ..Subject::new("u-1")
        }
    }

    fn can(s: &crate::core::Session, action: &str, record: serde_json::Value) -> bool {
        s.can(action, "doc", Input::json(Some(&record), None))
            .unwrap()
    }

    #[test]
    fn scope_trees_carry_the_users_values() {
        let p = policy();
        let s = p.session(&subject(&["mine", "tree"]));
        let own = s.scope_filter("doc", "edit", None).unwrap().to_json(&s);
        let eq = json!({ "op": "==", "left": { "attr": "owner" }, "right": { "value": "u-1" } });
        assert_eq!(own, eq);
        let tree = s.scope_filter("doc", "view", None).unwrap().to_json(&s);
        let within = json!({ "op": "in", "left": { "attr": "dept" },
            "right": { "value": ["east", "east-1"] } });
        assert_eq!(tree, within);
        assert!(can(&s, "view", json!({ "dept": "east-1" })));
        assert!(!can(&s, "view", json!({ "dept": "hq" })));
    }

    #[test]
    fn conditions_read_the_effective_role_names() {
        let p = policy();
        let with_tree = p.session(&subject(&["audit", "tree"]));
        assert!(can(&with_tree, "delete", json!({ "amount": 5 })));
        let without = p.session(&subject(&["audit"]));
        assert!(!can(&without, "delete", json!({ "amount": 5 })));
        let filter = with_tree.scope_filter("doc", "delete", None).unwrap();
        let filter = filter.to_json(&with_tree);
        let below = json!({ "op": "<", "left": { "attr": "amount" }, "right": { "value": 10 } });
        assert_eq!(filter, below);
    }
}
