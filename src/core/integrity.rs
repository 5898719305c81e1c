//! What a compiled policy read back from bytes must hold before a session may use it: every
//! index in range, grant and rule shapes sized to their resource, a department tree without
//! cycles. The compiler builds policies that hold it; a binary bundle's body is only as sound
//! as the signer that wrote it, and sessions index without checking (a bad index would trap the
//! wasm module, a cycle would hang it).

use crate::core::condition::{Expr, Operand, SlotTable, UserRef};
use crate::core::policy::{Origin, Policy, Targets, MAX_ACTIONS};
use crate::core::window::RoleEntry;
use crate::prelude::*;

impl Policy {
    /// Checks what sessions take for granted; the message names the first part at fault.
    ///
    /// # Errors
    /// A description such as `grant 12: resource 40 of 3`.
    #[expect(
        clippy::indexing_slicing,
        reason = "each parent is checked in range (`in_range`) just before it is followed"
    )]
    pub(crate) fn check_integrity(&self) -> Result<(), String> {
        if self.header.version > crate::core::MAX_VERSION {
            return Err(format!(
                "version {} is above {}",
                self.header.version,
                crate::core::MAX_VERSION
            ));
        }
        if !crate::core::valid_app_name(&self.header.app) {
            return Err(format!("app `{}` is not an app name", self.header.app));
        }
        let in_range = |what: &str, i: u32, len: usize| {
            if (i as usize) < len {
                Ok(())
            } else {
                Err(format!("{what} {i} of {len}"))
            }
        };
        let all = |what: &str, ids: &[u32], len: usize| {
            ids.iter().try_for_each(|&i| in_range(what, i, len))
        };
        let (depts, roles, grants, rules) = (
            self.departments.len(),
            self.roles.len(),
            self.grants.len(),
            self.rules.len(),
        );
        let at =
            |what: &str, i: usize, r: Result<(), String>| r.map_err(|e| format!("{what} {i}: {e}"));
        for (i, d) in self.departments.iter().enumerate() {
            let mut up = d.parent;
            let mut steps = 0;
            while let Some(p) = up {
                at("department", i, in_range("parent", p, depts))?;
                steps += 1;
                if steps > depts {
                    return Err(format!("department {i}: its parents form a cycle"));
                }
                up = self.departments[p as usize].parent;
            }
        }
        let record_slot = |s: Option<u32>| {
            s.map_or(Ok(()), |s| {
                in_range("record slot", s, self.slots.record.len())
            })
        };
        for (i, r) in self.resources.iter().enumerate() {
            let parent = r.parent.as_ref().map_or(Ok(()), |l| {
                in_range("parent", l.resource, self.resources.len()).and(record_slot(Some(l.slot)))
            });
            let slots = record_slot(r.owner)
                .and(record_slot(r.department))
                .and(record_slot(r.members))
                .and(record_slot(r.org));
            let mut flow = r
                .workflow
                .iter()
                .flat_map(|w| &w.transitions)
                .flat_map(|t| {
                    t.steps
                        .iter()
                        .map(|s| s.when.as_ref())
                        .chain([t.settled.as_ref()])
                });
            let steps = flow.try_for_each(|e| self.condition_ok(e));
            at("resource", i, slots.and(parent).and(steps))?;
            if r.actions.len() > MAX_ACTIONS {
                return Err(format!("resource {i}: {} actions", r.actions.len()));
            }
        }
        for i in 0..self.resources.len() {
            let mut up = self.resources.get(i).and_then(|r| r.parent.as_ref());
            let mut steps = 0;
            while let Some(l) = up {
                steps += 1;
                if steps > self.resources.len() {
                    return Err(format!("resource {i}: its parents form a cycle"));
                }
                up = self
                    .resources
                    .get(l.resource as usize)
                    .and_then(|r| r.parent.as_ref());
            }
        }
        for (i, r) in self.roles.iter().enumerate() {
            let refs = all("role", &r.ancestors, roles).and(all("grant", &r.grants, grants));
            at("role", i, refs)?;
        }
        for (i, g) in self.grants.iter().enumerate() {
            let origin = match &g.origin {
                Origin::Role(r) => in_range("role", *r, roles),
                Origin::Template(t) => in_range("template", *t, self.templates.len()),
                Origin::User(_) => Ok(()),
            };
            let rest = self
                .targets_ok(&g.targets)
                .and(self.condition_ok(g.when.as_ref()));
            at("grant", i, origin.and(rest))?;
        }
        for (i, r) in self.rules.iter().enumerate() {
            let refs = all("role", &r.except_roles, roles)
                .and(self.targets_ok(&r.targets))
                .and(self.condition_ok(r.when.as_ref()));
            at("rule", i, refs)?;
        }
        all("global rule", &self.global_rules, rules)?;
        all("flow rule", &self.flow_rules, rules)?;
        let held = |entries: &[RoleEntry]| entries.iter().map(|e| e.role).collect::<Vec<u32>>();
        for (i, u) in self.users.values().enumerate() {
            let refs = all("role", &held(&u.roles), roles)
                .and(all("grant", &u.grants, grants))
                .and(all("rule", &u.rules, rules));
            at("user", i, refs)?;
        }
        for (d, rs) in &self.department_roles {
            let refs = in_range("department", *d, depts).and(all("role", &held(rs), roles));
            at("department", *d as usize, refs)?;
        }
        for (i, rs) in self.group_roles.values().enumerate() {
            at("group", i, all("role", &held(rs), roles))?;
        }
        Ok(())
    }

    fn targets_ok(&self, t: &Targets) -> Result<(), String> {
        let Targets::One(r, shape) = t else {
            return Ok(());
        };
        let res = self
            .resources
            .get(*r as usize)
            .ok_or_else(|| format!("resource {r} of {}", self.resources.len()))?;
        if shape.states.len() == res.fields.len() {
            Ok(())
        } else {
            let (n, of) = (shape.states.len(), res.fields.len());
            Err(format!("{n} field states for {of} fields"))
        }
    }

    fn condition_ok(&self, e: Option<&Expr>) -> Result<(), String> {
        if e.is_none_or(|e| expr_ok(e, &self.slots)) {
            Ok(())
        } else {
            Err("its condition reads a slot the policy does not have".into())
        }
    }
}

