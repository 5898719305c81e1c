//! Permission matrices: one row per role (and, read-only, per person), one column per field and
//! per action of a resource.
//!
//! A row shows what the engine decides for someone holding just that role, with no record in
//! view: a field's cell is the highest state it reaches in any form mode, an action's cell the
//! broadest data scope it is allowed on (empty when it is not). Every cell says where its value
//! comes from: the role's own grants, a template, a role it inherits, a grant on every resource,
//! a condition, and the rules that cap it.
//!
//! Editing a cell changes that cell and nothing else: a field edit sets the field in the role's
//! own grants on the resource; an action edit adds, narrows, widens or removes the action in
//! them. Every edit is checked by asking the engine again: an edit that misses its value, or
//! would change any other answer of any role, is refused with the reason, and nothing changes.

mod edit;
mod model;
mod sheet;
mod verify;

pub use edit::*;
use model::*;
pub use sheet::*;
use verify::*;

use super::subjects;
use super::words::{self, Lang};
use crate::admin::directory::Person;
use crate::core::{
    Explanation, FieldState, GrantTrace, Input, Mode, Policy, Reason, Scope, Session,
};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Scope words from the broadest down, as cells write them. `subordinates` includes `own`;
/// `member` and `parent` reach records beside a role's own line (shared ones, a parent's
/// children) and rank last: a cell shows them when nothing else gives the action, and notes them
/// (`also_scope`) when something does.
pub const SCOPES: [&str; 8] = [
    "all",
    "department_tree",
    "department",
    "subordinates",
    "own",
    "member",
    "parent",
    "org",
];

/// A resource's matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// The resource.
    pub resource: String,
    /// Its field columns.
    pub fields: Vec<Column>,
    /// Its action columns.
    pub actions: Vec<Column>,
    /// Role rows, then person rows.
    pub rows: Vec<Row>,
    /// The language of the sheet's words (labels and notes).
    #[serde(skip)]
    pub lang: Lang,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// The field or action name.
    pub name: String,
    /// The field's label, when the policy gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `role` or `person`.
    pub kind: &'static str,
    /// The role name or person id.
    pub name: String,
    /// The role's label or the person's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// One cell per field column.
    pub fields: Vec<Cell>,
    /// One cell per action column.
    pub actions: Vec<Cell>,
}

/// One cell: its value and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// A state (field columns), or a scope or `""` (action columns).
    pub value: String,
    /// Why it has that value.
    pub notes: Vec<Note>,
    /// Whether the row can change it on its own (role rows whose value the role itself sets).
    pub editable: bool,
}

/// One reason behind a cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// `template`, `role` (inherited), `wildcard` (a grant on every resource), `personal`,
    /// `condition`, `scope`, `also_scope` (shared records or a parent's children, reached on
    /// top of the cell's scope), `rule` (a cap or deny that always applies) or `rule_when` (one
    /// that applies on some records).
    pub kind: &'static str,
    /// What it names: the template, role or rule, or the grant's id.
    pub name: String,
    /// The note in words (English).
    pub text: String,
    /// The note in Chinese, for sheets written in Chinese.
    #[serde(skip)]
    pub zh: String,
}

impl Cell {
    /// The notes in words in `lang`, joined.
    pub fn why(&self, lang: Lang) -> String {
        // A flow speaks through several rules of its own: said once.
        let mut texts: Vec<&str> = Vec::new();
        for n in &self.notes {
            let t = lang.pick(&n.text, &n.zh);
            if !texts.contains(&t) {
                texts.push(t);
            }
        }
        texts.join(lang.pick("; ", "；"))
    }
}

/// A bad cell: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// The sheet (empty for CSV and page edits).
    pub sheet: String,
    /// 1-based row in the sheet (row 1 is the header; 0 for the policy as a whole).
    pub row: usize,
    /// The column's header (`field:<name>`, `action:<name>`, `role`).
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// One cell to change: what a page edit or an imported row asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellEdit {
    /// The role.
    pub role: String,
    /// The column header: `field:<name>` or `action:<name>`.
    pub column: String,
    /// The new value, in any spelling [`parse_state`] or [`parse_scope`] reads.
    pub value: String,
    /// Where it came from, for messages (row 0 for page edits).
    pub row: usize,
}
