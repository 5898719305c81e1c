//! Staff transfer: move (or copy) a leaver's roles, personal grants, denies and field limits
//! to a successor, all of them or a chosen part.
//!
//! Only what the policy gives the leaver personally (`assignments.users[id]`) can move. What
//! they hold through their department, groups or the identity provider stays with those; the
//! report lists it, so nobody expects it to move.

use super::directory::Directory;
use crate::admin::codes::AdminCode;
use crate::core::{Policy, PolicyErrors, RoleVia};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// The personal lists a transfer moves.
const LISTS: [&str; 4] = ["roles", "grants", "denies", "limits"];

/// What to move: `None` moves the whole list; `Some` the entries named, by position (from 0),
/// by role name, or by id (their JSON path, e.g. `assignments.users.u-carol.denies[0]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Roles.
    pub roles: Option<Vec<String>>,
    /// Personal grants.
    pub grants: Option<Vec<String>>,
    /// Personal denies.
    pub denies: Option<Vec<String>>,
    /// Personal field limits.
    pub limits: Option<Vec<String>>,
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    fn of(&self, list: &str) -> Option<&[String]> {
        match list {
            "roles" => self.roles.as_deref(),
            "grants" => self.grants.as_deref(),
            "denies" => self.denies.as_deref(),
            _ => self.limits.as_deref(),
        }
    }
}

/// A transfer to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The leaver (or the user copied from).
    pub from: String,
    /// The successor.
    pub to: String,
    /// Copy instead of move: the leaver keeps everything.
    pub copy: bool,
    /// With `copy`: the stand-in holds what is copied until then (RFC 3339), leave cover
    /// (代岗); an entry already ending earlier keeps its own end.
    pub until: Option<String>,
    /// Allow a successor the policy does not name yet (one in the directory is always allowed).
    pub new_successor: bool,
    /// What to move.
    pub selection: Selection,
}

/// What moved, exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferReport {
    /// The leaver (or the user copied from).
    pub from: String,
    /// The successor.
    pub to: String,
    /// `true` for a copy: `from` keeps everything.
    pub copied: bool,
    /// For a stand-in: when what was copied ends (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Roles the successor gained.
    pub roles: Vec<String>,
    /// Personal grants the successor gained.
    pub grants: Vec<Value>,
    /// Personal denies the successor gained.
    pub denies: Vec<Value>,
    /// Personal field limits the successor gained.
    pub limits: Vec<Value>,
    /// Entries the successor already had (not duplicated).
    pub already_had: usize,
    /// Entries not chosen, which stay with the leaver.
    pub kept: usize,
    /// Roles the leaver holds through the organisation (department, group, identity
    /// provider), which a transfer cannot move, e.g. `sales (department sales-east)`.
    pub not_moved: Vec<String>,
}

/// Why a transfer was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TransferError {
    /// A user neither in `assignments.users` nor in the directory (code `unknown_user`).
    UnknownUser(String),
    /// `from` and `to` are the same user (code `same_user`).
    SameUser,
    /// A selected entry the leaver does not have (code `unknown_entry`).
    UnknownEntry(String),
    /// An `until` that is no RFC 3339 time, or one on a move (code `bad_window`).
    BadWindow(String),
    /// The input policy is not valid (code `bad_policy`).
    BadPolicy(PolicyErrors),
}

impl TransferError {
    /// The stable code.
    pub fn code(&self) -> AdminCode {
        match self {
            TransferError::UnknownUser(_) => AdminCode::UnknownUser,
            TransferError::SameUser => AdminCode::SameUser,
            TransferError::UnknownEntry(_) => AdminCode::UnknownEntry,
            TransferError::BadWindow(_) => AdminCode::BadWindow,
            TransferError::BadPolicy(_) => AdminCode::BadPolicy,
        }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::UnknownUser(u) => write!(
                f,
                "unknown_user: `{u}` is neither in assignments.users nor in the directory"
            ),
            TransferError::SameUser => write!(f, "same_user: a user cannot transfer to themselves"),
            TransferError::UnknownEntry(e) => {
                write!(f, "unknown_entry: the leaver has no {e} to move")
            }
            TransferError::BadWindow(why) => write!(f, "bad_window: {why}"),
            TransferError::BadPolicy(e) => write!(f, "bad_policy: the policy is not valid:\n{e}"),
        }
    }
}

impl std::error::Error for TransferError {}