fn expr_ok(e: &Expr, s: &SlotTable) -> bool {
    match e {
        Expr::Const(_) => true,
        Expr::Or(es) | Expr::And(es) => es.iter().all(|e| expr_ok(e, s)),
        Expr::Not(e) => expr_ok(e, s),
        Expr::Cmp(_, a, b) => operand_ok(a, s) && operand_ok(b, s),
        Expr::Truthy(a) => operand_ok(a, s),
        // Made per session, never stored in a policy.
        Expr::Parent(_) => false,
    }
}

fn operand_ok(o: &Operand, s: &SlotTable) -> bool {
    match o {
        Operand::Lit(_) | Operand::User(UserRef::Id | UserRef::Roles | UserRef::Department) => true,
        Operand::User(
            UserRef::Groups | UserRef::Org | UserRef::DepartmentTree | UserRef::Reports,
        ) => true,
        Operand::User(UserRef::Attr(i)) => (*i as usize) < s.user_attrs.len(),
        Operand::Record(i) => (*i as usize) < s.record.len(),
        Operand::Context(i) => (*i as usize) < s.context.len(),
        Operand::List(items) => items.iter().all(|o| operand_ok(o, s)),
        // Made per session, never stored in a policy.
        Operand::Ids(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::core::condition::{Expr, Operand};
    use crate::core::policy::{Policy, UserAssignment};

    fn acme() -> Policy {
        let text = include_str!("../../examples/acme-erp.policy.json");
        Policy::from_json(text).expect("the sample compiles")
    }

    #[test]
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a test policy's counts are tiny"
    )]
    fn compiled_policies_hold_it_and_each_fault_is_named() {
        assert_eq!(acme().check_integrity(), Ok(()));

        let mut p = acme();
        p.roles[0].ancestors.push(999);
        let e = p.check_integrity().unwrap_err();
        assert!(e.starts_with("role 0: role 999 of"), "{e}");

        let mut p = acme();
        let n = p.departments.len() as u32;
        p.departments[0].parent = Some(n - 1);
        p.departments[n as usize - 1].parent = Some(0);
        let e = p.check_integrity().unwrap_err();
        assert!(e.ends_with("its parents form a cycle"), "{e}");

        let mut p = acme();
        let g = p
            .grants
            .iter()
            .position(|g| matches!(g.targets, super::Targets::One(..)))
            .unwrap();
        if let super::Targets::One(_, shape) = &mut p.grants[g].targets {
            shape.states = shape.states[1..].into();
        }
        let e = p.check_integrity().unwrap_err();
        assert!(e.starts_with(&format!("grant {g}: ")), "{e}");
        assert!(e.contains("field states for"), "{e}");

        let mut p = acme();
        let slot = p.slots.context.len() as u32;
        p.grants[3].when = Some(Expr::Not(Box::new(Expr::Truthy(Operand::List(vec![
            Operand::Context(slot),
        ])))));
        let e = p.check_integrity().unwrap_err();
        assert_eq!(
            e,
            "grant 3: its condition reads a slot the policy does not have"
        );

        let mut p = acme();
        let rules = vec![p.rules.len() as u32];
        let a = UserAssignment {
            rules,
            ..UserAssignment::default()
        };
        p.users = vec![("u-x".to_string(), a)].into();
        let e = p.check_integrity().unwrap_err();
        assert_eq!(
            e,
            format!("user 0: rule {} of {}", p.rules.len(), p.rules.len())
        );
    }
}
