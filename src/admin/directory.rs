//! The directory: the people an app has, as the identity provider or org chart knows them
//! (DingTalk, WeCom and Feishu export contacts as a spreadsheet). The policy says what a role,
//! department or group may do; only the directory says who is in them, so every review of real
//! access (diff, who-can, review, transfer) evaluates the people listed here.
//!
//! A directory is read from a table (`id,name,department,groups,roles`, groups and roles
//! `;`-separated) or from JSON (`[{"id", "name"?, "department"?, "groups"?, "roles"?,
//! "attrs"?}]`). Every bad row is reported, with its row and column, and nothing is loaded.

use crate::core::{Policy, Subject};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    /// The user id (what sessions, `own` scopes and `assignments.users` match).
    pub id: String,
    /// The display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Roles the identity provider gives.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Free attributes (`user.attrs.*`).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub attrs: Map<String, Value>,
}

impl Person {
    /// The subject the engine decides for.
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.id.clone(),
            roles: self.roles.clone(),
            department: self.department.clone(),
            groups: self.groups.clone(),
            attrs: self.attrs.clone(),
        }
    }

    /// The name to show: the display name, else the id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// The people of an app, in the order given, found by id.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: Vec<Person>,
    by_id: HashMap<String, usize>,
}

/// A mistake in a directory: where it is and why, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryError {
    /// The row as the spreadsheet numbers it (the header is row 1); for JSON, the person's
    /// position in the list, from 1.
    pub row: usize,
    /// The column (or JSON member) at fault; empty for a whole row.
    pub column: String,
    /// `bad_header`, `missing_id`, `duplicate_id`, `unknown_department`, `bad_value` or
    /// `bad_json`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "row {}: {}: {}", self.row, self.code, self.message)
        } else {
            write!(
                f,
                "row {}, column {}: {}: {}",
                self.row, self.column, self.code, self.message
            )
        }
    }
}

/// The columns a directory table may have, with the headers each is known by (the English
/// name first; the others are what Chinese contact exports call them).
const COLUMNS: [(&str, &[&str]); 5] = [
    ("id", &["id", "userid", "user id", "工号", "用户id", "账号"]),
    ("name", &["name", "姓名", "名字"]),
    ("department", &["department", "dept", "部门"]),
    ("groups", &["groups", "group", "群组", "分组", "组"]),
    ("roles", &["roles", "role", "角色"]),
];

/// An id as people read it: in Unicode's composed form (NFC), case-folded. Two ids with the
/// same look are one person to whoever reads a list of names, so a directory refuses them.
fn look(id: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    id.nfc().flat_map(char::to_lowercase).collect()
}

/// Characters that show as nothing (or only change direction) and so make an id look like
/// another: white space, controls, zero-width spaces and joiners, direction marks and
/// overrides, the soft hyphen and the byte order mark.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

impl Directory {
    /// A directory of these people, checked: ids present and unique, departments known to
    /// the policy (when it declares any).
    ///
    /// # Errors
    /// Every mistake; rows are numbered from `first_row`.
    pub fn new(
        people: Vec<Person>,
        policy: Option<&Policy>,
        first_row: usize,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let rows: Vec<usize> = (0..people.len()).map(|i| first_row + i).collect();
        Directory::checked(people, policy, &rows, Vec::new())
    }

