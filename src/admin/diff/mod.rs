//! Policy diffs: what changed in the document, and who gains or loses what because of it.
//!
//! Access is compared for real people: everyone in the directory as it describes them, plus
//! everyone either policy names in `assignments.users`. Without a directory, one stand-in per
//! department and per group (with no roles of their own) takes their place, so a change to a
//! department or group assignment is never invisible; a stand-in per role shows role changes.
//!
//! Every action and every field state in every form mode is asked of both policies, with no
//! record and on record shapes: the subject's own record, someone else's in another department,
//! a colleague's in their department, one below it, each also with every value the policies'
//! conditions compare a record attribute against.
//!
//! People who look alike to both policies (same roles, department, groups and attributes, and
//! nothing written for them by id) are asked once, and a (person, resource) pair is skipped
//! when both policies give that person the very same grants and rules on the resource.

mod causes;
mod structure;
mod summary;

pub use summary::{Group, Impact, Line, PersonRef};

use super::directory::Person;

use super::directory::Directory;
use super::subjects;
use super::words::{Labels, Lang};
use crate::core::condition::{CmpOp, Expr, Operand, SlotTable, UserRef};
use crate::core::policy::{Grant, Rule, Targets};
use crate::core::{FieldState, Input, Mode, Policy, Session, Subject};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// One added, removed or changed entry of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructuralChange {
    /// `department`, `resource`, `template`, `role`, `rule`, `user`, `department_assignment`,
    /// `group_assignment` or `header`.
    pub kind: &'static str,
    /// The entry's name, id or key.
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// For assignments: the roles given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles_added: Vec<String>,
    /// For assignments: the roles taken away.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles_removed: Vec<String>,
    /// For a person of the directory (kind `directory`) who changed department: from, to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<(Option<String>, Option<String>)>,
    /// For a person of the directory: the groups joined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups_added: Vec<String>,
    /// For a person of the directory: the groups left.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups_removed: Vec<String>,
}

/// One answer that differs between the two policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// Who: `user:<id>`, `department:<id>` or `group:<id>` (a stand-in member with no roles
    /// of their own), or `role:<name>` (a stand-in holding just that role).
    pub subject: String,
    /// The resource.
    pub resource: String,
    /// Which records: `any` (no record in view: list pages and new forms), `own` (the
    /// subject's, in their department), `other` (someone else's, in another department),
    /// `department` (a colleague's, in their department), `subtree` (someone else's, in a
    /// department below theirs), `own_subtree` and `own_elsewhere` (the subject's, below their
    /// department or in another one).
    pub records: &'static str,
    /// The record asked about, when there is one (with the attribute values the policies'
    /// conditions compare).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<Value>,
    /// `action <name>` or `field <name> (<mode>)`.
    pub what: String,
    /// The old answer (`allowed`/`denied`, or a field state).
    pub from: String,
    /// The new answer.
    pub to: String,
    /// `gained` or `lost`.
    pub direction: &'static str,
    /// Whether it happens on every record shape asked about for this person (then it covers
    /// all their records of the resource, whoever owns them).
    pub all_records: bool,
    /// When it happens on only some records of this kind: the conditions (tree form, see
    /// `Expr::to_tree`) that tell those records apart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Value>,
    /// The changes of the document that can cause it (positions in `structure`).
    pub causes: Vec<u32>,
}

/// A structural and access diff.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    /// What changed in the document.
    pub structure: Vec<StructuralChange>,
    /// Who gains or loses what.
    pub access: Vec<AccessChange>,
    /// What the diff's words are made from: both documents' names and labels, and the
    /// directory's display names.
    #[serde(skip)]
    names: Arc<Names>,
}

/// The labelled parts of both documents and the people's display names.
#[derive(Debug, Default)]
struct Names {
    old: Value,
    new: Value,
    people: Vec<(String, String)>,
}

/// The parts of a document that hold names and labels (resources, roles, departments,
/// rules).
fn labels_of(doc: &Value) -> Value {
    let mut out = Map::new();
    for k in ["resources", "roles", "templates", "departments", "rules"] {
        if let Some(v) = doc.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// How far a diff may go before it gives up.
pub struct Limits<'a> {
    /// The most access changes it reports.
    pub max_changes: usize,
    /// Whether its time is up (the host's clock; checked between people).
    pub expired: &'a dyn Fn() -> bool,
}

impl Default for Limits<'_> {
    fn default() -> Self {
        Limits {
            max_changes: 200_000,
            expired: &|| false,
        }
    }
}

