//! The directory: the people an app has, as the identity provider or org chart knows them
//! (DingTalk, WeCom and Feishu export contacts as a spreadsheet). The policy says what a role,
//! department or group may do; only the directory says who is in them, so every review of real
//! access (diff, who-can, review, transfer) evaluates the people listed here.
//!
//! A directory is read from a table (`id,name,department,groups,roles`, groups and roles
//! `;`-separated) or from JSON (`[{"id", "name"?, "department"?, "groups"?, "roles"?,
//! "attrs"?}]`). Every bad row is reported, with its row and column, and nothing is loaded.

use crate::admin::codes::AdminCode;
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
    /// The outside organisation of a partner (上下游, 互联企业); none for the company's staff.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Free attributes (`user.attrs.*`).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub attrs: Map<String, Value>,
    /// The direct manager's id (the reporting line: `subordinates` scopes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// Everyone below the person in the reporting line, with their distance: worked out by
    /// the directory from every `manager`, never read.
    #[serde(skip)]
    pub reports: Map<String, Value>,
}

impl Person {
    /// The subject the engine decides for.
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.id.clone(),
            roles: self.roles.clone(),
            department: self.department.clone(),
            groups: self.groups.clone(),
            org: self.org.clone(),
            attrs: self.attrs.clone(),
            reports: self.reports.clone(),
        }
    }

    /// The name to show: the display name, else the id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

/// The organisation a directory is checked against: the policy's departments and, with its
/// document at hand, their labels, so that a department may be given by name ("销售部") or by
/// path ("销售部/华东") as contact exports write them.
#[derive(Debug, Clone, Copy)]
pub struct Org<'a> {
    /// The compiled policy: its departments and their parents.
    pub policy: &'a Policy,
    /// Its document (for the departments' labels).
    pub doc: Option<&'a Value>,
}

impl<'a> Org<'a> {
    /// The organisation of `policy`, departments by id only.
    pub fn of(policy: Option<&'a Policy>) -> Option<Org<'a>> {
        policy.map(|policy| Org { policy, doc: None })
    }

    /// The names a department goes by: its id and its labels in every language.
    fn names(&self, id: &str) -> Vec<String> {
        let label = self
            .doc
            .and_then(|d| d.get("departments")?.get(id)?.get("label"));
        let mut out = vec![id.to_string()];
        match label {
            Some(Value::String(s)) => out.push(s.clone()),
            Some(Value::Object(m)) => {
                out.extend(m.values().filter_map(Value::as_str).map(str::to_string))
            }
            _ => {}
        }
        out
    }

    /// The department a name or path ("销售部/华东": the last part, under the parts before it)
    /// means: none when nothing matches, an error when several do.
    fn department_named(&self, text: &str) -> Result<Option<String>, String> {
        let parts: Vec<&str> = text
            .split('/')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let Some((last, above)) = parts.split_last() else {
            return Ok(None);
        };
        let is = |id: &str, part: &str| self.names(id).iter().any(|n| n == part);
        let found: Vec<&str> = self
            .policy
            .department_names()
            .filter(|d| {
                if !is(d, last) {
                    return false;
                }
                let mut at = self.policy.department_parent(d);
                for part in above.iter().rev() {
                    match at {
                        Some(p) if is(p, part) => at = self.policy.department_parent(p),
                        _ => return false,
                    }
                }
                true
            })
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.to_string())),
            many => Err(format!(
                "`{text}` names {} departments ({}): give its path, e.g. `parent/{text}`",
                many.len(),
                many.join(", ")
            )),
        }
    }
}

/// The people of an app, in the order given, found by id.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: Vec<Person>,
    by_id: HashMap<String, usize>,
    /// The columns of the table it was read from that nothing reads (kept for the report).
    ignored: Vec<String>,
}

