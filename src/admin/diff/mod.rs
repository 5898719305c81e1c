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

mod access;
mod causes;
mod flows;
mod structure;
mod summary;

pub use flows::FlowEdit;
pub use summary::{Group, Impact, Line, PersonRef};

use super::directory::Person;
use crate::admin::codes::AdminCode;

use super::directory::Directory;
use super::probe::*;
use super::subjects;
use super::words::{Labels, Lang};
use crate::core::{Checked, FieldState, Input, Mode, Policy, Session, Subject};
use access::*;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
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
    /// For a resource: what changed in its approval flow, part by part.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flow: Vec<FlowEdit>,
    /// For a resource: whether its flow is all that changed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub flow_only: bool,
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
    /// department or in another one), `org` (a partner's organisation's).
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
    /// Whether `conditions` say exactly which records (`only when`); otherwise the change
    /// depends on them, one way or the other (`depending on`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
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

/// How far a diff may go before it gives up, and when it asks.
pub struct Limits<'a> {
    /// The most access changes it reports.
    pub max_changes: usize,
    /// Whether its time is up (the host's clock; checked between people).
    pub expired: &'a dyn Fn() -> bool,
    /// When access is compared (Unix ms): an entry whose dates open or close between the two
    /// policies shows as the access it gives or takes at that time. `None`: dated entries
    /// count in neither.
    pub at: Option<i64>,
}

impl Default for Limits<'_> {
    fn default() -> Self {
        Limits {
            max_changes: 200_000,
            expired: &|| false,
            at: None,
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
    pub fn code(&self) -> AdminCode {
        AdminCode::DiffTooLarge
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

    /// What changed in approval flows, in words, one line per edit (the structural changes'
    /// `flow`, in order).
    pub fn flow_words(&self, lang: Lang) -> Vec<String> {
        let labels = self.labels(lang);
        self.structure
            .iter()
            .flat_map(|c| flows::flow_words(&c.name, &c.flow, &labels))
            .collect()
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

/// Compares two checked policies (documents and their compiled forms) for the people of `directory`
/// (see the module documentation for who else is asked about).
///
/// # Errors
/// `diff_too_large` when the limits are reached.
pub fn diff(
    old: &Checked,
    new: &Checked,
    directory: Option<&Directory>,
    limits: &Limits<'_>,
) -> Result<Diff, DiffError> {
    diff_people(old, new, [directory, directory], limits)
}

/// [`diff`] where the people change too: everyone as `directories[0]` describes them under
/// the old policy, and as `directories[1]` does under the new one (a person moved to another
/// department, given a role, or added or removed). Their changes are structural changes of
/// kind `directory` and causes like any other.
///
/// # Errors
/// `diff_too_large` when the limits are reached.
pub fn diff_people(
    old: &Checked,
    new: &Checked,
    directories: [Option<&Directory>; 2],
    limits: &Limits<'_>,
) -> Result<Diff, DiffError> {
    let (old_doc, old) = (old.doc(), old.policy());
    let (new_doc, new) = (new.doc(), new.policy());
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
        let (a, b) = match limits.at {
            Some(t) => (old.session_at(&rep.was, t), new.session_at(&rep.is, t)),
            None => (old.session(&rep.was), new.session(&rep.is)),
        };
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
                        exact: c.exact,
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
            add(
                format!("role:{r}"),
                Both::same(subjects::role(p, r)),
                &mut out,
            );
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

/// The changes between two directories (kind `directory`): who joined, left, moved to another
/// department, was given or lost a role, or joined or left a group.
pub fn directory_changes(was: &Directory, is: &Directory) -> Vec<StructuralChange> {
    structure::people(was, is)
}