    /// The directory, unless `errors` (found while reading) or its own checks find mistakes;
    /// `rows[i]` is where person `i` was read.
    fn checked(
        people: Vec<Person>,
        policy: Option<&Policy>,
        rows: &[usize],
        mut errors: Vec<DirectoryError>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let mut by_id = HashMap::with_capacity(people.len());
        let mut by_look: HashMap<String, usize> = HashMap::with_capacity(people.len());
        let known: Option<Vec<&str>> = policy
            .map(|p| p.department_names().collect::<Vec<_>>())
            .filter(|d| !d.is_empty());
        for (i, p) in people.iter().enumerate() {
            let row = rows[i];
            if p.id.trim().is_empty() {
                errors.push(err(
                    row,
                    "id",
                    "missing_id",
                    "every person needs an id".into(),
                ));
                continue;
            }
            if let Some(c) = p.id.chars().find(|c| invisible(*c)) {
                let msg = format!(
                    "the id has an invisible character (U+{:04X}): ids that look the same must be \
                     the same",
                    u32::from(c)
                );
                errors.push(err(row, "id", "bad_value", msg));
                continue;
            }
            if let Some(&first) = by_id.get(&p.id) {
                let msg = format!("`{}` is already row {}", p.id, rows[first]);
                errors.push(err(row, "id", "duplicate_id", msg));
            } else if let Some(&first) = by_look.get(&look(&p.id)) {
                let msg = format!(
                    "`{}` looks the same as `{}` of row {} (only case or Unicode form differ)",
                    p.id, people[first].id, rows[first]
                );
                errors.push(err(row, "id", "duplicate_id", msg));
            } else {
                by_id.insert(p.id.clone(), i);
                by_look.insert(look(&p.id), i);
            }
            if let (Some(d), Some(known)) = (&p.department, &known) {
                if !known.contains(&d.as_str()) {
                    let msg = format!("the policy has no department `{d}`");
                    errors.push(err(row, "department", "unknown_department", msg));
                }
            }
        }
        if errors.is_empty() {
            Ok(Directory { people, by_id })
        } else {
            errors.sort_by_key(|e| e.row);
            Err(errors)
        }
    }