/// Moves the chosen part of `from`'s personal assignment into `to`'s, merging without
/// duplicates. Without `copy` it leaves the leaver; a leaver left with nothing is removed.
///
/// # Errors
/// `unknown_user`, `same_user`, `unknown_entry`, or `bad_policy` when the input does not
/// compile.
pub fn transfer(
    doc: &Value,
    t: &Transfer,
    directory: Option<&Directory>,
) -> Result<(Value, TransferReport), TransferError> {
    let policy = Arc::new(Policy::from_value(doc).map_err(TransferError::BadPolicy)?);
    let (from, to) = (t.from.as_str(), t.to.as_str());
    if from == to {
        return Err(TransferError::SameUser);
    }
    let until = match &t.until {
        None => None,
        Some(_) if !t.copy => {
            let why = "only a copy ends on a date (a stand-in): add --copy";
            return Err(TransferError::BadWindow(why.into()));
        }
        Some(text) => match crate::core::time::parse_rfc3339(text) {
            Some(ms) => Some((text.as_str(), ms)),
            None => {
                let why = format!("`{text}` is not an RFC 3339 time with an offset");
                return Err(TransferError::BadWindow(why));
            }
        },
    };
    let in_directory = |u: &str| directory.is_some_and(|d| d.get(u).is_some());
    let mut out = doc.clone();
    let root = out
        .as_object_mut()
        .ok_or_else(|| TransferError::UnknownUser(from.into()))?;
    let users = root
        .entry("assignments")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .and_then(|a| {
            a.entry("users")
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
        })
        .ok_or_else(|| TransferError::UnknownUser(from.into()))?;
    let leaver = match users.get(from) {
        Some(l) => l.clone(),
        None if in_directory(from) => Value::Object(Map::new()),
        None => return Err(TransferError::UnknownUser(from.into())),
    };
    if !users.contains_key(to) && !t.new_successor && !in_directory(to) {
        return Err(TransferError::UnknownUser(to.into()));
    }
    let mut report = TransferReport {
        from: from.into(),
        to: to.into(),
        copied: t.copy,
        until: t.until.clone(),
        roles: Vec::new(),
        grants: Vec::new(),
        denies: Vec::new(),
        limits: Vec::new(),
        already_had: 0,
        kept: 0,
        not_moved: Vec::new(),
    };
    let mut left = leaver.as_object().cloned().unwrap_or_default();
    let mut gained: Map<String, Value> = Map::new();
    for list in LISTS {
        let items = leaver
            .get(list)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let chosen = chosen(from, list, &items, t.selection.of(list))?;
        let (moving, staying): (Vec<_>, Vec<_>) = items
            .into_iter()
            .enumerate()
            .partition(|(i, _)| chosen.contains(i));
        report.kept += staying.len();
        if !t.copy {
            if staying.is_empty() {
                left.remove(list);
            } else {
                let rest = staying.into_iter().map(|(_, v)| v).collect();
                left.insert(list.into(), Value::Array(rest));
            }
        }
        if !moving.is_empty() {
            gained.insert(
                list.into(),
                Value::Array(moving.into_iter().map(|(_, v)| v).collect()),
            );
        }
    }
    let successor = users
        .entry(to.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    for (list, moving) in gained {
        let Some(target) = successor
            .as_object_mut()
            .map(|o| {
                o.entry(list.clone())
                    .or_insert_with(|| Value::Array(Vec::new()))
            })
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for item in moving.as_array().cloned().unwrap_or_default() {
            let item = match until {
                Some(end) => ending(item, end),
                None => item,
            };
            if target.contains(&item) {
                report.already_had += 1;
                continue;
            }
            target.push(item.clone());
            match list.as_str() {
                "roles" => report
                    .roles
                    .push(crate::admin::entries::entry_text(&item).unwrap_or_default()),
                "grants" => report.grants.push(item),
                "denies" => report.denies.push(item),
                _ => report.limits.push(item),
            }
        }
    }
    if !t.copy {
        if left.keys().all(|k| k.starts_with("x-")) {
            users.remove(from);
        } else {
            users.insert(from.into(), Value::Object(left));
        }
    }
    if let Some(person) = directory.and_then(|d| d.get(from)) {
        // Every role they hold some of the time, dated ones too.
        for s in policy.role_sources(&person.subject(), crate::core::At::Ever) {
            let how = match &s.via {
                RoleVia::User | RoleVia::Inherited(_) => continue,
                RoleVia::Subject => "identity provider".to_string(),
                RoleVia::Department(d) => format!("department {d}"),
                RoleVia::Group(g) => format!("group {g}"),
            };
            let text = format!("{} ({how})", s.role);
            if !report.not_moved.contains(&text) {
                report.not_moved.push(text);
            }
        }
    }
    Ok((out, report))
}

/// `entry` held until `end` (`(text, ms)`): a role's name becomes `{"role", "until"}`; an entry
/// already ending earlier keeps its own end.
fn ending(entry: Value, (text, ms): (&str, i64)) -> Value {
    let mut m = match entry {
        Value::String(role) => {
            let mut m = Map::new();
            m.insert("role".into(), Value::String(role));
            m
        }
        Value::Object(m) => m,
        other => return other,
    };
    let earlier = m
        .get("until")
        .and_then(Value::as_str)
        .and_then(crate::core::time::parse_rfc3339)
        .is_some_and(|own| own <= ms);
    if !earlier {
        m.insert("until".into(), Value::String(text.into()));
    }
    Value::Object(m)
}

/// The positions of the chosen entries of one list (all of them without a selection).
fn chosen(
    from: &str,
    list: &str,
    items: &[Value],
    selection: Option<&[String]>,
) -> Result<Vec<usize>, TransferError> {
    let Some(names) = selection else {
        return Ok((0..items.len()).collect());
    };
    let mut out = Vec::new();
    for n in names {
        let n = n.trim();
        let by_index = n.parse::<usize>().ok().filter(|&i| i < items.len());
        let by_name = items.iter().position(|v| v.as_str() == Some(n));
        let by_id = (0..items.len()).find(|i| {
            let users = format!("assignments.users.{from}.{list}[{i}]");
            let quoted = format!(
                "assignments.users[{}].{list}[{i}]",
                Value::String(from.into())
            );
            n == users || n == quoted
        });
        match by_name.or(by_index).or(by_id) {
            Some(i) if !out.contains(&i) => out.push(i),
            Some(_) => {}
            None => {
                let what = match list {
                    "roles" => "role",
                    "grants" => "grant",
                    "denies" => "deny",
                    _ => "limit",
                };
                return Err(TransferError::UnknownEntry(format!("{what} `{n}`")));
            }
        }
    }
    Ok(out)
}
