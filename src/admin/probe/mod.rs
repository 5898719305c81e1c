//! Who and what to ask a policy about: record shapes (the person's own record, someone
//! else's, their department's, below it, their reports', shared ones, under a parent, with the
//! values the policy's conditions compare) and what two policies precompute to be compared.
//! The diff asks both policies on these; lint asks one.

mod candidates;
mod hashes;

pub(crate) use candidates::*;
pub(crate) use hashes::*;

use crate::core::condition::{CmpOp, Expr, Operand, SlotTable, UserRef};
use crate::core::policy::{Grant, Rule, Targets};
use crate::core::{Policy, Session, Subject};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A record to ask about, described independently of the person: its kind and the attribute
/// values a condition compares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub(crate) kind: &'static str,
    /// `(dotted path, value)` set on top of the kind's owner and department.
    pub(crate) set: Vec<(String, Candidate)>,
}

/// A value a condition compares a record attribute with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Candidate {
    Value(Value),
    /// The person's own id.
    UserId,
    /// The person's department.
    UserDepartment,
}

/// Both policies, with what the diff precomputes about them.
pub(crate) struct Pair<'p> {
    pub(crate) old: Side<'p>,
    pub(crate) new: Side<'p>,
    /// Whether the department tree is the same in both.
    pub(crate) same_departments: bool,
    /// Whether either policy compares `user.id` with anything but a record attribute (then
    /// people are told apart by id).
    pub(crate) by_id: bool,
    /// Resources declared differently, or in one policy only.
    pub(crate) declared_differently: HashSet<&'p str>,
}

/// One policy and its precomputed parts.
pub(crate) struct Side<'p> {
    pub(crate) policy: &'p Arc<Policy>,
    /// A hash of each grant and rule as it bears on answers (not where it is written).
    pub(crate) grant_hash: Vec<u64>,
    pub(crate) rule_hash: Vec<u64>,
    /// A hash of each resource's declaration, by name.
    pub(crate) resource_hash: HashMap<&'p str, u64>,
    /// Per resource position: the grants and rules naming it (grants and rules on `*` are in
    /// `every_*`).
    pub(crate) grants_on: Vec<Vec<u32>>,
    pub(crate) rules_on: Vec<Vec<u32>>,
    pub(crate) every_grant: Vec<u32>,
    pub(crate) every_rule: Vec<u32>,
}

/// The shapes of a record owned by `id` (someone in the reporting line), with each variant of
/// the candidate values.
pub(crate) fn report_shapes<'c>(
    kind: &'static str,
    owner: &'c str,
    id: &'c str,
    candidates: &'c [(String, Vec<Candidate>)],
) -> impl Iterator<Item = Shape> + 'c {
    variants(candidates).into_iter().map(move |mut set| {
        set.push((owner.to_string(), Candidate::Value(Value::from(id))));
        Shape { kind, set }
    })
}

/// Records worth asking one policy about on `resource` for `s`: the diff's shapes (the
/// person's own, someone else's, their department's, below it, …, with the values the
/// policy's conditions compare), each with its kind.
pub(crate) fn sample_records(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    s: &Subject,
) -> Vec<(&'static str, Value)> {
    let pair = Pair::new(doc, policy, doc, policy);
    pair.shapes(resource, s)
        .iter()
        .map(|shape| (shape.kind, pair.record(resource, shape, s)))
        .collect()
}

