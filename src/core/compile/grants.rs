//! Grants, denies and limits, and the references they make: resources, actions, scopes, field
//! states, conditions, roles and departments.

use super::*;

impl Compiler {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn grant_list(
        &mut self,
        v: Option<Val<'_>>,
        path: &JsonPath,
        origin: impl Fn() -> Origin,
    ) -> Vec<u32> {
        let mut ids = Vec::new();
        for (i, g) in self.array(v, path).enumerate() {
            if let Some(id) = self.grant(g, &path.index(i), origin(), i as u32) {
                ids.push(id);
            }
        }
        ids
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn grant(
        &mut self,
        v: Val<'_>,
        path: &JsonPath,
        origin: Origin,
        index: u32,
    ) -> Option<u32> {
        let m = self.object(v, path)?;
        // Only a person's own grants carry dates; a role's last as long as the role is held.
        let personal = matches!(origin, Origin::User(_));
        self.known_keys(
            m,
            if personal {
                PERSONAL_GRANT_KEYS
            } else {
                GRANT_KEYS
            },
            path,
        );
        let window = if personal { self.window(m, path) } else { None };
        let resource = self.resource_ref(m, path);
        let actions = self.action_names(m, resource, path);
        let scope = self.scope(m.get("scope"), resource, &path.key("scope"));
        let depth = self.depth(m.get("depth"), scope, &path.key("depth"));
        let when = self.condition(m.get("when"), &path.key("when"));
        let fields = match m.get("fields") {
            Some(f) => self.field_states(f, resource, &path.key("fields")),
            None => Vec::new(),
        };
        let (resource, actions, scope) = (resource?, actions?, scope?);
        let targets = self.targets(resource, actions, fields);
        self.grants.push(Grant {
            origin,
            index,
            targets,
            scope,
            depth,
            when,
            window,
        });
        Some(self.grants.len() as u32 - 1)
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn deny(&mut self, v: Val<'_>, path: &JsonPath) -> Option<u32> {
        let m = self.object(v, path)?;
        self.known_keys(m, DENY_KEYS, path);
        let window = self.window(m, path);
        let resource = self.resource_ref(m, path);
        let actions = self.action_names(m, resource, path);
        let when = self.condition(m.get("when"), &path.key("when"));
        let (resource, actions) = (resource?, actions?);
        let targets = self.targets(resource, actions, Vec::new());
        let id = path.render();
        self.rules.push(Rule {
            id,
            effect: Effect::Deny,
            targets,
            when,
            except_roles: Vec::new(),
            window,
        });
        Some(self.rules.len() as u32 - 1)
    }

    /// A personal limit: a limit rule for one user, its id its JSON path.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn limit(&mut self, v: Val<'_>, path: &JsonPath) -> Option<u32> {
        let m = self.object(v, path)?;
        self.known_keys(m, LIMIT_KEYS, path);
        let window = self.window(m, path);
        let resource = self.resource_ref(m, path);
        let fields = self
            .required(m, "fields", path)
            .map(|f| self.field_states(f, resource, &path.key("fields")));
        let when = self.condition(m.get("when"), &path.key("when"));
        let targets = self.targets(resource?, ActionNames::Names(Vec::new()), fields?);
        self.rules.push(Rule {
            id: path.render(),
            effect: Effect::Limit,
            targets,
            when,
            except_roles: Vec::new(),
            window,
        });
        Some(self.rules.len() as u32 - 1)
    }

    /// The shapes of a grant or rule over the resources it covers.
    #[expect(
        clippy::indexing_slicing,
        reason = "resource positions come from the resource list this pass built"
    )]
    pub(super) fn targets(
        &self,
        resource: Option<u32>,
        actions: ActionNames,
        fields: StateSpecs,
    ) -> Targets {
        let actions = match actions {
            ActionNames::All => None,
            ActionNames::Names(names) => Some(names),
        };
        let pattern = Pattern { actions, fields };
        match resource {
            Some(r) => Targets::One(r, pattern.shape(&self.resources[r as usize])),
            None => Targets::All(pattern.owned()),
        }
    }

    /// `resource`: `Some(None)` for `*`, `Some(Some(i))` for a known resource.
    pub(super) fn resource_ref(&mut self, m: Obj<'_>, path: &JsonPath) -> Option<Option<u32>> {
        let p = path.key("resource");
        let name = self
            .required(m, "resource", path)
            .and_then(|v| self.string(v, &p))?;
        if name == "*" {
            return Some(None);
        }
        match self.resource_index.get(name) {
            Some(&i) => Some(Some(i)),
            None => {
                self.error(&p, Code::UnknownResource, format!("no resource `{name}`"));
                None
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "resource positions come from the resource list this pass built"
    )]
    pub(super) fn action_names<'v>(
        &mut self,
        m: Obj<'v>,
        resource: Option<Option<u32>>,
        path: &JsonPath,
    ) -> Option<ActionNames<'v>> {
        let p = path.key("actions");
        let list = self.required(m, "actions", path)?;
        let mut names = Vec::new();
        let mut all = false;
        for (i, a) in self.strings(list, &p) {
            if a == "*" {
                all = true;
                continue;
            }
            let declared = match resource {
                Some(Some(r)) => self.resources[r as usize].actions.iter().any(|x| x == a),
                _ => lazy_set(
                    &mut self.action_universe,
                    self.resources
                        .iter()
                        .flat_map(|r| r.actions.iter().map(String::as_str)),
                )
                .contains_key(a),
            };
            if declared || resource.is_none() {
                names.push(a);
            } else {
                let on = match resource {
                    Some(Some(r)) => format!("resource `{}`", self.resources[r as usize].name),
                    _ => "any resource".to_string(),
                };
                let msg = format!("action `{a}` is not declared by {on}");
                self.error(&p.index(i), Code::UnknownAction, msg);
            }
        }
        Some(if all {
            ActionNames::All
        } else {
            ActionNames::Names(names)
        })
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "resource positions come from the resource list this pass built"
    )]
    pub(super) fn scope(
        &mut self,
        v: Option<Val<'_>>,
        resource: Option<Option<u32>>,
        path: &JsonPath,
    ) -> Option<Scope> {
        let Some(v) = v else { return Some(Scope::All) };
        let text = self.string(v, path)?;
        let scope = match text {
            "all" => Scope::All,
            "own" => Scope::Own,
            "department" => Scope::Department,
            "department_tree" => Scope::DepartmentTree,
            "subordinates" => Scope::Subordinates,
            "member" => Scope::Member,
            "parent" => Scope::Parent,
            "org" => Scope::Org,
            other => {
                let msg = format!(
                    "scope `{other}` is not all, own, department, department_tree, \
                     subordinates, member, parent or org"
                );
                self.error(path, Code::BadScope, msg);
                return None;
            }
        };
        if let Some(Some(r)) = resource {
            let res = &self.resources[r as usize];
            let name = res.name.clone();
            match scope {
                Scope::Own | Scope::Subordinates if res.owner.is_none() => {
                    let msg = format!("scope `{text}` needs resource `{name}` to declare `owner`");
                    self.error(path, Code::ScopeNeedsOwner, msg);
                }
                Scope::Member if res.members.is_none() => {
                    let msg =
                        format!("scope `member` needs resource `{name}` to declare `members`");
                    self.error(path, Code::ScopeNeedsMembers, msg);
                }
                Scope::Parent if res.parent.is_none() => {
                    let msg = format!("scope `parent` needs resource `{name}` to declare `parent`");
                    self.error(path, Code::ScopeNeedsParent, msg);
                }
                Scope::Org if res.org.is_none() => {
                    let msg = format!("scope `org` needs resource `{name}` to declare `org`");
                    self.error(path, Code::ScopeNeedsOrg, msg);
                }
                Scope::Department | Scope::DepartmentTree if res.department.is_none() => {
                    let msg =
                        format!("scope `{text}` needs resource `{name}` to declare `department`");
                    self.error(path, Code::ScopeNeedsDepartment, msg);
                }
                _ => {}
            }
        }
        Some(scope)
    }

    /// A grant's `depth`: how far down the reporting line a `subordinates` scope reaches.
    pub(super) fn depth(
        &mut self,
        v: Option<Val<'_>>,
        scope: Option<Scope>,
        path: &JsonPath,
    ) -> Option<u32> {
        let v = v?;
        if scope.is_some_and(|s| s != Scope::Subordinates) {
            let msg = "`depth` goes only with scope `subordinates`".to_string();
            self.error(path, Code::BadScope, msg);
            return None;
        }
        match v.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n >= 1 => Some(n),
            _ => {
                let msg = format!("`depth` must be a whole number from 1, not `{v}`");
                self.error(path, Code::BadScope, msg);
                None
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "resource positions come from the resource list this pass built"
    )]
    pub(super) fn field_states<'v>(
        &mut self,
        v: Val<'v>,
        resource: Option<Option<u32>>,
        path: &JsonPath,
    ) -> StateSpecs<'v> {
        let mut out = Vec::new();
        for (name, sv) in self.entries(Some(v), path) {
            let p = path.key(name);
            let known = name == "*"
                || match resource {
                    Some(Some(r)) => self.resources[r as usize].field_pos(name).is_some(),
                    _ => lazy_set(
                        &mut self.field_universe,
                        self.resources.iter().flat_map(|r| r.fields.names()),
                    )
                    .contains_key(name),
                };
            if !known && resource.is_some() {
                let on = match resource {
                    Some(Some(r)) => format!("resource `{}`", self.resources[r as usize].name),
                    _ => "any resource".to_string(),
                };
                self.error(
                    &p,
                    Code::UnknownField,
                    format!("field `{name}` is not declared by {on}"),
                );
            }
            let Some(text) = self.string(sv, &p) else {
                continue;
            };
            match text.parse::<FieldState>() {
                Ok(s) => out.push(((name != "*").then_some(name), s)),
                Err(()) => {
                    let msg = format!("state `{text}` is not hidden, masked, readonly or editable");
                    self.error(&p, Code::BadState, msg);
                }
            }
        }
        out
    }

    pub(super) fn condition(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Option<Expr> {
        let text = self.string(v?, path)?;
        match condition::parse(text, &mut self.slots) {
            Ok(e) => Some(e),
            Err(e) => {
                self.errors.push(PolicyError {
                    path: path.render(),
                    code: e.code,
                    message: format!("{} at character {}", e.message, e.position),
                    position: Some(e.position),
                });
                None
            }
        }
    }

    pub(super) fn role_refs(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Vec<u32> {
        let Some(v) = v else { return Vec::new() };
        let mut out = Vec::new();
        for (i, name) in self.strings(v, path) {
            match self.role_index.get(name) {
                Some(&r) if !out.contains(&r) => out.push(r),
                Some(_) => {}
                None => self.error(
                    &path.index(i),
                    Code::UnknownRole,
                    format!("no role `{name}`"),
                ),
            }
        }
        out
    }

    /// Roles given by an assignment: names, or `{"role", "from"?, "until"?}` for a while.
    pub(super) fn role_entries(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Vec<RoleEntry> {
        let mut out = Vec::new();
        for (i, item) in self.array(v, path).enumerate() {
            let p = path.index(i);
            let (name, window, at) = match item.as_object() {
                Some(m) => {
                    self.known_keys(m, &["role", "from", "until"], &p);
                    let window = self.window(m, &p);
                    let role = self.required(m, "role", &p);
                    let name = role.and_then(|r| self.string(r, &p.key("role")));
                    (name, window, p.key("role"))
                }
                None => (self.string(item, &p), None, p),
            };
            let Some(name) = name else { continue };
            match self.role_index.get(name) {
                // Kept in document order, repeats too: an entry's position is its path.
                Some(&role) => out.push(RoleEntry { role, window }),
                None => self.error(&at, Code::UnknownRole, format!("no role `{name}`")),
            }
        }
        out
    }

    /// An entry's dates: `from` and `until`, RFC 3339 with an offset, `until` not before
    /// `from` (`bad_window`). `None` when neither is given (or either is wrong).
    pub(super) fn window(&mut self, m: Obj<'_>, path: &JsonPath) -> Option<Window> {
        let mut bound = |key: &str| -> Result<Option<i64>, ()> {
            let Some(v) = m.get(key) else { return Ok(None) };
            let p = path.key(key);
            let text = self.string(v, &p).ok_or(())?;
            match crate::core::time::parse_rfc3339(text) {
                Some(ms) => Ok(Some(ms)),
                None => {
                    let msg = format!(
                        "`{text}` is not an RFC 3339 time with an offset (2027-01-31T23:59:59+08:00)"
                    );
                    self.error(&p, Code::BadWindow, msg);
                    Err(())
                }
            }
        };
        let (from, until) = (bound("from"), bound("until"));
        let (Ok(from), Ok(until)) = (from, until) else {
            return None;
        };
        if let (Some(f), Some(u)) = (from, until) {
            if u < f {
                let msg = "`until` is before `from`: the entry would never exist".to_string();
                self.error(&path.key("until"), Code::BadWindow, msg);
                return None;
            }
        }
        (from.is_some() || until.is_some()).then_some(Window { from, until })
    }

    pub(super) fn department_ref(&mut self, name: &str, path: &JsonPath) -> Option<u32> {
        let found = self.department_index.get(name).copied();
        if found.is_none() {
            self.error(
                path,
                Code::UnknownDepartment,
                format!("no department `{name}`"),
            );
        }
        found
    }
}
