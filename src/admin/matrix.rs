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
pub const SCOPES: [&str; 7] = [
    "all",
    "department_tree",
    "department",
    "subordinates",
    "own",
    "member",
    "parent",
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
    /// The note in words.
    pub text: String,
}

impl Cell {
    /// The notes in words, joined.
    pub fn why(&self) -> String {
        let texts: Vec<&str> = self.notes.iter().map(|n| n.text.as_str()).collect();
        texts.join("; ")
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

impl Matrix {
    /// The matrix of `resource`: a row per role (every role, or those named), then a row per
    /// person given.
    ///
    /// # Errors
    /// A message for an unknown resource or role.
    pub fn build(
        doc: &Value,
        policy: &Arc<Policy>,
        resource: &str,
        roles: Option<&[String]>,
        people: &[Person],
    ) -> Result<Matrix, String> {
        Matrix::build_in(doc, policy, resource, roles, people, Lang::En)
    }

    /// [`Matrix::build`] with the policy's labels in `lang`.
    ///
    /// # Errors
    /// A message for an unknown resource or role.
    pub fn build_in(
        doc: &Value,
        policy: &Arc<Policy>,
        resource: &str,
        roles: Option<&[String]>,
        people: &[Person],
        lang: Lang,
    ) -> Result<Matrix, String> {
        let fields = policy
            .field_names(resource)
            .ok_or_else(|| format!("no resource `{resource}`"))?;
        let actions = policy.action_names(resource).unwrap_or_default();
        let all: Vec<String> = policy.role_names().map(String::from).collect();
        let wanted = roles.unwrap_or(&all);
        if let Some(r) = wanted.iter().find(|r| !all.contains(r)) {
            return Err(format!("no role `{r}`"));
        }
        let fdoc = doc.pointer(&format!("/resources/{}/fields", key(resource)));
        let label = |f: &str| words::label(fdoc.and_then(|d| d.get(f)?.get("label")), lang);
        let mut rows = Vec::new();
        for role in wanted {
            let s = policy.session(&subjects::role(role));
            let (f, a) = cells(doc, &s, resource, Some(role))?;
            rows.push(Row {
                kind: "role",
                name: role.clone(),
                label: words::label(doc.pointer(&format!("/roles/{}/label", key(role))), lang),
                fields: f,
                actions: a,
            });
        }
        for person in people {
            let s = policy.session(&person.subject());
            let (f, a) = cells(doc, &s, resource, None)?;
            rows.push(Row {
                kind: "person",
                name: person.id.clone(),
                label: person.name.clone(),
                fields: f,
                actions: a,
            });
        }
        Ok(Matrix {
            resource: resource.to_string(),
            fields: fields
                .iter()
                .map(|f| Column {
                    name: f.to_string(),
                    label: label(f),
                })
                .collect(),
            actions: actions
                .iter()
                .map(|a| Column {
                    name: a.to_string(),
                    label: None,
                })
                .collect(),
            rows,
        })
    }

    /// The column headers: `role`, `field:<name>`…, `action:<name>`….
    pub fn header(&self) -> Vec<String> {
        let mut h = vec!["role".to_string()];
        h.extend(self.fields.iter().map(|f| format!("field:{}", f.name)));
        h.extend(self.actions.iter().map(|a| format!("action:{}", a.name)));
        h
    }

    /// The matrix as a sheet: the header, a `#label` row, each role's row followed by a `#why`
    /// row saying where its values come from, and each person's row as `#person:<id>` (rows
    /// starting with `#` are for reading; import skips them).
    pub fn table(&self) -> Vec<Vec<String>> {
        let mut t = vec![self.header()];
        let mut labels = vec!["#label".to_string()];
        labels.extend(
            self.fields
                .iter()
                .map(|f| f.label.clone().unwrap_or_else(|| f.name.clone())),
        );
        labels.extend(self.actions.iter().map(|a| a.name.clone()));
        t.push(labels);
        for r in &self.rows {
            let first = match r.kind {
                "role" => r.name.clone(),
                _ => format!("#person:{}", r.name),
            };
            let cells = r.fields.iter().chain(&r.actions);
            t.push(
                std::iter::once(first)
                    .chain(cells.clone().map(|c| c.value.clone()))
                    .collect(),
            );
            if r.kind == "role" && cells.clone().any(|c| !c.notes.is_empty()) {
                t.push(
                    std::iter::once("#why".to_string())
                        .chain(cells.map(Cell::why))
                        .collect(),
                );
            }
        }
        t
    }

    fn cell(&self, role: &str, column: &str) -> Option<&Cell> {
        let row = self
            .rows
            .iter()
            .find(|r| r.kind == "role" && r.name == role)?;
        match column.split_once(':')? {
            ("field", f) => row
                .fields
                .get(self.fields.iter().position(|c| c.name == f)?),
            ("action", a) => row
                .actions
                .get(self.actions.iter().position(|c| c.name == a)?),
            _ => None,
        }
    }
}

/// A field state in any spelling the page, the export or a person might write: the policy's
/// words (`read-only` too, any case) and the Chinese labels.
pub fn parse_state(text: &str) -> Option<FieldState> {
    let t = text.trim().to_lowercase().replace(['-', '_', ' '], "");
    Some(match t.as_str() {
        "hidden" | "hide" | "隐藏" | "不可见" => FieldState::Hidden,
        "masked" | "mask" | "脱敏" | "掩码" => FieldState::Masked,
        "readonly" | "read" | "view" | "只读" | "可见" => FieldState::Readonly,
        "editable" | "edit" | "write" | "可编辑" | "编辑" => FieldState::Editable,
        _ => return None,
    })
}

/// An action cell in any spelling: a scope (`all`, `own`, `department`, `department_tree`,
/// `subordinates`, `member`, `parent`, any case, spaces or dashes for `_`, the Chinese labels),
/// or not allowed (empty, `no`, `none`, `-`, `否`, `无`). `Some(None)` is "not allowed".
pub fn parse_scope(text: &str) -> Option<Option<&'static str>> {
    let t = text.trim().to_lowercase().replace(['-', ' '], "_");
    Some(Some(match t.as_str() {
        "" | "_" | "no" | "none" | "not_allowed" | "否" | "无" | "不允许" => {
            return Some(None)
        }
        "all" | "yes" | "全部" | "所有" | "是" => "all",
        "department_tree"
        | "departmenttree"
        | "dept_tree"
        | "本部门及下级部门"
        | "本部门及下级"
        | "部门及下级" => "department_tree",
        "department" | "dept" | "本部门" | "部门" => "department",
        "own" | "mine" | "本人" | "自己" => "own",
        "subordinates" | "reports" | "本人及下属" | "下属" | "本人及下级" => {
            "subordinates"
        }
        "member" | "members" | "shared" | "协作" | "协作的记录" | "共享" => "member",
        "parent" | "随上级记录" | "随上级" | "随父记录" => "parent",
        _ => return None,
    }))
}

/// The cells of one row: what `session` sees on `resource` with no record in view, with notes;
/// `role` is the row's role (its own grants are "set here"), `None` for a person.
fn cells(
    doc: &Value,
    s: &Session,
    resource: &str,
    role: Option<&str>,
) -> Result<(Vec<Cell>, Vec<Cell>), String> {
    let p = s.policy();
    let err = |e: crate::core::RequestError| e.to_string();
    let fields = p.field_names(resource).unwrap_or_default();
    let actions = p.action_names(resource).unwrap_or_default();
    // Per mode: the states, how each came about, and the rules that may cap them.
    let mut modes = Vec::new();
    for mode in Mode::ALL {
        let Some(action) = mode_action(&actions, mode) else {
            continue;
        };
        let states = s.fields(resource, mode, Input::NONE).map_err(err)?;
        let ex = s.explain(action, resource, Input::NONE).map_err(err)?;
        let caps = s.rule_caps(resource, mode).map_err(err)?;
        modes.push((states.states().to_vec(), ex, caps));
    }
    let mut field_cells = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        // The mode where the field reaches highest (the later mode on a tie: edit over view).
        let best = (0..modes.len()).rev().max_by_key(|&m| modes[m].0[i]);
        let Some(best) = best else {
            field_cells.push(Cell {
                value: FieldState::Hidden.as_str().into(),
                notes: Vec::new(),
                editable: role.is_some(),
            });
            continue;
        };
        let (states, ex, caps) = &modes[best];
        let value = states[i];
        let mut notes = Vec::new();
        let trace = &ex.fields[i];
        let grant = trace
            .set_by
            .as_ref()
            .and_then(|id| ex.grants.iter().find(|g| &g.id == id));
        if let Some(g) = grant.filter(|_| value > FieldState::Hidden) {
            notes.extend(grant_notes(doc, g, role));
        }
        for c in caps {
            let cap = c.caps[i];
            if cap < FieldState::Editable && (cap < trace.granted || !c.always) {
                notes.push(rule_note(
                    doc,
                    &c.id,
                    c.always,
                    &format!("{f} at most {cap}"),
                ));
            }
        }
        let own = grant.is_none_or(|g| is_own(g, role));
        field_cells.push(Cell {
            value: value.as_str().into(),
            notes,
            editable: role.is_some() && own,
        });
    }
    let mut action_cells = Vec::new();
    for a in &actions {
        let ex = s.explain(a, resource, Input::NONE).map_err(err)?;
        action_cells.push(action_cell(doc, &ex, role));
    }
    Ok((field_cells, action_cells))
}