/// Why a diff gave up (code `diff_too_large`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffError {
    /// What ran out.
    pub message: String,
}

impl DiffError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        "diff_too_large"
    }
}

impl std::fmt::Display for DiffError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "diff_too_large: {}", self.message)
    }
}

impl std::error::Error for DiffError {}

impl Diff {
    /// The labels the diff's words use, in `lang`.
    pub fn labels(&self, lang: Lang) -> Labels {
        Labels::new(
            lang,
            &self.names.new,
            &self.names.old,
            self.names.people.iter().cloned(),
        )
    }

    /// The access changes in words, grouped by cause and then by person (see [`Impact`]).
    pub fn impact(&self, lang: Lang) -> Impact {
        summary::impact(self, &self.labels(lang))
    }

    /// One line per effect, in `lang` (every group's lines, in order).
    pub fn summary(&self, lang: Lang) -> Vec<String> {
        self.impact(lang)
            .groups
            .into_iter()
            .flat_map(|g| g.lines.into_iter().map(|l| l.text))
            .collect()
    }
}

/// Compares two policies (documents and their compiled forms) for the people of `directory`
/// (see the module documentation for who else is asked about).
///
/// # Errors
/// `diff_too_large` when the limits are reached.
pub fn diff(
    old_doc: &Value,
    old: &Arc<Policy>,
    new_doc: &Value,
    new: &Arc<Policy>,
    directory: Option<&Directory>,
    limits: &Limits<'_>,
) -> Result<Diff, DiffError> {
    diff_people(old_doc, old, new_doc, new, [directory, directory], limits)
}

/// [`diff`] where the people change too: everyone as `directories[0]` describes them under
/// the old policy, and as `directories[1]` does under the new one (a person moved to another
/// department, given a role, or added or removed). Their changes are structural changes of
/// kind `directory` and causes like any other.
///
/// # Errors
/// `diff_too_large` when the limits are reached.
pub fn diff_people(
    old_doc: &Value,
    old: &Arc<Policy>,
    new_doc: &Value,
    new: &Arc<Policy>,
    directories: [Option<&Directory>; 2],
    limits: &Limits<'_>,
) -> Result<Diff, DiffError> {
    let mut structure = structure::structural(old_doc, new_doc);
    if let [Some(was), Some(is)] = directories {
        structure.extend(structure::people(was, is));
    }
    let reach = causes::Reach::new(&structure, [old_doc, new_doc], [old, new]);
    let pair = Pair::new(old_doc, old, new_doc, new);
    let people = subjects_of(old, new, directories);
    let mut classes: Vec<(Both, Vec<(String, Both)>)> = Vec::new();
    let mut class_of: HashMap<String, usize> = HashMap::new();
    for (label, s) in people {
        let key = format!("{}|{}", pair.class_key(&s.was), pair.class_key(&s.is));
        match class_of.get(&key) {
            Some(&i) => classes[i].1.push((label, s)),
            None => {
                class_of.insert(key, classes.len());
                classes.push((s.clone(), vec![(label, s)]));
            }
        }
    }
    let mut access = Vec::new();
    let resources = union(old.resource_names(), new.resource_names());
    for (rep, members) in &classes {
        if (limits.expired)() {
            return Err(DiffError {
                message: "the diff ran out of time; narrow it (a smaller change, or fewer people)"
                    .into(),
            });
        }
        let (a, b) = (old.session(&rep.was), new.session(&rep.is));
        let named = pair.named_by(&a, &b);
        // A new department or a new reporting line changes which records are theirs to
        // reach, under the same policy too.
        let moved = rep.was.department != rep.is.department || rep.was.reports != rep.is.reports;
        for r in &resources {
            if named.as_ref().is_some_and(|n| !n.contains(r))
                || (!moved && pair.same_for(&a, &b, r))
            {
                continue;
            }
            let found = compare_resource(&pair, rep, r, &a, &b);
            if found.is_empty() {
                continue;
            }
            let shared = reach.shared(&rep.is, &a, &b, r);
            for (label, s) in members {
                let mut causes = shared.clone();
                causes.extend_from_slice(reach.personal(&s.is.id));
                causes.sort_unstable();
                for c in &found {
                    access.push(AccessChange {
                        subject: label.clone(),
                        resource: r.to_string(),
                        records: c.records,
                        record: c.shape.as_ref().map(|sh| pair.record(r, sh, s.on(sh))),
                        what: c.what.clone(),
                        from: c.from.clone(),
                        to: c.to.clone(),
                        direction: c.direction,
                        all_records: c.all_records,
                        conditions: c.conditions.clone(),
                        causes: causes.clone(),
                    });
                }
            }
            if access.len() > limits.max_changes {
                return Err(DiffError {
                    message: format!(
                        "more than {} access changes; publish it in smaller steps or diff \
                         fewer people",
                        limits.max_changes
                    ),
                });
            }
        }
    }
    let names = Names {
        old: labels_of(old_doc),
        new: labels_of(new_doc),
        people: directories
            .into_iter()
            .flatten()
            .flat_map(|d| d.people())
            .filter_map(|p| Some((p.id.clone(), p.name.clone()?)))
            .collect(),
    };
    drop(reach);
    Ok(Diff {
        structure,
        access,
        names: Arc::new(names),
    })
}