/// A mistake in a directory: where it is and why, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectoryError {
    /// The row as the spreadsheet numbers it (the header is row 1); for JSON, the person's
    /// position in the list, from 1.
    pub row: usize,
    /// The column (or JSON member) at fault; empty for a whole row.
    pub column: String,
    /// Why.
    pub code: AdminCode,
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
const COLUMNS: [(&str, &[&str]); 7] = [
    ("id", &["id", "userid", "user id", "工号", "用户id", "账号"]),
    ("name", &["name", "姓名", "名字"]),
    ("department", &["department", "dept", "部门"]),
    ("groups", &["groups", "group", "群组", "分组", "组"]),
    ("roles", &["roles", "role", "角色"]),
    (
        "org",
        &["org", "organisation", "organization", "组织", "所属组织"],
    ),
    (
        "manager",
        &[
            "manager",
            "直属主管",
            "主管",
            "上级",
            "汇报对象",
            "reports to",
        ],
    ),
];

/// Columns of contact exports (DingTalk, WeCom, Feishu) kept as attributes under a fixed key,
/// with the headers each is known by.
const ATTR_COLUMNS: [(&str, &[&str]); 5] = [
    (
        "title",
        &["title", "job title", "position", "职位", "职务", "岗位"],
    ),
    ("mobile", &["mobile", "phone", "手机", "手机号", "手机号码"]),
    (
        "email",
        &["email", "e-mail", "邮箱", "企业邮箱", "电子邮箱"],
    ),
    ("location", &["location", "办公地点", "工作地点"]),
    ("joined", &["joined", "hire date", "入职时间", "入职日期"]),
];

/// The column `header` is a typo of (two letters off one of the table's own English names).
fn misspelt(header: &str) -> Option<&'static str> {
    if header.chars().count() < 4 || !header.is_ascii() {
        return None;
    }
    COLUMNS
        .iter()
        .map(|(name, _)| *name)
        .find(|name| name.len() >= 4 && edits(header, name) <= 2)
}