/// The action's cell from its explanation with no record: the broadest scope of the grants
/// that may apply, or empty when it is not allowed.
fn action_cell(doc: &Value, ex: &Explanation, role: Option<&str>) -> Cell {
    let mut notes = Vec::new();
    let giving: Vec<&GrantTrace> = ex
        .grants
        .iter()
        .filter(|g| g.applies && g.lists_action)
        .collect();
    for r in &ex.rules {
        if r.lists_action && (r.applies || r.conditional) {
            notes.push(rule_note(
                doc,
                &r.id,
                r.applies,
                &format!("denies {}", ex.action),
            ));
        }
    }
    if !ex.allow {
        if ex.reason == Reason::NoGrant {
            notes.clear();
        }
        let own = giving.iter().all(|g| is_own(g, role));
        return Cell {
            value: String::new(),
            notes,
            editable: role.is_some() && own,
        };
    }
    let rank = |g: &&GrantTrace| SCOPES.iter().position(|s| *s == g.scope.as_str());
    let broadest = giving.iter().filter_map(rank).min().unwrap_or(0);
    let top: Vec<&&GrantTrace> = giving
        .iter()
        .filter(|g| rank(g) == Some(broadest))
        .collect();
    // Say where it comes from through an unconditional grant if there is one.
    let shown = top
        .iter()
        .find(|g| !g.conditional)
        .or_else(|| top.first())
        .copied();
    if let Some(g) = shown {
        notes.splice(0..0, grant_notes(doc, g, role));
    }
    // Shared records and a parent's children come on top of the scope the cell shows.
    for s in SCOPES
        .iter()
        .skip(broadest + 1)
        .filter(|s| matches!(**s, "member" | "parent"))
    {
        if giving.iter().any(|g| g.scope.as_str() == *s) {
            notes.push(Note {
                kind: "also_scope",
                name: (*s).to_string(),
                text: format!("also {s} records"),
            });
        }
    }
    Cell {
        value: SCOPES[broadest].to_string(),
        notes,
        editable: role.is_some() && shown.is_none_or(|g| is_own(g, role)),
    }
}

