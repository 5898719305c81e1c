//! The matrix as the engine answers it: each role's (and person's) cells, with where each value
//! comes from.

use super::*;

impl Matrix {
    /// The matrix of `resource`: a row per role (every role, or those named).
    ///
    /// # Errors
    /// A message for an unknown resource or role.
    pub fn build(
        doc: &Value,
        policy: &Arc<Policy>,
        resource: &str,
        roles: Option<&[String]>,
    ) -> Result<Matrix, String> {
        // Roles' rows read no time (a role's grants are not dated; people's assignments are).
        Matrix::build_in(doc, policy, resource, roles, (&[], 0), Lang::En)
    }

    /// [`Matrix::build`] with a row per person given, as they stand at the time given (Unix
    /// ms), and the policy's labels in `lang`.
    ///
    /// # Errors
    /// A message for an unknown resource or role.
    pub fn build_in(
        doc: &Value,
        policy: &Arc<Policy>,
        resource: &str,
        roles: Option<&[String]>,
        (people, at): (&[Person], i64),
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
            let s = policy.session(&subjects::role(policy, role));
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
            let s = policy.session_at(&person.subject(), at);
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
            actions: {
                let words = words::Labels::new(lang, doc, doc, []);
                actions
                    .iter()
                    .map(|a| Column {
                        name: a.to_string(),
                        label: Some(words.resource_action(resource, a)),
                    })
                    .collect()
            },
            rows,
            lang,
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
        labels.extend(
            self.actions
                .iter()
                .map(|a| a.label.clone().unwrap_or_else(|| a.name.clone())),
        );
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
                        .chain(cells.map(|c| c.why(self.lang)))
                        .collect(),
                );
            }
        }
        t
    }

    pub(super) fn cell(&self, role: &str, column: &str) -> Option<&Cell> {
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

/// The cells of one row: what `session` sees on `resource` with no record in view, with notes;
/// `role` is the row's role (its own grants are "set here"), `None` for a person.
pub(super) fn cells(
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
                let field = field_label(doc, resource, f);
                let zh = format!("{field}最多{}", words::answer(cap.as_str(), Lang::Zh));
                let effect = (format!("{f} at most {cap}"), zh);
                notes.push(rule_note(doc, &c.id, c.always, &effect));
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
pub(super) fn action_cell(doc: &Value, ex: &Explanation, role: Option<&str>) -> Cell {
    let mut notes = Vec::new();
    let giving: Vec<&GrantTrace> = ex
        .grants
        .iter()
        .filter(|g| g.applies && g.lists_action)
        .collect();
    for r in &ex.rules {
        if r.lists_action && (r.applies || r.conditional) {
            let zh = format!(
                "不允许{}",
                words::action_word(&ex.action, Lang::Zh).unwrap_or(&ex.action)
            );
            let effect = (format!("denies {}", ex.action), zh);
            notes.push(rule_note(doc, &r.id, r.applies, &effect));
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
                zh: format!("另有{}", scope_zh(s)),
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
pub(super) fn is_own(g: &GrantTrace, role: Option<&str>) -> bool {
    g.source == "role" && Some(g.name.as_str()) == role && !g.wildcard
}

/// Where a grant comes from, in notes.
pub(super) fn grant_notes(doc: &Value, g: &GrantTrace, role: Option<&str>) -> Vec<Note> {
    let mut notes = Vec::new();
    let note = |kind, name: &str, text: String, zh: String| Note {
        kind,
        name: name.to_string(),
        text,
        zh,
    };
    let role_zh = |r: &str| {
        words::label(doc.pointer(&format!("/roles/{}/label", key(r))), Lang::Zh)
            .unwrap_or_else(|| r.to_string())
    };
    match g.source {
        "template" => notes.push(note(
            "template",
            &g.name,
            format!("from template {}", g.name),
            format!("来自权限模板 {}", g.name),
        )),
        "role" if Some(g.name.as_str()) != role => notes.push(note(
            "role",
            &g.name,
            format!("from role {}", g.name),
            format!("来自角色 {}", role_zh(&g.name)),
        )),
        "user" => notes.push(note(
            "personal",
            &g.id,
            format!("personal grant {}", g.id),
            format!("个人授权 {}", g.id),
        )),
        _ => {}
    }
    if g.wildcard {
        notes.push(note(
            "wildcard",
            &g.id,
            "a grant on every resource (*)".into(),
            "对所有表单的授权（*）".into(),
        ));
    }
    if g.scope != Scope::All {
        let s = g.scope.as_str();
        let en = format!("{} records", s.replace('_', " "));
        notes.push(note("scope", s, en, scope_zh(s).into()));
    }
    if g.conditional {
        let when = grant_doc(doc, g)
            .and_then(|d| d.get("when")?.as_str())
            .unwrap_or("a condition");
        notes.push(note(
            "condition",
            when,
            format!("when {when}"),
            format!("当 {when} 时"),
        ));
    }
    notes
}

/// A scope's records in Chinese.
fn scope_zh(scope: &str) -> &'static str {
    match scope {
        "own" => "本人的记录",
        "subordinates" => "本人及下属的记录",
        "department" => "本部门的记录",
        "department_tree" => "本部门及下级部门的记录",
        "member" => "共享给本人的记录",
        "parent" => "随上级记录可见的记录",
        "org" => "本组织的记录",
        _ => "全部记录",
    }
}

/// A field's label in Chinese, else its name.
fn field_label(doc: &Value, resource: &str, field: &str) -> String {
    let at = format!("/resources/{}/fields/{}/label", key(resource), key(field));
    words::label(doc.pointer(&at), Lang::Zh).unwrap_or_else(|| field.to_string())
}

/// A rule that caps or denies, in words (`effect`: English and Chinese): its description when
/// it has one; a flow's own rule (`workflow:<resource>:…`) as the flow, by its name, which is
/// what the admin wrote.
pub(super) fn rule_note(doc: &Value, id: &str, always: bool, effect: &(String, String)) -> Note {
    let kind = if always { "rule" } else { "rule_when" };
    let label = |at: String, lang: Lang| words::label(doc.pointer(&at), lang);
    if let Some(resource) = id
        .strip_prefix("workflow:")
        .and_then(|r| r.split(':').next())
    {
        let at = format!("/resources/{}/workflow/label", key(resource));
        let en = label(at.clone(), Lang::En).unwrap_or_else(|| format!("of {resource}"));
        let zh = label(at, Lang::Zh).unwrap_or_else(|| resource.to_string());
        return Note {
            kind,
            name: id.to_string(),
            text: format!(
                "the approval flow {en} decides it (its states, steps and separation of duties)"
            ),
            zh: format!("由审批流程「{zh}」决定（状态、步骤和不相容规则）"),
        };
    }
    let rule = doc.get("rules").and_then(Value::as_array).and_then(|rs| {
        rs.iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    });
    let when = rule.and_then(|r| r.get("when")?.as_str());
    let described = rule.and_then(|r| r.get("description")?.as_str());
    let name_zh = rule
        .and_then(|r| words::label(r.get("label"), Lang::Zh))
        .unwrap_or_else(|| id.to_string());
    let (en, zh) = effect;
    Note {
        kind,
        name: id.to_string(),
        text: format!(
            "rule {id} {en}{}{}",
            when.map(|w| format!(" when {w}")).unwrap_or_default(),
            described.map(|d| format!(": {d}")).unwrap_or_default()
        ),
        zh: format!(
            "规则「{name_zh}」{}{zh}{}",
            when.map(|w| format!("在 {w} 时")).unwrap_or_default(),
            described.map(|d| format!("：{d}")).unwrap_or_default()
        ),
    }
}

/// A grant's JSON in the document.
pub(super) fn grant_doc<'d>(doc: &'d Value, g: &GrantTrace) -> Option<&'d Value> {
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
pub(super) fn mode_action<'a>(actions: &[&'a str], mode: Mode) -> Option<&'a str> {
    match mode.action() {
        Some(a) => actions.iter().find(|x| **x == a).copied(),
        None => actions
            .iter()
            .find(|x| **x == "view")
            .or_else(|| actions.iter().find(|x| Mode::of_action(x) == Mode::View))
            .copied(),
    }
}