/// The edit distance between two ASCII words (Levenshtein).
fn edits(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(x != y))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

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
        Directory::checked(people, Org::of(policy), &rows, Vec::new())
    }

    /// The columns the table had that nothing reads (neither a person's field nor a known
    /// attribute): what a contact export brought that the app does not use.
    pub fn ignored_columns(&self) -> &[String] {
        &self.ignored
    }

    /// The directory, unless `errors` (found while reading) or its own checks find mistakes;
    /// `rows[i]` is where person `i` was read.
    fn checked(
        mut people: Vec<Person>,
        org: Option<Org<'_>>,
        rows: &[usize],
        mut errors: Vec<DirectoryError>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let mut by_id = HashMap::with_capacity(people.len());
        let mut by_look: HashMap<String, usize> = HashMap::with_capacity(people.len());
        let known: Option<Vec<&str>> = org
            .map(|o| o.policy.department_names().collect::<Vec<_>>())
            .filter(|d| !d.is_empty());
        // Departments given by name or path ("销售部/华东"), as contact exports write them.
        if let (Some(o), Some(known)) = (org, &known) {
            for (i, p) in people.iter_mut().enumerate() {
                let Some(d) = p
                    .department
                    .clone()
                    .filter(|d| !known.contains(&d.as_str()))
                else {
                    continue;
                };
                match o.department_named(&d) {
                    Ok(Some(id)) => p.department = Some(id),
                    Ok(None) => {}
                    Err(msg) => errors.push(err(
                        rows[i],
                        "department",
                        AdminCode::UnknownDepartment,
                        msg,
                    )),
                }
            }
        }
        for (i, p) in people.iter().enumerate() {
            let row = rows[i];
            if p.id.trim().is_empty() {
                errors.push(err(
                    row,
                    "id",
                    AdminCode::MissingId,
                    "every person needs an id".into(),
                ));
                continue;
            }
            if p.id.starts_with('#') {
                // A table reads a row whose first cell starts with `#` as a comment.
                let msg = "an id cannot start with `#` (a table reads that row as a comment)";
                errors.push(err(row, "id", AdminCode::BadValue, msg.into()));
                continue;
            }
            if let Some(c) = p.id.chars().find(|c| invisible(*c)) {
                let msg = format!(
                    "the id has an invisible character (U+{:04X}): ids that look the same must be \
                     the same",
                    u32::from(c)
                );
                errors.push(err(row, "id", AdminCode::BadValue, msg));
                continue;
            }
            if let Some(&first) = by_id.get(&p.id) {
                let msg = format!("`{}` is already row {}", p.id, rows[first]);
                errors.push(err(row, "id", AdminCode::DuplicateId, msg));
            } else if let Some(&first) = by_look.get(&look(&p.id)) {
                let msg = format!(
                    "`{}` looks the same as `{}` of row {} (only case or Unicode form differ)",
                    p.id, people[first].id, rows[first]
                );
                errors.push(err(row, "id", AdminCode::DuplicateId, msg));
            } else {
                by_id.insert(p.id.clone(), i);
                by_look.insert(look(&p.id), i);
            }
            if let (Some(d), Some(known)) = (&p.department, &known) {
                let reported = errors
                    .iter()
                    .any(|e| e.row == row && e.column == "department");
                if !known.contains(&d.as_str()) && !reported {
                    let msg = format!("the policy has no department `{d}`");
                    errors.push(err(row, "department", AdminCode::UnknownDepartment, msg));
                }
            }
        }
        if errors.is_empty() {
            reporting_line(&mut people, &by_id, rows, &mut errors);
        }
        if errors.is_empty() {
            Ok(Directory {
                people,
                by_id,
                ignored: Vec::new(),
            })
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
        Directory::from_table_in(rows, Org::of(policy))
    }

    /// [`Directory::from_table`] for an organisation whose departments may be given by name
    /// or path as well as by id. Contact exports' columns (职位, 手机, 邮箱, …) become
    /// attributes (`title`, `mobile`, `email`, …); any other column is ignored and listed
    /// ([`Directory::ignored_columns`]).
    ///
    /// # Errors
    /// Every bad header, row and cell.
    pub fn from_table_in(
        rows: &[Vec<String>],
        org: Option<Org<'_>>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let Some(head) = rows.first() else {
            return Err(vec![err(
                1,
                "",
                AdminCode::BadHeader,
                "the sheet is empty".into(),
            )]);
        };
        enum Col {
            Known(&'static str),
            Attr(String),
            /// An export's column kept as text (a phone number is not a number).
            Text(&'static str),
            Ignored,
        }
        let mut errors = Vec::new();
        let mut cols = Vec::new();
        let mut ignored = Vec::new();
        for h in head {
            let t = h.trim();
            let lower = t.to_lowercase();
            let named = |table: &[(&'static str, &[&str])]| {
                table
                    .iter()
                    .find(|(_, names)| names.contains(&lower.as_str()))
                    .map(|(name, _)| *name)
            };
            let col = if let Some(name) = named(&COLUMNS) {
                Col::Known(name)
            } else if let Some(key) = named(&ATTR_COLUMNS) {
                Col::Text(key)
            } else if let Some(key) = t.strip_prefix("attrs.").filter(|k| !k.is_empty()) {
                Col::Attr(key.to_string())
            } else if let Some(meant) = misspelt(&lower) {
                // A typo of a column that matters is a mistake, not a column to ignore.
                let msg = format!("unknown column `{t}`: did you mean `{meant}`?");
                errors.push(err(1, t, AdminCode::BadHeader, msg));
                Col::Ignored
            } else {
                if !t.is_empty() && !t.starts_with("x-") {
                    ignored.push(t.to_string());
                }
                Col::Ignored
            };
            cols.push(col);
        }
        if !cols.iter().any(|c| matches!(c, Col::Known("id"))) {
            errors.push(err(
                1,
                "id",
                AdminCode::BadHeader,
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
                org: None,
                attrs: Map::new(),
                manager: None,
                reports: Map::new(),
            };
            for (c, col) in cols.iter().enumerate() {
                let cell = row.get(c).map_or("", |s| s.trim());
                match col {
                    Col::Known("id") => p.id = cell.to_string(),
                    Col::Known("name") => p.name = non_empty(cell),
                    Col::Known("department") => p.department = non_empty(cell),
                    Col::Known("groups") => p.groups = list(cell),
                    Col::Known("roles") => p.roles = list(cell),
                    Col::Known("org") => p.org = non_empty(cell),
                    Col::Known("manager") => p.manager = non_empty(cell),
                    Col::Attr(key) => {
                        if let Some(v) = attr_cell(cell) {
                            p.attrs.insert(key.clone(), v);
                        }
                    }
                    Col::Text(key) if !cell.is_empty() => {
                        p.attrs.insert((*key).to_string(), Value::from(cell));
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
                errors.push(err(line, "", AdminCode::BadValue, msg));
            }
            people.push(p);
            rows_of.push(line);
        }
        let mut d = Directory::checked(people, org, &rows_of, errors)?;
        d.ignored = ignored;
        Ok(d)
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
        Directory::from_json_in(doc, Org::of(policy))
    }

    /// [`Directory::from_json`] for an organisation whose departments may be given by name or
    /// path as well as by id.
    ///
    /// # Errors
    /// Every bad person or member.
    pub fn from_json_in(
        doc: &Value,
        org: Option<Org<'_>>,
    ) -> Result<Directory, Vec<DirectoryError>> {
        let given = doc
            .as_array()
            .or_else(|| doc.get("people").and_then(Value::as_array))
            .ok_or_else(|| {
                vec![err(
                    0,
                    "",
                    AdminCode::BadJson,
                    "expected a list of people".into(),
                )]
            })?;
        let mut errors = Vec::new();
        let mut people = Vec::new();
        let mut rows = Vec::new();
        for (i, v) in given.iter().enumerate() {
            let row = i + 1;
            let Some(m) = v.as_object() else {
                errors.push(err(
                    row,
                    "",
                    AdminCode::BadJson,
                    "a person is a JSON object".into(),
                ));
                continue;
            };
            rows.push(row);
            for k in m.keys() {
                let known = [
                    "id",
                    "name",
                    "department",
                    "groups",
                    "roles",
                    "org",
                    "attrs",
                    "manager",
                ];
                if !known.contains(&k.as_str()) && !k.starts_with("x-") {
                    errors.push(err(
                        row,
                        k,
                        AdminCode::BadValue,
                        format!("unknown member `{k}`"),
                    ));
                }
            }
            let text = |k: &str, errors: &mut Vec<DirectoryError>| match m.get(k) {
                None | Some(Value::Null) => None,
                // Read as a table cell is: trimmed, and empty is absent.
                Some(Value::String(s)) => non_empty(s.trim()),
                Some(_) => {
                    errors.push(err(
                        row,
                        k,
                        AdminCode::BadValue,
                        format!("`{k}` must be a string"),
                    ));
                    None
                }
            };
            let names = |k: &str, errors: &mut Vec<DirectoryError>| match m.get(k) {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                    let entries: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                    if entries.iter().any(|e| e.contains([';', '；'])) {
                        // A table cell separates names by `;`: one name cannot hold it.
                        let msg = format!("a name in `{k}` cannot contain `;`");
                        errors.push(err(row, k, AdminCode::BadValue, msg));
                    }
                    list(&entries.join(";"))
                }
                Some(_) => {
                    let msg = format!("`{k}` must be a list of strings");
                    errors.push(err(row, k, AdminCode::BadValue, msg));
                    Vec::new()
                }
            };
            let attrs = match m.get("attrs") {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(a)) => attrs_of(a, row, &mut errors),
                Some(_) => {
                    errors.push(err(
                        row,
                        "attrs",
                        AdminCode::BadValue,
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
                org: text("org", &mut errors),
                attrs,
                manager: text("manager", &mut errors),
                reports: Map::new(),
            });
        }
        Directory::checked(people, org, &rows, errors)
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
        // The reporting line only when there is one (most directories have none).
        let managed = self.people.iter().any(|p| p.manager.is_some());
        // Partners' organisations only when there are partners.
        let partners = self.people.iter().any(|p| p.org.is_some());
        let mut head: Vec<String> = COLUMNS
            .iter()
            .map(|(c, _)| c.to_string())
            .filter(|c| (managed || c != "manager") && (partners || c != "org"))
            .collect();
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
            if partners {
                row.push(p.org.clone().unwrap_or_default());
            }
            if managed {
                row.push(p.manager.clone().unwrap_or_default());
            }
            row.extend(keys.iter().map(|k| match p.attrs.get(*k) {
                None | Some(Value::Null) => String::new(),
                // A text that would read back as something else is written as a JSON string.
                Some(Value::String(s)) if attr_cell(s) != Some(Value::String(s.clone())) => {
                    Value::String(s.clone()).to_string()
                }
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            }));
            rows.push(row);
        }
        rows
    }

    /// The subject to decide for, from a subject given as JSON: only an id (`{"id": …}`) is
    /// the directory's person; a subject given in full is used as given, with the person's
    /// reporting line when it brings none of its own.
    ///
    /// # Errors
    /// A message when the JSON is not a subject.
    pub fn resolve(dir: Option<&Directory>, given: &Value) -> Result<Subject, String> {
        let subject: Subject =
            serde_json::from_value(given.clone()).map_err(|e| format!("bad subject: {e}"))?;
        let Some(person) = dir.and_then(|d| d.get(&subject.id)) else {
            return Ok(subject);
        };
        let only_id = given.as_object().is_some_and(|m| m.len() == 1);
        if only_id {
            return Ok(person.subject());
        }
        Ok(Subject {
            reports: if subject.reports.is_empty() {
                person.reports.clone()
            } else {
                subject.reports
            },
            ..subject
        })
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

/// Checks every `manager` (a person of the directory, and no one their own manager's
/// manager), then gives each person everyone below them with their distance.
fn reporting_line(
    people: &mut [Person],
    by_id: &HashMap<String, usize>,
    rows: &[usize],
    errors: &mut Vec<DirectoryError>,
) {
    let mut up: Vec<Option<usize>> = vec![None; people.len()];
    for (i, p) in people.iter().enumerate() {
        let Some(m) = &p.manager else { continue };
        match by_id.get(m) {
            Some(&j) => up[i] = Some(j),
            None => {
                let msg = format!("no one in the directory has the id `{m}`");
                errors.push(err(rows[i], "manager", AdminCode::UnknownManager, msg));
            }
        }
    }
    let mut below: Vec<Vec<(usize, u32)>> = vec![Vec::new(); people.len()];
    for i in 0..people.len() {
        let (mut at, mut d) = (up[i], 1);
        while let Some(j) = at {
            if j == i {
                let msg = format!(
                    "`{}` is above themselves in the reporting line (the managers form a circle)",
                    people[i].id
                );
                errors.push(err(rows[i], "manager", AdminCode::ManagerCycle, msg));
                break;
            }
            if d as usize > people.len() {
                // Into a circle this person is not part of: its members are reported.
                break;
            }
            below[j].push((i, d));
            at = up[j];
            d += 1;
        }
    }
    if !errors.is_empty() {
        return;
    }
    for (j, list) in below.into_iter().enumerate() {
        let reports = list
            .into_iter()
            .map(|(i, d)| (people[i].id.clone(), Value::from(d)))
            .collect();
        people[j].reports = reports;
    }
}

fn err(row: usize, column: &str, code: AdminCode, message: String) -> DirectoryError {
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

/// A JSON directory's attributes, as a table could carry them: a null is no attribute; a key
/// is a column header (so not empty, nor padded), and a value a cell (text, number, boolean).
fn attrs_of(
    given: &Map<String, Value>,
    row: usize,
    errors: &mut Vec<DirectoryError>,
) -> Map<String, Value> {
    let mut attrs = Map::new();
    for (k, v) in given {
        let column = format!("attrs.{k}");
        if k.is_empty() || k.trim() != k {
            let msg = format!("the attribute name `{k}` is empty or starts or ends with a space");
            errors.push(err(row, &column, AdminCode::BadValue, msg));
        } else if matches!(v, Value::Array(_) | Value::Object(_)) {
            let msg = format!("`{column}` must be text, a number or true/false");
            errors.push(err(row, &column, AdminCode::BadValue, msg));
        } else if !v.is_null() {
            attrs.insert(k.clone(), v.clone());
        }
    }
    attrs
}

/// What an attribute cell holds: nothing when blank, else [`attr_value`] of the trimmed text.
fn attr_cell(cell: &str) -> Option<Value> {
    let cell = cell.trim();
    (!cell.is_empty()).then(|| attr_value(cell))
}

/// An attribute cell: a number or boolean when it reads as one, else the text.
fn attr_value(cell: &str) -> Value {
    // A JSON string (`"138"`) is that text: how a text that looks like a number is written.
    if cell.len() >= 2 && cell.starts_with('"') && cell.ends_with('"') {
        if let Ok(Value::String(s)) = serde_json::from_str::<Value>(cell) {
            return Value::String(s);
        }
    }
    match cell {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => cell
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| cell.parse::<u64>().map(Value::from))
            .ok()
            .or_else(|| {
                // `inf` and `NaN` parse, but JSON has no such number: they stay text.
                let f = cell.parse::<f64>().ok().filter(|f| f.is_finite());
                f.map(Value::from)
            })
            .unwrap_or_else(|| Value::String(cell.to_string())),
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

    /// Partners: an `org` column under any of its headers, read back from the table and the
    /// JSON form, and the subject the engine gets carries it.
    #[test]
    fn reads_a_partners_organisation_under_each_header() {
        for header in ["org", "组织", "所属组织"] {
            let d = Directory::from_table(
                &t(&[&["id", header], &["u-kim", "shenzhen-parts"], &["u-1", ""]]),
                None,
            )
            .unwrap();
            let kim = d.get("u-kim").unwrap();
            assert_eq!(kim.org.as_deref(), Some("shenzhen-parts"), "{header}");
            assert_eq!(kim.subject().org.as_deref(), Some("shenzhen-parts"));
            assert_eq!(d.get("u-1").unwrap().org, None, "staff have none");
            let back = Directory::from_table(&d.to_table(), None).unwrap();
            assert_eq!(back.people(), d.people());
            let json = Directory::from_json(&d.to_json(), None).unwrap();
            assert_eq!(json.people(), d.people());
        }
        // Without partners the table has no `org` column.
        let staff = Directory::from_table(&t(&[&["id"], &["u-1"]]), None).unwrap();
        assert!(!staff.to_table()[0].contains(&"org".to_string()));
    }

    /// What the JSON form holds, a table holds too: found by the `directory` fuzz target
    /// (an empty name came back absent).
    #[test]
    fn a_json_directory_reads_back_from_its_table() {
        let doc = serde_json::json!([
            {"id": "u-1", "name": "", "department": " ", "groups": [" a ", ""],
             "attrs": {"blank": "", "pad": " x ", "nan": "NaN", "big": 18446744073709551615u64,
                       "none": null, "n": "12"}},
            {"id": "u-2", "name": " Bo ", "manager": "u-1"},
        ]);
        let d = Directory::from_json(&doc, None).unwrap();
        assert_eq!(d.get("u-1").unwrap().name, None);
        assert_eq!(d.get("u-1").unwrap().groups, ["a"]);
        assert!(!d.get("u-1").unwrap().attrs.contains_key("none"));
        assert_eq!(d.get("u-2").unwrap().name.as_deref(), Some("Bo"));
        let again = Directory::from_table(&d.to_table(), None).unwrap();
        assert_eq!(again.people(), d.people());
        for (bad, column) in [
            (serde_json::json!([{"id": "#1"}]), "id"),
            (serde_json::json!([{"id": "u", "roles": ["a;b"]}]), "roles"),
            (
                serde_json::json!([{"id": "u", "attrs": {"l": [1]}}]),
                "attrs.l",
            ),
            (
                serde_json::json!([{"id": "u", "attrs": {" l": 1}}]),
                "attrs. l",
            ),
        ] {
            let e = Directory::from_json(&bad, None).unwrap_err();
            assert_eq!(
                (e[0].code, e[0].column.as_str()),
                (AdminCode::BadValue, column)
            );
        }
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
            .map(|e| (e.row, e.column.as_str(), e.code.as_str()))
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
        let got: Vec<(usize, &str)> = e.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(
            got,
            [(3, "duplicate_id"), (4, "bad_value"), (6, "duplicate_id")]
        );
        assert!(e[0].message.contains("row 2"), "{}", e[0].message);
        let e = Directory::from_table(&t(&[&["name", "dept"]]), None).unwrap_err();
        assert_eq!(e[0].code, "bad_header");
    }

    #[test]
    fn reads_a_dingtalk_export_as_it_is() {
        let doc = serde_json::json!({
            "format": "fieldgate/1", "app": "t", "version": 1,
            "departments": {"hq": {"label": "总部"}, "sales": {"parent": "hq", "label": {"zh-CN": "销售部", "en": "Sales"}},
                            "east": {"parent": "sales", "label": "华东"}, "ops": {"parent": "hq", "label": "运营部"},
                            "ops-east": {"parent": "ops", "label": "华东"}},
            "resources": {}
        });
        let p = Policy::from_value(&doc).unwrap();
        let org = Some(Org {
            policy: &p,
            doc: Some(&doc),
        });
        let d = Directory::from_table_in(
            &t(&[
                &[
                    "姓名",
                    "UserID",
                    "手机",
                    "部门",
                    "职位",
                    "邮箱",
                    "分机号",
                    "备注",
                ],
                &[
                    "张三",
                    "u-1",
                    "138",
                    "销售部",
                    "销售员",
                    "z@x.cn",
                    "801",
                    "",
                ],
                &["李四", "u-2", "139", "销售部/华东", "主管", "", "", "新人"],
                &["王五", "u-3", "", "Sales", "", "", "", ""],
            ]),
            org,
        )
        .unwrap();
        assert_eq!(d.get("u-1").unwrap().department.as_deref(), Some("sales"));
        assert_eq!(d.get("u-2").unwrap().department.as_deref(), Some("east"));
        assert_eq!(d.get("u-3").unwrap().department.as_deref(), Some("sales"));
        assert_eq!(d.get("u-1").unwrap().attrs["title"], "销售员");
        assert_eq!(d.get("u-1").unwrap().attrs["mobile"], "138");
        assert_eq!(d.get("u-1").unwrap().attrs["email"], "z@x.cn");
        assert_eq!(d.ignored_columns(), ["分机号", "备注"]);
        // Written back and read again: the same people (a phone number stays text).
        let again = Directory::from_table(&d.to_table(), None).unwrap();
        assert_eq!(again.people(), d.people());
        // A name two departments share needs its path; an unknown one is reported.
        let e = Directory::from_table_in(
            &t(&[&["id", "部门"], &["u-1", "华东"], &["u-2", "北方"]]),
            org,
        )
        .unwrap_err();
        let got: Vec<(usize, &str)> = e.iter().map(|e| (e.row, e.code.as_str())).collect();
        assert_eq!(got, [(2, "unknown_department"), (3, "unknown_department")]);
        assert!(e[0].message.contains("give its path"), "{}", e[0].message);
    }
}