/// Whether a grant is the row's own: written in the role itself, for that one resource.
fn is_own(g: &GrantTrace, role: Option<&str>) -> bool {
    g.source == "role" && Some(g.name.as_str()) == role && !g.wildcard
}

/// Where a grant comes from, in notes.
fn grant_notes(doc: &Value, g: &GrantTrace, role: Option<&str>) -> Vec<Note> {
    let mut notes = Vec::new();
    let note = |kind, name: &str, text: String| Note {
        kind,
        name: name.to_string(),
        text,
    };
    match g.source {
        "template" => notes.push(note(
            "template",
            &g.name,
            format!("from template {}", g.name),
        )),
        "role" if Some(g.name.as_str()) != role => {
            notes.push(note("role", &g.name, format!("from role {}", g.name)))
        }
        "user" => notes.push(note("personal", &g.id, format!("personal grant {}", g.id))),
        _ => {}
    }
    if g.wildcard {
        notes.push(note(
            "wildcard",
            &g.id,
            "a grant on every resource (*)".into(),
        ));
    }
    if g.scope != Scope::All {
        let s = g.scope.as_str();
        notes.push(note("scope", s, format!("{} records", s.replace('_', " "))));
    }
    if g.conditional {
        let when = grant_doc(doc, g)
            .and_then(|d| d.get("when")?.as_str())
            .unwrap_or("a condition");
        notes.push(note("condition", when, format!("when {when}")));
    }
    notes
}

