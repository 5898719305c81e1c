//! Staff transfer: move (or copy) one user's roles, personal grants and denies to another.

use crate::core::{Policy, PolicyErrors};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// What moved, exactly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TransferReport {
    /// The leaver (or the user copied from).
    pub from: String,
    /// The successor.
    pub to: String,
    /// `true` for a copy: `from` keeps everything.
    pub copied: bool,
    /// Roles the successor gained.
    pub roles: Vec<String>,
    /// Personal grants the successor gained.
    pub grants: Vec<Value>,
    /// Personal denies the successor gained.
    pub denies: Vec<Value>,
    /// Roles, grants and denies the successor already had (not duplicated).
    pub already_had: usize,
}

/// Why a transfer was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum TransferError {
    /// A user not in `assignments.users` (code `unknown_user`).
    UnknownUser(String),
    /// `from` and `to` are the same user (code `same_user`).
    SameUser,
    /// The input policy is not valid (code `bad_policy`).
    BadPolicy(PolicyErrors),
}

impl TransferError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            TransferError::UnknownUser(_) => "unknown_user",
            TransferError::SameUser => "same_user",
            TransferError::BadPolicy(_) => "bad_policy",
        }
    }
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::UnknownUser(u) => {
                write!(f, "unknown_user: `{u}` is not in assignments.users")
            }
            TransferError::SameUser => write!(f, "same_user: a user cannot transfer to themselves"),
            TransferError::BadPolicy(e) => write!(f, "bad_policy: the policy is not valid:\n{e}"),
        }
    }
}

impl std::error::Error for TransferError {}

/// Moves `from`'s personal assignment into `to`'s, merging without duplicates; without `copy`
/// the leaver's entry is removed. Both users must be in `assignments.users` unless
/// `new_successor` allows creating `to`.
///
/// # Errors
/// `unknown_user`, `same_user`, or `bad_policy` when the input does not compile.
pub fn transfer(
    doc: &Value,
    from: &str,
    to: &str,
    copy: bool,
    new_successor: bool,
) -> Result<(Value, TransferReport), TransferError> {
    Policy::from_value(doc).map_err(TransferError::BadPolicy)?;
    if from == to {
        return Err(TransferError::SameUser);
    }
    let mut out = doc.clone();
    let users = out
        .pointer_mut("/assignments/users")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| TransferError::UnknownUser(from.to_string()))?;
    let leaver = users
        .get(from)
        .cloned()
        .ok_or_else(|| TransferError::UnknownUser(from.to_string()))?;
    if !users.contains_key(to) && !new_successor {
        return Err(TransferError::UnknownUser(to.to_string()));
    }
    let successor = users
        .entry(to.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    let mut report = TransferReport {
        from: from.into(),
        to: to.into(),
        copied: copy,
        roles: Vec::new(),
        grants: Vec::new(),
        denies: Vec::new(),
        already_had: 0,
    };
    for key in ["roles", "grants", "denies"] {
        let moving = leaver
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if moving.is_empty() {
            continue;
        }
        let list = successor
            .as_object_mut()
            .map(|o| o.entry(key).or_insert_with(|| Value::Array(Vec::new())))
            .and_then(Value::as_array_mut);
        let Some(list) = list else { continue };
        for item in moving {
            if list.contains(&item) {
                report.already_had += 1;
                continue;
            }
            list.push(item.clone());
            match key {
                "roles" => report
                    .roles
                    .push(item.as_str().unwrap_or_default().to_string()),
                "grants" => report.grants.push(item),
                _ => report.denies.push(item),
            }
        }
    }
    if !copy {
        users.remove(from);
    }
    Ok((out, report))
}