/// Who is asked about, labelled: the directory's people, everyone the policies name, and
/// stand-ins (departments and groups without a directory, and roles).
fn subjects_of(
    old: &Policy,
    new: &Policy,
    directories: [Option<&Directory>; 2],
) -> Vec<(String, Both)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |label: String, s: Both, out: &mut Vec<(String, Both)>| {
        if seen.insert(label.clone()) {
            out.push((label, s));
        }
    };
    let [was, is] = directories;
    // Someone in one directory only is, in the other, just their id (what the policy names).
    let person = |d: Option<&Directory>, id: &str| {
        d.and_then(|d| d.get(id))
            .map_or_else(|| Subject::new(id), Person::subject)
    };
    for d in [is, was].into_iter().flatten() {
        for p in d.people() {
            let both = Both {
                was: person(was, &p.id),
                is: person(is, &p.id),
            };
            add(format!("user:{}", p.id), both, &mut out);
        }
    }
    for p in [old, new] {
        for u in p.user_ids() {
            add(format!("user:{u}"), Both::same(Subject::new(u)), &mut out);
        }
    }
    if was.is_none() && is.is_none() {
        for p in [old, new] {
            for d in p.department_names() {
                let s = subjects::department_member(d);
                add(format!("department:{d}"), Both::same(s), &mut out);
            }
        }
        for p in [old, new] {
            for g in p.group_names() {
                add(
                    format!("group:{g}"),
                    Both::same(subjects::group_member(g)),
                    &mut out,
                );
            }
        }
    }
    for p in [old, new] {
        for r in p.role_names() {
            add(format!("role:{r}"), Both::same(subjects::role(r)), &mut out);
        }
    }
    out
}

/// One person as the old and the new directory describe them.
#[derive(Debug, Clone)]
struct Both {
    was: Subject,
    is: Subject,
}

impl Both {
    fn same(s: Subject) -> Both {
        Both {
            was: s.clone(),
            is: s,
        }
    }

    /// Whom a record shape is relative to: the old description for the former department's
    /// records, the new one otherwise.
    fn on(&self, shape: &Shape) -> &Subject {
        if shape.kind.starts_with("former_") {
            &self.was
        } else {
            &self.is
        }
    }
}

/// A record to ask about, described independently of the person: its kind and the attribute
/// values a condition compares.
#[derive(Debug, Clone, PartialEq)]
struct Shape {
    kind: &'static str,
    /// `(dotted path, value)` set on top of the kind's owner and department.
    set: Vec<(String, Candidate)>,
}

/// A value a condition compares a record attribute with.
#[derive(Debug, Clone, PartialEq)]
enum Candidate {
    Value(Value),
    /// The person's own id.
    UserId,
    /// The person's department.
    UserDepartment,
}