/// A rule that caps or denies, in words: its description when it has one.
fn rule_note(doc: &Value, id: &str, always: bool, effect: &str) -> Note {
    let rule = doc.get("rules").and_then(Value::as_array).and_then(|rs| {
        rs.iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    });
    let when = rule
        .and_then(|r| r.get("when")?.as_str())
        .map(|w| format!(" when {w}"))
        .unwrap_or_default();
    let described = rule
        .and_then(|r| r.get("description")?.as_str())
        .map(|d| format!(": {d}"))
        .unwrap_or_default();
    Note {
        kind: if always { "rule" } else { "rule_when" },
        name: id.to_string(),
        text: format!("rule {id} {effect}{when}{described}"),
    }
}

/// A grant's JSON in the document.
fn grant_doc<'d>(doc: &'d Value, g: &GrantTrace) -> Option<&'d Value> {
    let i = g.index as usize;
    match g.source {
        "role" => doc.get("roles")?.get(&g.name)?.get("grants")?.get(i),
        "template" => doc.get("templates")?.get(&g.name)?.get(i),
        _ => doc
            .get("assignments")?
            .get("users")?
            .get(&g.name)?
            .get("grants")?
            .get(i),
    }
}

/// The action whose explanation shows `mode`'s field states.
fn mode_action<'a>(actions: &[&'a str], mode: Mode) -> Option<&'a str> {
    match mode.action() {
        Some(a) => actions.iter().find(|x| **x == a).copied(),
        None => actions
            .iter()
            .find(|x| **x == "view")
            .or_else(|| actions.iter().find(|x| Mode::of_action(x) == Mode::View))
            .copied(),
    }
}