    /// Reads a table: a header row naming the columns (`id` required; `name`, `department`,
    /// `groups`, `roles`, `attrs.<key>` optional; `x-…` columns are ignored), then one row per
    /// person. Empty rows and rows whose first cell starts with `#` are skipped.
    ///
    /// # Errors
    /// Every bad header, row and cell.
    pub fn from_table(
        rows: &[Vec<String>],
        policy: Option<&Policy>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let Some(head) = rows.first() else {
            return Err(vec![err(1, "", "bad_header", "the sheet is empty".into())]);
        };
        enum Col {
            Known(&'static str),
            Attr(String),
            Ignored,
        }
        let mut errors = Vec::new();
        let mut cols = Vec::new();
        for h in head {
            let t = h.trim();
            let lower = t.to_lowercase();
            let col = if let Some((name, _)) = COLUMNS
                .iter()
                .find(|(_, names)| names.contains(&lower.as_str()))
            {
                Col::Known(name)
            } else if let Some(key) = t.strip_prefix("attrs.").filter(|k| !k.is_empty()) {
                Col::Attr(key.to_string())
            } else if t.is_empty() || t.starts_with("x-") {
                Col::Ignored
            } else {
                let msg = format!(
                    "unknown column `{t}`: use id, name, department, groups, roles, \
                     attrs.<key>, or x-<anything> for a column to ignore"
                );
                errors.push(err(1, t, "bad_header", msg));
                Col::Ignored
            };
            cols.push(col);
        }
        if !cols.iter().any(|c| matches!(c, Col::Known("id"))) {
            errors.push(err(
                1,
                "id",
                "bad_header",
                "the header has no `id` column".into(),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut people = Vec::new();
        let mut rows_of = Vec::new();
        for (n, row) in rows.iter().enumerate().skip(1) {
            let line = n + 1;
            let blank = row.iter().all(|c| c.trim().is_empty());
            if blank || row.first().is_some_and(|c| c.trim_start().starts_with('#')) {
                continue;
            }
            let mut p = Person {
                id: String::new(),
                name: None,
                department: None,
                groups: Vec::new(),
                roles: Vec::new(),
                attrs: Map::new(),
            };
            for (c, col) in cols.iter().enumerate() {
                let cell = row.get(c).map_or("", |s| s.trim());
                match col {
                    Col::Known("id") => p.id = cell.to_string(),
                    Col::Known("name") => p.name = non_empty(cell),
                    Col::Known("department") => p.department = non_empty(cell),
                    Col::Known("groups") => p.groups = list(cell),
                    Col::Known("roles") => p.roles = list(cell),
                    Col::Attr(key) if !cell.is_empty() => {
                        p.attrs.insert(key.clone(), attr_value(cell));
                    }
                    _ => {}
                }
            }
            if row.len() > cols.len() && row[cols.len()..].iter().any(|c| !c.trim().is_empty()) {
                let msg = format!(
                    "the row has {} cells; the header has {}",
                    row.len(),
                    cols.len()
                );
                errors.push(err(line, "", "bad_value", msg));
            }
            people.push(p);
            rows_of.push(line);
        }
        Directory::checked(people, policy, &rows_of, errors)
    }

    /// Reads the JSON form: `[{"id", "name"?, "department"?, "groups"?, "roles"?, "attrs"?}]`
    /// (or `{"people": [...]}`).
    ///
    /// # Errors
    /// Every bad person or member (`row` is the position in the list, from 1).
    pub fn from_json(
        doc: &Value,
        policy: Option<&Policy>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let list = doc
            .as_array()
            .or_else(|| doc.get("people").and_then(Value::as_array))
            .ok_or_else(|| vec![err(0, "", "bad_json", "expected a list of people".into())])?;
        let mut errors = Vec::new();
        let mut people = Vec::new();
        let mut rows = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let row = i + 1;
            let Some(m) = v.as_object() else {
                errors.push(err(row, "", "bad_json", "a person is a JSON object".into()));
                continue;
            };
            rows.push(row);
            for k in m.keys() {
                if !["id", "name", "department", "groups", "roles", "attrs"].contains(&k.as_str())
                    && !k.starts_with("x-")
                {
                    errors.push(err(row, k, "bad_value", format!("unknown member `{k}`")));
                }
            }
            let text = |k: &str, errors: &mut Vec<DirectoryError>| match m.get(k) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    errors.push(err(row, k, "bad_value", format!("`{k}` must be a string")));
                    None
                }
            };
            let names = |k: &str, errors: &mut Vec<DirectoryError>| match m.get(k) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
                Some(_) => {
                    let msg = format!("`{k}` must be a list of strings");
                    errors.push(err(row, k, "bad_value", msg));
                    Vec::new()
                }
            };
            let attrs = match m.get("attrs") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(a)) => a.clone(),
                Some(_) => {
                    errors.push(err(
                        row,
                        "attrs",
                        "bad_value",
                        "`attrs` must be an object".into(),
                    ));
                    Map::new()
                }
            };
            people.push(Person {
                id: text("id", &mut errors).unwrap_or_default(),
                name: text("name", &mut errors),
                department: text("department", &mut errors),
                groups: names("groups", &mut errors),
                roles: names("roles", &mut errors),
                attrs,
            });
        }
        Directory::checked(people, policy, &rows, errors)
    }

    /// The people, in the order given.
    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// A person by id.
    pub fn get(&self, id: &str) -> Option<&Person> {
        self.by_id.get(id).map(|&i| &self.people[i])
    }

    /// How many people there are.
    pub fn len(&self) -> usize {
        self.people.len()
    }

    /// Whether there is nobody.
    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    /// The JSON form (what [`Directory::from_json`] reads).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(&self.people).unwrap_or_default()
    }

    /// The table form: a header row, then one row per person (what
    /// [`Directory::from_table`] reads).
    pub fn to_table(&self) -> Vec<Vec<String>> {
        let mut keys: Vec<&str> = Vec::new();
        for p in &self.people {
            for k in p.attrs.keys() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
        let mut head: Vec<String> = COLUMNS.iter().map(|(c, _)| c.to_string()).collect();
        head.extend(keys.iter().map(|k| format!("attrs.{k}")));
        let mut rows = vec![head];
        for p in &self.people {
            let mut row = vec![
                p.id.clone(),
                p.name.clone().unwrap_or_default(),
                p.department.clone().unwrap_or_default(),
                p.groups.join(";"),
                p.roles.join(";"),
            ];
            row.extend(keys.iter().map(|k| match p.attrs.get(*k) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            }));
            rows.push(row);
        }
        rows
    }

    /// People whose name, id or department contains `query` (case-insensitive), in order.
    pub fn search(&self, query: &str) -> impl Iterator<Item = &Person> {
        let q = query.trim().to_lowercase();
        self.people.iter().filter(move |p| {
            q.is_empty()
                || p.id.to_lowercase().contains(&q)
                || p.name
                    .as_deref()
                    .is_some_and(|n| n.to_lowercase().contains(&q))
                || p.department
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(&q))
        })
    }
}