impl<'p> Side<'p> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(crate) fn new(doc: &'p Value, policy: &'p Arc<Policy>) -> Side<'p> {
        let p = &**policy;
        let mut grants_on = vec![Vec::new(); p.resources.len()];
        let mut rules_on = vec![Vec::new(); p.resources.len()];
        let (mut every_grant, mut every_rule) = (Vec::new(), Vec::new());
        for (i, g) in p.grants.iter().enumerate() {
            match &g.targets {
                Targets::One(r, _) => grants_on[*r as usize].push(i as u32),
                Targets::All(_) => every_grant.push(i as u32),
            }
        }
        for (i, r) in p.rules.iter().enumerate() {
            match &r.targets {
                Targets::One(res, _) => rules_on[*res as usize].push(i as u32),
                Targets::All(_) => every_rule.push(i as u32),
            }
        }
        let resources = doc.get("resources").and_then(Value::as_object);
        let resource_hash = p
            .resources
            .iter()
            .map(|r| {
                let decl = resources.and_then(|m| m.get(&r.name));
                (r.name.as_str(), hash(&decl.map(Value::to_string)))
            })
            .collect();
        Side {
            policy,
            grant_hash: p.grants.iter().map(|g| grant_hash(p, g)).collect(),
            rule_hash: p.rules.iter().map(|r| rule_hash(p, r)).collect(),
            resource_hash,
            grants_on,
            rules_on,
            every_grant,
            every_rule,
        }
    }

    /// Adds the resources `s`'s grants and rules name to `out`; false when one names every
    /// resource.
    pub(crate) fn names(&self, s: &Session, out: &mut HashSet<&'p str>) -> bool {
        let p: &'p Policy = self.policy;
        let grants = s.grants.iter().map(|&g| &p.grants[g as usize].targets);
        let rules = s.rules.iter().map(|&r| &p.rules[r as usize].targets);
        for t in grants.chain(rules) {
            match t {
                Targets::One(r, _) => {
                    out.insert(p.resources[*r as usize].name.as_str());
                }
                Targets::All(_) => return false,
            }
        }
        true
    }

    /// What decides a session's answers on resource `r`: the resource's declaration, the
    /// session's grants and rules on it (and its role names when conditions read them), and its
    /// parent's, for records that follow one.
    pub(crate) fn fingerprint(&self, s: &Session, r: &str) -> Option<u64> {
        let p = &**self.policy;
        let pos = p.resource_id(r).ok()?.index() as usize;
        let mut grants: Vec<u64> = self.grants_on[pos]
            .iter()
            .chain(&self.every_grant)
            .filter(|g| s.grants.binary_search(g).is_ok())
            .map(|&g| self.grant_hash[g as usize])
            .collect();
        grants.sort_unstable();
        let mut rules: Vec<u64> = self.rules_on[pos]
            .iter()
            .chain(&self.every_rule)
            .filter(|ru| s.rules.contains(ru))
            .map(|&ru| self.rule_hash[ru as usize])
            .collect();
        rules.sort_unstable();
        let roles = p.reads_user_roles().then(|| s.roles());
        // A `parent` grant decides on the parent's own grants: they are part of the answer.
        let parent = match p.parent_of(r) {
            Some((up, _)) => Some(self.fingerprint(s, up)?),
            None => None,
        };
        Some(hash(&(
            self.resource_hash.get(r),
            grants,
            rules,
            roles,
            parent,
        )))
    }
}