/// The edits a sheet asks for: every cell of a role row whose value differs from the matrix
/// now (unchanged cells, comments and `#` rows are skipped).
///
/// # Errors
/// A bad header, an unknown role, or a cell that reads as no state or scope.
pub fn edits_from_table(
    now: &Matrix,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<Vec<CellEdit>, Vec<CellError>> {
    let (edits, errors) = cells_of(now, table, sheet)?;
    if errors.is_empty() {
        Ok(edits)
    } else {
        Err(errors)
    }
}

/// The edits a sheet asks for and its cells that read as nothing (an unknown role, a value
/// that is no state or scope).
///
/// # Errors
/// A header that is not this matrix's: nothing of the sheet can be read then.
fn cells_of(
    now: &Matrix,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<(Vec<CellEdit>, Vec<CellError>), Vec<CellError>> {
    let err = |row, column: &str, message: String| CellError {
        sheet: sheet.to_string(),
        row,
        column: column.to_string(),
        message,
    };
    let want = now.header();
    let Some(head) = table.first() else {
        return Err(vec![err(1, "", "the sheet is empty".into())]);
    };
    let mut errors = Vec::new();
    for (i, w) in want.iter().enumerate() {
        if head.get(i).map(|h| h.trim()) != Some(w.as_str()) {
            let found = head.get(i).map_or("", |h| h.as_str());
            errors.push(err(
                1,
                w,
                format!("expected column {} to be `{w}`, found `{found}`", i + 1),
            ));
        }
    }
    if let Some(extra) = head.get(want.len()).filter(|h| !h.trim().is_empty()) {
        errors.push(err(1, extra, "unknown column".into()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut edits = Vec::new();
    for (n, row) in table.iter().enumerate().skip(1) {
        let line = n + 1;
        let first = row.first().map_or("", |c| c.trim());
        if first.starts_with('#') || row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if !now.rows.iter().any(|r| r.kind == "role" && r.name == first) {
            errors.push(err(line, "role", format!("no role `{first}`")));
            continue;
        }
        for (i, column) in want.iter().enumerate().skip(1) {
            let text = row.get(i).map_or("", |c| c.as_str());
            let Some(cell) = now.cell(first, column) else {
                continue;
            };
            let value = if column.starts_with("field:") {
                match parse_state(text) {
                    Some(s) => s.as_str().to_string(),
                    None => {
                        let msg = format!(
                            "`{}` is not hidden, masked, read-only or editable",
                            text.trim()
                        );
                        errors.push(err(line, column, msg));
                        continue;
                    }
                }
            } else {
                match parse_scope(text) {
                    Some(s) => s.unwrap_or("").to_string(),
                    None => {
                        let msg = format!(
                            "`{}` is not empty, no, all, department_tree, department, \
                             subordinates, parent, member or own",
                            text.trim()
                        );
                        errors.push(err(line, column, msg));
                        continue;
                    }
                }
            };
            if value != cell.value {
                edits.push(CellEdit {
                    role: first.to_string(),
                    column: column.clone(),
                    value,
                    row: line,
                });
            }
        }
    }
    Ok((edits, errors))
}

/// [`import`] that makes what it can: the edits that can be made on their own are made; the
/// cells that cannot (unreadable, or an edit that would change something else) are answered
/// with why. The admin confirms the whole result once.
///
/// # Errors
/// A header that is not this matrix's, or a sheet none of whose edits can be made (then every
/// reason).
pub fn import_partly(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<(Value, Vec<CellError>), Vec<CellError>> {
    let now = Matrix::build(doc, policy, resource, None, &[])
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    let (mut edits, mut refused) = cells_of(&now, table, sheet)?;
    // Each round drops the edits that could not be made and tries the rest again; an edit
    // refused alone is refused, so this ends.
    loop {
        if edits.is_empty() {
            return if refused.is_empty() {
                Ok((doc.clone(), refused))
            } else {
                Err(refused)
            };
        }
        match apply_to(doc, policy, &now, &edits, sheet) {
            Ok(out) => return Ok((out, refused)),
            Err(errors) => {
                let of_edit = |e: &CellEdit| {
                    errors
                        .iter()
                        .any(|x| x.row == e.row && x.column == e.column)
                };
                let before = edits.len();
                edits.retain(|e| !of_edit(e));
                if edits.len() == before {
                    // Refusals that name no edit: the sheet as a whole cannot be made.
                    refused.extend(errors);
                    return Err(refused);
                }
                refused.extend(errors);
            }
        }
    }
}

/// Applies an edited sheet to the document: [`edits_from_table`], then [`apply`].
///
/// # Errors
/// Every bad cell, and every edit that cannot be made on its own.
pub fn import(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    table: &[Vec<String>],
    sheet: &str,
) -> Result<Value, Vec<CellError>> {
    let now = Matrix::build(doc, policy, resource, None, &[])
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    let edits = edits_from_table(&now, table, sheet)?;
    apply_to(doc, policy, &now, &edits, sheet)
}

/// Makes cell edits (a page's, or an imported sheet's) on the document. Each changes its cell
/// and nothing else: every other answer of every role (field states in each mode, allowed
/// actions) is checked to stay as it was, except where an edited role passes it on through
/// `inherits`, and that an action cell of `view`, `create` or `edit` also governs the field
/// states of its form mode.
///
/// # Errors
/// Every edit that cannot be made on its own, with the reason; nothing changes then.
pub fn apply(
    doc: &Value,
    policy: &Arc<Policy>,
    resource: &str,
    edits: &[CellEdit],
) -> Result<Value, Vec<CellError>> {
    let now = Matrix::build(doc, policy, resource, None, &[])
        .map_err(|m| vec![cell_error("", 0, "", m)])?;
    apply_to(doc, policy, &now, edits, "")
}

fn cell_error(sheet: &str, row: usize, column: &str, message: String) -> CellError {
    CellError {
        sheet: sheet.to_string(),
        row,
        column: column.to_string(),
        message,
    }
}

fn apply_to(
    doc: &Value,
    policy: &Arc<Policy>,
    now: &Matrix,
    edits: &[CellEdit],
    sheet: &str,
) -> Result<Value, Vec<CellError>> {
    let resource = now.resource.as_str();
    let err = |e: &CellEdit, message: String| cell_error(sheet, e.row, &e.column, message);
    if edits.is_empty() {
        return Ok(doc.clone());
    }
    let res = policy.resource_id(resource).ok();
    let (has_owner, has_dept) = res.map_or((false, false), |_| {
        let r = doc.pointer(&format!("/resources/{}", key(resource)));
        (
            r.and_then(|r| r.get("owner")).is_some(),
            r.and_then(|r| r.get("department")).is_some(),
        )
    });
    let mut out = doc.clone();
    let mut errors = Vec::new();
    let actions = policy.action_names(resource).unwrap_or_default();
    let fields = policy.field_names(resource).unwrap_or_default();
    // Actions first: a field edit may need the grant an action edit adds.
    let mut ordered: Vec<&CellEdit> = edits
        .iter()
        .filter(|e| e.column.starts_with("action:"))
        .collect();
    ordered.extend(edits.iter().filter(|e| e.column.starts_with("field:")));
    for e in &ordered {
        let Some(cell) = now.cell(&e.role, &e.column) else {
            errors.push(err(
                e,
                format!("no role `{}` or no column `{}`", e.role, e.column),
            ));
            continue;
        };
        let done = match e.column.split_once(':') {
            Some(("action", a)) => match parse_scope(&e.value) {
                Some(Some(s @ ("own" | "subordinates"))) if !has_owner => Err(format!(
                    "`{s}` needs resource `{resource}` to declare `owner`"
                )),
                Some(Some("member")) if policy.members_attribute(resource).is_none() => Err(
                    format!("`member` needs resource `{resource}` to declare `members`"),
                ),
                Some(Some("parent")) if policy.parent_of(resource).is_none() => Err(format!(
                    "`parent` needs resource `{resource}` to declare `parent`"
                )),
                Some(Some(s @ ("department" | "department_tree"))) if !has_dept => Err(format!(
                    "`{s}` needs resource `{resource}` to declare `department`"
                )),
                Some(to) => edit_action(&mut out, &e.role, resource, &actions, &fields, a, to),
                None => Err(format!("`{}` is not a scope", e.value)),
            },
            Some(("field", f)) => match parse_state(&e.value) {
                Some(to) => {
                    let from = parse_state(&cell.value).unwrap_or(FieldState::Hidden);
                    edit_field(&mut out, &e.role, resource, f, from, to)
                }
                None => Err(format!("`{}` is not a state", e.value)),
            },
            _ => Err(format!("no column `{}`", e.column)),
        };
        if let Err(m) = done {
            errors.push(err(e, m));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let after = match Policy::from_value(&out) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            return Err(e
                .errors()
                .iter()
                .map(|p| cell_error(sheet, 0, &p.path, p.to_string()))
                .collect())
        }
    };
    let then = Matrix::build(&out, &after, resource, None, &[])
        .map_err(|m| vec![cell_error(sheet, 0, "", m)])?;
    // Each edited cell has its value now ...
    for e in edits {
        let Some(cell) = then.cell(&e.role, &e.column) else {
            continue;
        };
        let want = if e.column.starts_with("field:") {
            parse_state(&e.value).map(|s| s.as_str().to_string())
        } else {
            parse_scope(&e.value).map(|s| s.unwrap_or("").to_string())
        };
        if want.as_deref() != Some(cell.value.as_str()) {
            errors.push(err(e, missed(cell, &e.value)));
        }
    }
    // ... and nothing else moved.
    for (role, answer, was, is) in changed_answers(policy, &after, resource) {
        if allowed_change(&after, edits, &role, &answer) {
            continue;
        }
        let cause = edits
            .iter()
            .find(|e| inherits_or_is(&after, &role, &e.role))
            .or(edits.first());
        if let Some(e) = cause {
            errors.push(err(
                e,
                format!("this would also change {role}'s {answer} from {was} to {is}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.dedup();
        Err(errors)
    }
}

/// Why an edited cell did not take its value: what sets it now.
fn missed(cell: &Cell, wanted: &str) -> String {
    let by = |kind: &str| cell.notes.iter().find(|n| n.kind == kind);
    let reason = if let Some(n) = by("template") {
        format!("template {} sets it; edit the template", n.name)
    } else if let Some(n) = by("role") {
        format!(
            "it comes from role {}, which this role inherits; edit that role",
            n.name
        )
    } else if by("wildcard").is_some() {
        "a grant of this role on every resource (*) sets it; edit that grant in the role".into()
    } else if let Some(n) = by("rule").or_else(|| by("rule_when")) {
        format!("rule {} caps it", n.name)
    } else if let Some(n) = by("personal") {
        format!("the personal grant {} sets it", n.name)
    } else {
        "no grant of the role can give it".into()
    };
    format!(
        "cannot be set to `{}` on its own (it would stay `{}`): {reason}",
        wanted.trim(),
        if cell.value.is_empty() {
            "not allowed"
        } else {
            &cell.value
        }
    )
}

/// Every answer a matrix compares, per role: each field's state in each form mode, and each
/// action's cell.
fn answers(policy: &Arc<Policy>, resource: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let fields = policy.field_names(resource).unwrap_or_default();
    let actions = policy.action_names(resource).unwrap_or_default();
    for role in policy.role_names() {
        let s = policy.session(&subjects::role(role));
        for mode in Mode::ALL {
            if let Ok(states) = s.fields(resource, mode, Input::NONE) {
                for (f, st) in fields.iter().zip(states.states()) {
                    let k = format!("field {f} ({})", mode.as_str());
                    out.insert((role.to_string(), k), st.as_str().to_string());
                }
            }
        }
        for a in &actions {
            if let Ok(ex) = s.explain(a, resource, Input::NONE) {
                let c = action_cell(&Value::Null, &ex, Some(role));
                let v = if c.value.is_empty() {
                    "not allowed".into()
                } else {
                    c.value
                };
                out.insert((role.to_string(), format!("action {a}")), v);
            }
        }
    }
    out
}

/// `(role, answer, was, is)` for every answer that differs; roles only one side has are
/// left out (a matrix edit never adds or removes one).
fn changed_answers(
    before: &Arc<Policy>,
    after: &Arc<Policy>,
    resource: &str,
) -> Vec<(String, String, String, String)> {
    let (a, b) = (answers(before, resource), answers(after, resource));
    a.into_iter()
        .filter_map(|(k, was)| {
            let is = b.get(&k)?;
            (is != &was).then(|| (k.0, k.1, was, is.clone()))
        })
        .collect()
}

/// Whether `role`'s `answer` may change under these edits: it is an edited cell of the role
/// or of a role it inherits, or a field state in the form mode of an edited action.
fn allowed_change(after: &Policy, edits: &[CellEdit], role: &str, answer: &str) -> bool {
    edits.iter().any(|e| {
        if !inherits_or_is(after, role, &e.role) {
            return false;
        }
        match (e.column.split_once(':'), answer.split_once(' ')) {
            (Some(("field", f)), Some(("field", rest))) => {
                rest.split_once(" (").is_some_and(|(g, _)| g == f)
            }
            (Some(("action", a)), Some(("action", b))) => a == b,
            (Some(("action", a)), Some(("field", rest))) => {
                let mode = rest.rsplit_once(" (").map(|(_, m)| m.trim_end_matches(')'));
                match a {
                    // A view grant caps every mode at readonly.
                    "view" => true,
                    "create" | "edit" => mode == Some(a),
                    _ => false,
                }
            }
            _ => false,
        }
    })
}

/// Whether `role` is `edited` or inherits it.
fn inherits_or_is(p: &Policy, role: &str, edited: &str) -> bool {
    role == edited
        || p.role_sources(&subjects::role(role))
            .iter()
            .any(|s| s.role == edited)
}

/// The role's own grants on `resource` (not on `*`), by position.
fn own_grants<'d>(
    doc: &'d mut Value,
    role: &str,
    resource: &str,
) -> Vec<(usize, &'d mut Map<String, Value>)> {
    doc.pointer_mut(&format!("/roles/{}/grants", key(role)))
        .and_then(Value::as_array_mut)
        .map(|gs| {
            gs.iter_mut()
                .enumerate()
                .filter_map(|(i, g)| {
                    let g = g.as_object_mut()?;
                    (g.get("resource").and_then(Value::as_str) == Some(resource)).then_some((i, g))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A grant's state for a field as written: the field, else `*`, else editable.
fn written_state(g: &Map<String, Value>, field: &str) -> FieldState {
    let fields = g.get("fields");
    fields
        .and_then(|f| f.get(field).or_else(|| f.get("*")))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(FieldState::Editable)
}

fn lists(g: &Map<String, Value>, action: &str) -> bool {
    g.get("actions")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == action || x == "*"))
}

/// Sets `field` in the role's own grants: lowering sets it in every grant that gives more,
/// raising in every grant whose actions let it reach the new state.
fn edit_field(
    doc: &mut Value,
    role: &str,
    resource: &str,
    field: &str,
    from: FieldState,
    to: FieldState,
) -> Result<(), String> {
    let mut grants = own_grants(doc, role, resource);
    let set = |g: &mut Map<String, Value>| {
        let fields = g.entry("fields").or_insert_with(|| json!({}));
        if let Some(f) = fields.as_object_mut() {
            f.insert(field.to_string(), Value::from(to.as_str()));
        }
    };
    if to < from {
        for (_, g) in grants.iter_mut() {
            if written_state(g, field) > to {
                set(g);
            }
        }
        return Ok(());
    }
    let needs_edit = to == FieldState::Editable;
    let mut raised = false;
    for (_, g) in grants.iter_mut() {
        let can_reach = lists(g, "create") || lists(g, "edit") || (!needs_edit && lists(g, "view"));
        if can_reach {
            raised = true;
            if written_state(g, field) < to {
                set(g);
            }
        }
    }
    if raised {
        Ok(())
    } else {
        let needed = if needs_edit {
            "create or edit"
        } else {
            "view, create or edit"
        };
        Err(format!(
            "role `{role}` has no grant of its own on `{resource}` that allows {needed}; \
             allow one of those actions first"
        ))
    }
}

/// Gives the role's own grants `action` on scope `to` (`None`: takes it away). The action is
/// taken out of every own grant listing it; a new grant gives it on the new scope with the
/// field states those grants gave it (all hidden for an action new to the role), so the form
/// of any mode shows what it showed.
fn edit_action(
    doc: &mut Value,
    role: &str,
    resource: &str,
    declared: &[&str],
    fields: &[&str],
    action: &str,
    to: Option<&str>,
) -> Result<(), String> {
    let grants = own_grants(doc, role, resource);
    let listing: Vec<usize> = grants
        .iter()
        .filter(|(_, g)| lists(g, action))
        .map(|(i, _)| *i)
        .collect();
    let mut states = vec![FieldState::Hidden; fields.len()];
    let mut whens: Vec<Option<Value>> = Vec::new();
    for (i, g) in &grants {
        if listing.contains(i) {
            for (k, f) in fields.iter().enumerate() {
                states[k] = states[k].max(written_state(g, f));
            }
            let w = g.get("when").cloned();
            if !whens.contains(&w) {
                whens.push(w);
            }
        }
    }
    drop(grants);
    if whens.len() > 1 && to.is_some() {
        return Err(format!(
            "`{action}` comes from several grants of role `{role}` with different conditions; \
             change them in the role's grants"
        ));
    }
    let Some(list) = doc
        .pointer_mut(&format!("/roles/{}/grants", key(role)))
        .and_then(Value::as_array_mut)
    else {
        if to.is_none() {
            return Ok(());
        }
        let r = doc
            .pointer_mut(&format!("/roles/{}", key(role)))
            .and_then(Value::as_object_mut)
            .ok_or_else(|| format!("no role `{role}`"))?;
        r.insert("grants".into(), json!([]));
        return edit_action(doc, role, resource, declared, fields, action, to);
    };
    for &i in &listing {
        let Some(g) = list.get_mut(i).and_then(Value::as_object_mut) else {
            continue;
        };
        let kept: Vec<Value> = match g.get("actions").and_then(Value::as_array) {
            Some(a) if a.iter().any(|x| x == "*") => declared
                .iter()
                .filter(|x| **x != action)
                .map(|x| Value::from(*x))
                .collect(),
            Some(a) => a.iter().filter(|x| *x != action).cloned().collect(),
            None => Vec::new(),
        };
        g.insert("actions".into(), Value::Array(kept));
    }
    let at = listing.first().copied().unwrap_or(list.len());
    if let Some(scope) = to {
        let mut g = Map::new();
        g.insert("resource".into(), Value::from(resource));
        g.insert("actions".into(), json!([action]));
        if scope != "all" {
            g.insert("scope".into(), Value::from(scope));
        }
        if let Some(Some(w)) = whens.first() {
            g.insert("when".into(), w.clone());
        }
        g.insert("fields".into(), compact(fields, &states));
        list.insert(at, Value::Object(g));
    }
    // Grants left with no action go.
    list.retain(|g| {
        g.get("actions")
            .and_then(Value::as_array)
            .is_none_or(|a| !a.is_empty())
    });
    Ok(())
}

/// Field states as a grant writes them: the most common as `*`, the others by name.
fn compact(fields: &[&str], states: &[FieldState]) -> Value {
    let common = FieldState::ALL
        .into_iter()
        .max_by_key(|s| states.iter().filter(|x| *x == s).count())
        .unwrap_or(FieldState::Hidden);
    let mut m = Map::new();
    m.insert("*".into(), Value::from(common.as_str()));
    for (f, s) in fields.iter().zip(states) {
        if *s != common {
            m.insert(f.to_string(), Value::from(s.as_str()));
        }
    }
    Value::Object(m)
}

/// A key for a JSON pointer.
fn key(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}