fn err(row: usize, column: &str, code: &'static str, message: String) -> DirectoryError {
    DirectoryError {
        row,
        column: column.to_string(),
        code,
        message,
    }
}

fn non_empty(cell: &str) -> Option<String> {
    (!cell.is_empty()).then(|| cell.to_string())
}

/// A `;`-separated list (the full-width `；` too), without empty entries.
fn list(cell: &str) -> Vec<String> {
    cell.split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An attribute cell: a number or boolean when it reads as one, else the text.
fn attr_value(cell: &str) -> Value {
    match cell {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => cell
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| cell.parse::<f64>().map(Value::from))
            .unwrap_or_else(|_| Value::String(cell.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn reads_a_table_with_lists_attrs_and_chinese_headers() {
        let d = Directory::from_table(
            &t(&[
                &[
                    "工号",
                    "姓名",
                    "部门",
                    "groups",
                    "角色",
                    "attrs.level",
                    "x-phone",
                ],
                &["u-1", "张三", "east", "a; b", "sales；lead", "3", "138"],
                &["# a comment"],
                &[""],
                &["u-2", "", "", "", "", "", ""],
            ]),
            None,
        )
        .unwrap();
        assert_eq!(d.len(), 2);
        let p = d.get("u-1").unwrap();
        assert_eq!(p.label(), "张三");
        assert_eq!(p.groups, ["a", "b"]);
        assert_eq!(p.roles, ["sales", "lead"]);
        assert_eq!(p.attrs["level"], 3);
        assert_eq!(d.get("u-2").unwrap().department, None);
        let back = Directory::from_table(&d.to_table(), None).unwrap();
        assert_eq!(back.people(), d.people());
    }

    #[test]
    fn reports_every_bad_row_with_its_real_row_number() {
        let e = Directory::from_table(
            &t(&[
                &["id", "department"],
                &["u-1", "east"],
                &["# skipped"],
                &["u-1", "east"],
                &["", "east"],
            ]),
            None,
        )
        .unwrap_err();
        let got: Vec<(usize, &str, &str)> = e
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.code))
            .collect();
        assert_eq!(got, [(4, "id", "duplicate_id"), (5, "id", "missing_id")]);
        // Look-alikes: case, Unicode form (é composed vs e + combining accent), and a
        // zero-width space are refused, naming the row they look like.
        let e = Directory::from_table(
            &t(&[
                &["id"],
                &["u-alice"],
                &["U-Alice"],
                &["u-alice\u{200b}"],
                &["u-\u{e9}"],
                &["u-e\u{301}"],
            ]),
            None,
        )
        .unwrap_err();
        let got: Vec<(usize, &str)> = e.iter().map(|e| (e.row, e.code)).collect();
        assert_eq!(
            got,
            [(3, "duplicate_id"), (4, "bad_value"), (6, "duplicate_id")]
        );
        assert!(e[0].message.contains("row 2"), "{}", e[0].message);
        let e = Directory::from_table(&t(&[&["name", "dept"]]), None).unwrap_err();
        assert_eq!(e[0].code, "bad_header");
    }
}