/// One change found for a class of people.
struct Found {
    records: &'static str,
    shape: Option<Shape>,
    what: String,
    from: String,
    to: String,
    direction: &'static str,
    all_records: bool,
    conditions: Vec<Value>,
}

/// Both policies, with what the diff precomputes about them.
struct Pair<'p> {
    old: Side<'p>,
    new: Side<'p>,
    /// Whether the department tree is the same in both.
    same_departments: bool,
    /// Whether either policy compares `user.id` with anything but a record attribute (then
    /// people are told apart by id).
    by_id: bool,
    /// Resources declared differently, or in one policy only.
    declared_differently: HashSet<&'p str>,
}

/// One policy and its precomputed parts.
struct Side<'p> {
    policy: &'p Arc<Policy>,
    /// A hash of each grant and rule as it bears on answers (not where it is written).
    grant_hash: Vec<u64>,
    rule_hash: Vec<u64>,
    /// A hash of each resource's declaration, by name.
    resource_hash: HashMap<&'p str, u64>,
    /// Per resource position: the grants and rules naming it (grants and rules on `*` are in
    /// `every_*`).
    grants_on: Vec<Vec<u32>>,
    rules_on: Vec<Vec<u32>>,
    every_grant: Vec<u32>,
    every_rule: Vec<u32>,
}