impl<'p> Pair<'p> {
    pub(crate) fn new(
        old_doc: &'p Value,
        old: &'p Arc<Policy>,
        new_doc: &'p Value,
        new: &'p Arc<Policy>,
    ) -> Pair<'p> {
        let compares_id = |p: &Policy| {
            let grants = p.grants.iter().map(|g| &g.when);
            let rules = p.rules.iter().map(|r| &r.when);
            grants
                .chain(rules)
                .flatten()
                .any(compares_user_id_off_record)
        };
        let (old_side, new_side) = (Side::new(old_doc, old), Side::new(new_doc, new));
        let declared_differently = union(old.resource_names(), new.resource_names())
            .into_iter()
            .filter(|r| old_side.resource_hash.get(r) != new_side.resource_hash.get(r))
            .collect();
        Pair {
            old: old_side,
            new: new_side,
            same_departments: old_doc.get("departments") == new_doc.get("departments"),
            by_id: compares_id(old) || compares_id(new),
            declared_differently,
        }
    }

    /// People with the same key get the same answers from both policies (up to their own id
    /// on their own records).
    pub(crate) fn class_key(&self, s: &Subject) -> String {
        let named = self.old.policy.users.get(&s.id).is_some()
            || self.new.policy.users.get(&s.id).is_some();
        let id = if named || self.by_id || s.id.starts_with('\u{0}') {
            s.id.as_str()
        } else {
            ""
        };
        let mut roles = s.roles.clone();
        roles.sort();
        let mut groups = s.groups.clone();
        groups.sort();
        let mut reports: Vec<(&String, &Value)> = s.reports.iter().collect();
        reports.sort_unstable_by_key(|(id, _)| *id);
        serde_json::json!([id, roles, s.department, groups, s.org, s.attrs, reports]).to_string()
    }

    /// Whether both policies surely answer alike for this session pair on `r`.
    pub(crate) fn same_for(&self, a: &Session, b: &Session, r: &str) -> bool {
        if !self.same_departments {
            return false;
        }
        match (self.old.fingerprint(a, r), self.new.fingerprint(b, r)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    }

    /// The resources whose answers can differ for this person: those their grants and rules
    /// name in either policy, and those declared differently (or in one policy only). On any
    /// other resource they have no grant in either policy, so every answer is "no" in both.
    /// `None` when a grant or rule names every resource.
    pub(crate) fn named_by(&self, a: &Session, b: &Session) -> Option<HashSet<&'p str>> {
        let mut out = self.declared_differently.clone();
        (self.old.names(a, &mut out) && self.new.names(b, &mut out)).then_some(out)
    }

    /// The record paths of the resource's owner and department attributes (from whichever
    /// policy declares them).
    pub(crate) fn owner_paths(&self, r: &str) -> (Option<String>, Option<String>) {
        let path =
            |p: &Policy, slot: Option<u32>| slot.map(|s| p.slots.record[s as usize].dotted());
        let mut owner = None;
        let mut dept = None;
        for p in [self.old.policy, self.new.policy] {
            if let Some(res) = p.resource(r) {
                owner = owner.or_else(|| path(p, res.owner));
                dept = dept.or_else(|| path(p, res.department));
            }
        }
        (owner, dept)
    }

    /// The shapes of record to ask about on `r` for `s`.
    pub(crate) fn shapes(&self, r: &str, s: &Subject) -> Vec<Shape> {
        let (owner, dept) = self.owner_paths(r);
        let mut kinds = Vec::new();
        let candidates = self.candidates(r);
        if owner.is_some() || dept.is_some() || !candidates.is_empty() {
            kinds.push("other");
        }
        if owner.is_some() {
            kinds.push("own");
            if dept.is_some() {
                kinds.push("own_elsewhere");
            }
        }
        if dept.is_some() && s.department.is_some() {
            kinds.push("department");
            if self.child_department(s).is_some() {
                kinds.push("subtree");
                if owner.is_some() {
                    kinds.push("own_subtree");
                }
            }
        }
        if self.members_path(r).is_some() {
            kinds.push("shared");
        }
        // A partner's own organisation's records.
        if s.org.is_some() && self.org_path(r).is_some() {
            kinds.push("org");
        }
        if self.parent_link(r).is_some() {
            kinds.extend(["parent_own", "parent_other"]);
        }
        let mut out = Vec::new();
        for kind in kinds {
            for set in variants(&candidates) {
                out.push(Shape { kind, set });
            }
        }
        // The reporting line: a direct report's record, and the farthest report's.
        if let Some(path) = owner {
            let mut line: Vec<(u64, &String)> = s
                .reports
                .iter()
                .filter_map(|(id, d)| Some((d.as_u64()?, id)))
                .collect();
            line.sort_unstable();
            let picks = [("report", line.first()), ("indirect_report", line.last())];
            for (kind, pick) in picks {
                let Some(&(distance, id)) = pick else {
                    continue;
                };
                if kind == "indirect_report" && distance < 2 {
                    continue;
                }
                out.extend(report_shapes(kind, &path, id, &candidates));
            }
        }
        out
    }

    /// The record path of the resource's members list (from whichever policy declares it).
    pub(crate) fn members_path(&self, r: &str) -> Option<String> {
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| p.members_attribute(r))
    }

    /// The record path of the resource's organisation (from whichever policy declares it).
    pub(crate) fn org_path(&self, r: &str) -> Option<String> {
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| p.org_attribute(r))
    }

    /// The resource's parent resource (from whichever policy declares it).
    pub(crate) fn parent_link(&self, r: &str) -> Option<String> {
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| Some(p.parent_of(r)?.0.to_string()))
    }

    /// A department directly below the subject's, in either policy.
    pub(crate) fn child_department(&self, s: &Subject) -> Option<String> {
        let d = s.department.as_deref()?;
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| {
                p.department_names()
                    .find(|c| p.department_parent(c) == Some(d))
                    .map(str::to_string)
            })
    }

    /// Per record path that a condition on `r` compares, the values worth trying.
    pub(crate) fn candidates(&self, r: &str) -> Vec<(String, Vec<Candidate>)> {
        let mut out: Vec<(String, Vec<Candidate>)> = Vec::new();
        for side in [&self.old, &self.new] {
            let p = &**side.policy;
            let Ok(pos) = p.resource_id(r) else { continue };
            let pos = pos.index() as usize;
            let grants = side.grants_on[pos].iter().chain(&side.every_grant);
            let whens = grants.map(|&g| &p.grants[g as usize].when).chain(
                side.rules_on[pos]
                    .iter()
                    .chain(&side.every_rule)
                    .map(|&ru| &p.rules[ru as usize].when),
            );
            for e in whens.flatten() {
                collect_candidates(e, &p.slots, &mut out);
            }
        }
        out
    }

    /// The record JSON of a shape, for person `s`.
    pub(crate) fn record(&self, r: &str, shape: &Shape, s: &Subject) -> Value {
        let (owner, dept) = self.owner_paths(r);
        let mut rec = Value::Object(Map::new());
        let someone = Value::from("\u{0}someone else");
        let elsewhere = Value::from("\u{0}another department");
        let theirs = s.department.clone().map_or(Value::Null, Value::from);
        let me = Value::from(s.id.clone());
        let below = || self.child_department(s).map_or(Value::Null, Value::from);
        let (o, d) = match shape.kind {
            "own" | "former_own" => (me, theirs),
            "own_elsewhere" => (me, elsewhere),
            "own_subtree" | "former_own_subtree" => (me, below()),
            "department" | "former_department" => (someone, theirs),
            "subtree" | "former_subtree" => (someone, below()),
            _ => (someone, elsewhere),
        };
        if let Some(path) = owner {
            set_path(&mut rec, &path, o);
        }
        if let Some(path) = dept {
            set_path(&mut rec, &path, d);
        }
        if let Some(path) = self.members_path(r) {
            let members = if shape.kind == "shared" {
                vec![Value::from(s.id.clone())]
            } else {
                Vec::new()
            };
            set_path(&mut rec, &path, Value::Array(members));
        }
        if let Some(path) = self.org_path(r) {
            let org = match (shape.kind, &s.org) {
                ("org", Some(org)) => Value::from(org.clone()),
                _ => Value::from("\u{0}another organisation"),
            };
            set_path(&mut rec, &path, org);
        }
        if let Some(up) = self.parent_link(r).filter(|up| up != r) {
            let kind = match shape.kind {
                "parent_own" => "own",
                "parent_other" => "other",
                _ => "",
            };
            if !kind.is_empty() {
                let of = Shape {
                    kind,
                    set: Vec::new(),
                };
                let mut parent = self.record(&up, &of, s);
                set_path(&mut parent, "id", Value::from("\u{0}the parent record"));
                set_path(&mut rec, &up, parent);
            }
        }
        for (path, c) in &shape.set {
            let v = match c {
                Candidate::Value(v) => v.clone(),
                Candidate::UserId => Value::from(s.id.clone()),
                Candidate::UserDepartment => s.department.clone().map_or(Value::Null, Value::from),
            };
            set_path(&mut rec, path, v);
        }
        rec
    }
}

/// The names of `a` then those of `b` not in `a`, each once, in order.
pub(crate) fn union<'n>(
    a: impl Iterator<Item = &'n str>,
    b: impl Iterator<Item = &'n str>,
) -> Vec<&'n str> {
    let mut seen = std::collections::HashSet::new();
    a.chain(b).filter(|n| seen.insert(*n)).collect()
}