impl<'p> Side<'p> {
    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn new(doc: &'p Value, policy: &'p Arc<Policy>) -> Side<'p> {
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
    fn names(&self, s: &Session, out: &mut HashSet<&'p str>) -> bool {
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
    fn fingerprint(&self, s: &Session, r: &str) -> Option<u64> {
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
    fn new(
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
    fn class_key(&self, s: &Subject) -> String {
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
        serde_json::json!([id, roles, s.department, groups, s.attrs, reports]).to_string()
    }

    /// Whether both policies surely answer alike for this session pair on `r`.
    fn same_for(&self, a: &Session, b: &Session, r: &str) -> bool {
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
    fn named_by(&self, a: &Session, b: &Session) -> Option<HashSet<&'p str>> {
        let mut out = self.declared_differently.clone();
        (self.old.names(a, &mut out) && self.new.names(b, &mut out)).then_some(out)
    }

    /// The record paths of the resource's owner and department attributes (from whichever
    /// policy declares them).
    fn owner_paths(&self, r: &str) -> (Option<String>, Option<String>) {
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
    fn shapes(&self, r: &str, s: &Subject) -> Vec<Shape> {
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
    fn members_path(&self, r: &str) -> Option<String> {
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| p.members_attribute(r))
    }

    /// The resource's parent resource (from whichever policy declares it).
    fn parent_link(&self, r: &str) -> Option<String> {
        [self.old.policy, self.new.policy]
            .into_iter()
            .find_map(|p| Some(p.parent_of(r)?.0.to_string()))
    }

    /// A department directly below the subject's, in either policy.
    fn child_department(&self, s: &Subject) -> Option<String> {
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
    fn candidates(&self, r: &str) -> Vec<(String, Vec<Candidate>)> {
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
    fn record(&self, r: &str, shape: &Shape, s: &Subject) -> Value {
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

/// The shapes of a record owned by `id` (someone in the reporting line), with each variant of
/// the candidate values.
fn report_shapes<'c>(
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

/// Every combination of candidate values when there are few, else each value on its own.
fn variants(candidates: &[(String, Vec<Candidate>)]) -> Vec<Vec<(String, Candidate)>> {
    let product = candidates
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len() + 1))
        .unwrap_or(usize::MAX);
    if product <= 64 {
        let mut out: Vec<Vec<(String, Candidate)>> = vec![Vec::new()];
        for (path, values) in candidates {
            let mut next = Vec::with_capacity(out.len() * (values.len() + 1));
            for base in &out {
                next.push(base.clone());
                for v in values {
                    let mut with = base.clone();
                    with.push((path.clone(), v.clone()));
                    next.push(with);
                }
            }
            out = next;
        }
        out
    } else {
        let mut out = vec![Vec::new()];
        for (path, values) in candidates {
            for v in values {
                out.push(vec![(path.clone(), v.clone())]);
            }
        }
        out
    }
}

/// Adds the values `e` compares record attributes against.
fn collect_candidates(e: &Expr, slots: &SlotTable, out: &mut Vec<(String, Vec<Candidate>)>) {
    let mut add = |slot: u32, c: Candidate| {
        let path = slots.record[slot as usize].dotted();
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, list)) if list.contains(&c) => {}
            Some((_, list)) => list.push(c),
            None => out.push((path, vec![c])),
        }
    };
    match e {
        Expr::Const(_) => {}
        Expr::Or(xs) | Expr::And(xs) => {
            for x in xs {
                collect_candidates(x, slots, out);
            }
        }
        Expr::Not(x) => collect_candidates(x, slots, out),
        Expr::Truthy(Operand::Record(s)) => add(*s, Candidate::Value(Value::Bool(true))),
        Expr::Truthy(_) => {}
        Expr::Cmp(op, a, b) => {
            let (slot, other, record_left) = match (a, b) {
                (Operand::Record(s), o) => (*s, o, true),
                (o, Operand::Record(s)) => (*s, o, false),
                _ => return,
            };
            match other {
                Operand::Lit(v) => {
                    for c in literal_candidates(*op, v, record_left) {
                        add(slot, Candidate::Value(c));
                    }
                }
                Operand::User(UserRef::Id) => add(slot, Candidate::UserId),
                Operand::User(UserRef::Department) => add(slot, Candidate::UserDepartment),
                _ => {}
            }
        }
        // Only made per session: a policy's conditions never hold one.
        Expr::Parent(_) => {}
    }
}

/// Values of a record attribute on both sides of a comparison with literal `v`.
// TRUNCATION: `f` is a whole number below 9e15 in that branch, exactly an i64
#[allow(clippy::cast_possible_truncation)]
fn literal_candidates(op: CmpOp, v: &Value, record_left: bool) -> Vec<Value> {
    match (op, record_left) {
        (CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge, _) => match v {
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                [x - 1.0, x, x + 1.0]
                    .into_iter()
                    .map(|f| {
                        if f.fract() == 0.0 && f.abs() < 9e15 {
                            Value::from(f as i64)
                        } else {
                            Value::from(f)
                        }
                    })
                    .collect()
            }
            Value::String(s) => vec![Value::from(""), v.clone(), Value::from(format!("{s}~"))],
            _ => vec![v.clone()],
        },
        // record in [..]: each element; v in record: a list holding it.
        (CmpOp::In, true) => v.as_array().cloned().unwrap_or_default(),
        (CmpOp::In, false) => vec![Value::Array(vec![v.clone()])],
        // record contains v: a list holding it, or the text itself.
        (CmpOp::Contains, true) => vec![Value::Array(vec![v.clone()]), v.clone()],
        (CmpOp::Contains, false) => match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        },
        (CmpOp::Eq | CmpOp::Ne, _) => vec![v.clone()],
    }
}

/// Whether a condition compares `user.id` with something other than a record attribute (a
/// literal, a context value): then two people's answers can differ by id alone.
fn compares_user_id_off_record(e: &Expr) -> bool {
    match e {
        Expr::Const(_) => false,
        Expr::Or(xs) | Expr::And(xs) => xs.iter().any(compares_user_id_off_record),
        Expr::Not(x) => compares_user_id_off_record(x),
        Expr::Truthy(o) => reads_id(o),
        Expr::Cmp(_, a, b) => match (a, b) {
            (Operand::Record(_), o) | (o, Operand::Record(_)) => {
                reads_id(o) && !matches!(o, Operand::User(UserRef::Id))
            }
            (x, y) => reads_id(x) || reads_id(y),
        },
        Expr::Parent(link) => compares_user_id_off_record(&link.test),
    }
}

fn reads_id(o: &Operand) -> bool {
    match o {
        Operand::User(UserRef::Id) => true,
        Operand::List(items) => items.iter().any(reads_id),
        _ => false,
    }
}

/// A hash of a grant as it bears on answers: its resource (by name), actions, field states,
/// scope and condition (read back as a tree, with attribute paths by name).
fn grant_hash(p: &Policy, g: &Grant) -> u64 {
    hash(&(
        targets_text(p, &g.targets),
        g.scope.as_str(),
        g.when.as_ref().map(|w| w.to_tree(&p.slots).to_string()),
    ))
}

/// A hash of a rule as it bears on answers (the exemptions are already in whether a session
/// has the rule at all).
fn rule_hash(p: &Policy, r: &Rule) -> u64 {
    hash(&(
        &r.id,
        format!("{:?}", r.effect),
        targets_text(p, &r.targets),
        r.when.as_ref().map(|w| w.to_tree(&p.slots).to_string()),
    ))
}

fn targets_text(p: &Policy, t: &Targets) -> String {
    match t {
        Targets::One(r, shape) => {
            let res = &p.resources[*r as usize];
            let actions: Vec<&str> = res
                .actions
                .iter()
                .enumerate()
                .filter(|(i, _)| crate::core::policy::lists(shape.actions, 1 << i))
                .map(|(_, a)| a.as_str())
                .collect();
            format!("{}|{actions:?}|{:?}", res.name, shape.states)
        }
        Targets::All(pattern) => format!("*|{pattern:?}"),
    }
}

fn hash(v: &impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

/// Sets a dotted path in a JSON object, making the objects on the way.
fn set_path(rec: &mut Value, path: &str, v: Value) {
    let mut at = rec;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        let Some(obj) = at.as_object_mut() else {
            return;
        };
        if i + 1 == keys.len() {
            obj.insert(k.to_string(), v);
            return;
        }
        at = obj
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
    }
}

/// Every answer of both sessions on `r` that differs, with no record and on each shape.
fn compare_resource(pair: &Pair<'_>, who: &Both, r: &str, a: &Session, b: &Session) -> Vec<Found> {
    let mut out = Vec::new();
    let mut cases: Vec<(&'static str, Option<Shape>)> = vec![("any", None)];
    cases.extend(
        pair.shapes(r, &who.is)
            .into_iter()
            .map(|sh| (sh.kind, Some(sh))),
    );
    // Someone who moved: their former department's records (and those below it) too.
    if who.was.department != who.is.department && who.was.department.is_some() {
        for sh in pair.shapes(r, &who.was) {
            let kind = match sh.kind {
                "own" => "former_own",
                "own_subtree" => "former_own_subtree",
                "department" => "former_department",
                "subtree" => "former_subtree",
                _ => continue,
            };
            cases.push((kind, Some(Shape { kind, ..sh })));
        }
    }
    // A new reporting line: the records of each person who joined or left it (a few of each).
    if let (Some(path), true) = (pair.owner_paths(r).0, who.was.reports != who.is.reports) {
        let candidates = pair.candidates(r);
        let joined = who
            .is
            .reports
            .keys()
            .filter(|id| !who.was.reports.contains_key(*id));
        let left = who
            .was
            .reports
            .keys()
            .filter(|id| !who.is.reports.contains_key(*id));
        for id in joined.take(3) {
            cases.extend(
                report_shapes("report", &path, id, &candidates).map(|sh| (sh.kind, Some(sh))),
            );
        }
        for id in left.take(3) {
            let kind = "former_report";
            cases.extend(report_shapes(kind, &path, id, &candidates).map(|sh| (sh.kind, Some(sh))));
        }
    }
    let (old, new) = (a.policy(), b.policy());
    let actions = union(
        old.action_names(r).unwrap_or_default().into_iter(),
        new.action_names(r).unwrap_or_default().into_iter(),
    );
    let fields_old = old.field_names(r).unwrap_or_default();
    let fields_new = new.field_names(r).unwrap_or_default();
    let fields = union(fields_old.iter().copied(), fields_new.iter().copied());
    let position = |names: &[&'_ str]| -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i))
            .collect()
    };
    let (at_old, at_new) = (position(&fields_old), position(&fields_new));
    let mut seen: std::collections::HashSet<(String, String, String)> = Default::default();
    // Per answer that changes (what, from, to): the cases it changes in.
    let mut changed_in: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (case, (records, shape)) in cases.iter().enumerate() {
        let records = *records;
        let rec = shape.as_ref().map(|sh| pair.record(r, sh, who.on(sh)));
        let input = Input::json(rec.as_ref(), None);
        let mut push = |what: String, from: String, to: String, gained: bool| {
            changed_in
                .entry((what.clone(), from.clone(), to.clone()))
                .or_default()
                .push(case);
            // One change per answer and record shape kind; the first record that shows it.
            if seen.insert((records.to_string(), what.clone(), from.clone() + "|" + &to)) {
                out.push(Found {
                    records,
                    shape: shape.clone(),
                    what,
                    from,
                    to,
                    direction: if gained { "gained" } else { "lost" },
                    all_records: false,
                    conditions: Vec::new(),
                });
            }
        };
        for name in &actions {
            let was = a.can(name, r, input).unwrap_or(false);
            let is = b.can(name, r, input).unwrap_or(false);
            if was != is {
                let word = |v: bool| if v { "allowed" } else { "denied" }.to_string();
                push(format!("action {name}"), word(was), word(is), is);
            }
        }
        for mode in Mode::ALL {
            let states = |s: &Session, names: &[&str]| -> Vec<FieldState> {
                s.fields(r, mode, input)
                    .map(|f| f.states().to_vec())
                    .unwrap_or_else(|_| vec![FieldState::Hidden; names.len()])
            };
            let (was_all, is_all) = (states(a, &fields_old), states(b, &fields_new));
            let get = |at: &HashMap<String, usize>, states: &[FieldState], f: &str| {
                at.get(f).map_or(FieldState::Hidden, |&i| states[i])
            };
            for f in &fields {
                let (was, is) = (get(&at_old, &was_all, f), get(&at_new, &is_all, f));
                if was != is {
                    let what = format!("field {f} ({})", mode.as_str());
                    push(what, was.to_string(), is.to_string(), is > was);
                }
            }
        }
    }
    let on_records = cases.len() - 1;
    for f in &mut out {
        let key = (f.what.clone(), f.from.clone(), f.to.clone());
        let Some(changed) = changed_in.get(&key) else {
            continue;
        };
        f.all_records = on_records > 0 && changed.iter().filter(|&&c| c > 0).count() == on_records;
        if f.records != "any" {
            f.conditions = pair.telling_apart(r, a, b, &cases, changed, f.records);
        }
    }
    out
}

/// The names of `a` then those of `b` not in `a`, each once, in order.
fn union<'n>(a: impl Iterator<Item = &'n str>, b: impl Iterator<Item = &'n str>) -> Vec<&'n str> {
    let mut seen = std::collections::HashSet::new();
    a.chain(b).filter(|n| seen.insert(*n)).collect()
}

/// The records where a change happens, said as the values they hold (`status == 'approved'`,
/// `tier in ['gold', 'vip']`, `created_by == user.id`), when that says exactly which of the
/// kind's records they are; none for values compared by order (a number: the policy's own
/// condition says it better) or when the records are no such product of values.
fn described_by_values(
    of_kind: &[(usize, &Shape)],
    yes: &[&(usize, &Shape)],
    paths: &[&str],
) -> Option<Value> {
    let value = |sh: &Shape, p: &str| sh.set.iter().find(|(q, _)| q == p).map(|(_, c)| c.clone());
    let mut parts = Vec::new();
    let mut held: Vec<(&str, Vec<Candidate>)> = Vec::new();
    for &p in paths {
        let mut vals: Vec<Candidate> = Vec::new();
        for (_, sh) in yes {
            let v = value(sh, p)?;
            if matches!(&v, Candidate::Value(Value::Number(_))) {
                return None;
            }
            if !vals.contains(&v) {
                vals.push(v);
            }
        }
        let operand = |c: &Candidate| match c {
            Candidate::Value(v) => serde_json::json!({"value": v}),
            Candidate::UserId => serde_json::json!({"user": "id"}),
            Candidate::UserDepartment => serde_json::json!({"user": "department"}),
        };
        let left = serde_json::json!({"attr": p});
        parts.push(match vals.as_slice() {
            [one] => serde_json::json!({"op": "==", "left": left, "right": operand(one)}),
            many if many.iter().all(|c| matches!(c, Candidate::Value(_))) => {
                let list: Vec<Value> = many
                    .iter()
                    .filter_map(|c| match c {
                        Candidate::Value(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                serde_json::json!({"op": "in", "left": left, "right": {"value": list}})
            }
            _ => return None,
        });
        held.push((p, vals));
    }
    // Exact: the kind's records holding those values are the changed ones, no more.
    let matching = of_kind
        .iter()
        .filter(|(_, sh)| {
            held.iter()
                .all(|(p, vals)| value(sh, p).is_some_and(|v| vals.contains(&v)))
        })
        .count();
    if parts.is_empty() || matching != yes.len() {
        return None;
    }
    Some(match parts.len() {
        1 => parts.remove(0),
        _ => serde_json::json!({ "and": parts }),
    })
}

/// The changes between two directories (kind `directory`): who joined, left, moved to another
/// department, was given or lost a role, or joined or left a group.
pub fn directory_changes(was: &Directory, is: &Directory) -> Vec<StructuralChange> {
    structure::people(was, is)
}

/// Whether a condition tree reads the record attribute `path`.
fn reads_attr(tree: &Value, path: &str) -> bool {
    match tree {
        Value::Object(m) => {
            m.get("attr").and_then(Value::as_str) == Some(path)
                || m.values().any(|v| reads_attr(v, path))
        }
        Value::Array(items) => items.iter().any(|v| reads_attr(v, path)),
        _ => false,
    }
}

impl Pair<'_> {
    /// The conditions of either session on `r` that tell apart the records of `kind` where an
    /// answer changes (`changed`, positions in `cases`) from those where it does not; none when
    /// it changes on all of them.
    fn telling_apart(
        &self,
        r: &str,
        a: &Session,
        b: &Session,
        cases: &[(&'static str, Option<Shape>)],
        changed: &[usize],
        kind: &str,
    ) -> Vec<Value> {
        let of_kind: Vec<(usize, &Shape)> = cases
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| *k == kind)
            .filter_map(|(i, (_, sh))| Some((i, sh.as_ref()?)))
            .collect();
        let (yes, no): (Vec<_>, Vec<_>) = of_kind.iter().partition(|(i, _)| changed.contains(i));
        if yes.is_empty() || no.is_empty() {
            return Vec::new();
        }
        let values = |shapes: &[&(usize, &Shape)], path: &str| -> BTreeSet<String> {
            shapes
                .iter()
                .map(|(_, sh)| {
                    sh.set
                        .iter()
                        .find(|(p, _)| p == path)
                        .map_or_else(String::new, |(_, c)| format!("{c:?}"))
                })
                .collect()
        };
        let paths: BTreeSet<&str> = of_kind
            .iter()
            .flat_map(|(_, sh)| sh.set.iter().map(|(p, _)| p.as_str()))
            .collect();
        let differing: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| values(&yes, p) != values(&no, p))
            .collect();
        if let Some(exact) = described_by_values(&of_kind, &yes, &differing) {
            return vec![exact];
        }
        let telling: &[&str] = if differing.is_empty() {
            &[]
        } else {
            &differing
        };
        let mut sides: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
        for ((side, s), out) in [(&self.old, a), (&self.new, b)].into_iter().zip(&mut sides) {
            let p = &**side.policy;
            let Ok(pos) = p.resource_id(r) else { continue };
            let pos = pos.index() as usize;
            let grants = side.grants_on[pos]
                .iter()
                .chain(&side.every_grant)
                .filter(|g| s.grants.binary_search(g).is_ok())
                .map(|&g| &p.grants[g as usize].when);
            let rules = side.rules_on[pos]
                .iter()
                .chain(&side.every_rule)
                .filter(|ru| s.rules.contains(ru))
                .map(|&ru| &p.rules[ru as usize].when);
            for e in grants.chain(rules).flatten() {
                let tree = e.to_tree(&p.slots);
                // With no attribute told apart, every condition on a compared attribute.
                let reads = if telling.is_empty() {
                    paths.iter().any(|d| reads_attr(&tree, d))
                } else {
                    telling.iter().any(|d| reads_attr(&tree, d))
                };
                if reads && !out.contains(&tree) {
                    out.push(tree);
                }
            }
        }
        // The conditions one side has and the other lacks are what the change brought or
        // took away; when both have the same, each may tell the records apart.
        let [was, is] = sides;
        let mut out: Vec<Value> = was.iter().filter(|c| !is.contains(c)).cloned().collect();
        out.extend(is.iter().filter(|c| !was.contains(c)).cloned());
        if out.is_empty() {
            out = was;
        }
        out
    }
}
