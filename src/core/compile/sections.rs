//! The document's sections: departments, resources (fields, attributes, parents), roles,
//! assignments and rules.

use super::*;

impl Compiler {
    #[expect(
        clippy::indexing_slicing,
        reason = "parents are positions in the department list this pass built"
    )]
    pub(super) fn departments(&mut self, v: Option<Val<'_>>, path: &JsonPath) {
        let entries = self.entries(v, path);
        self.department_index = index_of(&entries);
        for (name, v) in &entries {
            let p = path.key(name);
            let parent = self.object(*v, &p).and_then(|m| {
                self.known_keys(m, &["parent", "label"], &p);
                self.label(m, &p);
                let pp = p.key("parent");
                let parent = self.string(m.get("parent")?, &pp)?;
                self.department_ref(parent, &pp)
            });
            self.departments.push(Department {
                name: name.to_string(),
                parent,
            });
        }
        for (i, (name, _)) in entries.iter().enumerate() {
            let mut at = self.departments[i].parent;
            for _ in 0..=entries.len() {
                match at {
                    Some(j) if j as usize == i => {
                        let msg = format!("department `{name}` is its own ancestor");
                        self.error(&path.key(name).key("parent"), Code::DepartmentCycle, msg);
                        break;
                    }
                    Some(j) => at = self.departments[j as usize].parent,
                    None => break,
                }
            }
        }
    }

    pub(super) fn resources(&mut self, v: Option<Val<'_>>, path: &JsonPath) {
        let entries = self.entries(v, path);
        self.resource_index = index_of(&entries);
        for (name, v) in &entries {
            let p = path.key(name);
            let mut res = Resource {
                name: name.to_string(),
                actions: Vec::new(),
                fields: Fields::default(),
                field_index: NameIndex::default(),
                owner: None,
                department: None,
                members: None,
                org: None,
                parent: None,
                workflow: None,
            };
            if let Some(m) = self.object(*v, &p) {
                self.known_keys(
                    m,
                    &[
                        "actions",
                        "fields",
                        "owner",
                        "department",
                        "members",
                        "org",
                        "parent",
                        "workflow",
                        "label",
                    ],
                    &p,
                );
                self.label(m, &p);
                let ap = p.key("actions");
                if let Some(actions) = self.required(m, "actions", &p) {
                    for (i, a) in self.strings(actions, &ap) {
                        if res.actions.iter().any(|x| x == a) {
                            self.error(
                                &ap.index(i),
                                Code::Duplicate,
                                format!("action `{a}` is listed twice"),
                            );
                        } else {
                            res.actions.push(a.to_string());
                        }
                    }
                    if res.actions.len() > MAX_ACTIONS {
                        let msg = format!("a resource may declare at most {MAX_ACTIONS} actions");
                        self.error(&ap, Code::TooManyActions, msg);
                    }
                }
                let fp = p.key("fields");
                let fields = self.entries(m.get("fields"), &fp);
                for (fname, fv) in &fields {
                    let mask = self.field(*fv, &fp.key(fname));
                    res.fields.push(fname, mask);
                }
                res.field_index = NameIndex::build(fields.iter().map(|(n, _)| *n));
                res.owner = self.attribute(m.get("owner"), &p.key("owner"));
                res.department = self.attribute(m.get("department"), &p.key("department"));
                res.members = self.attribute(m.get("members"), &p.key("members"));
                res.org = self.attribute(m.get("org"), &p.key("org"));
                res.parent = m
                    .get("parent")
                    .and_then(|v| self.parent(v, &p.key("parent")));
                if let Some(w) = m.get("workflow") {
                    res.workflow = self.workflow(w, &mut res, &p.key("workflow"));
                }
            }
            self.resources.push(res);
        }
        self.parent_chains(&entries, path);
    }

    /// `person`: the subject a per-user bundle was made for, as the server resolved it (checked
    /// here, kept as its JSON text).
    pub(super) fn person(&mut self, v: Val<'_>, path: &JsonPath) -> Option<String> {
        match Subject::read(v) {
            Ok(_) => serde_json::to_string(&v).ok(),
            Err(msg) => {
                self.error(path, Code::WrongType, msg);
                None
            }
        }
    }

    /// `"parent": {"resource": "customer", "via": "customer_id"}`.
    pub(super) fn parent(&mut self, v: Val<'_>, path: &JsonPath) -> Option<ParentLink> {
        let m = self.object(v, path)?;
        self.known_keys(m, &["resource", "via"], path);
        let rp = path.key("resource");
        let name = self
            .required(m, "resource", path)
            .and_then(|r| self.string(r, &rp));
        let via = self.required(m, "via", path);
        let via = via.and_then(|v| self.attribute(Some(v), &path.key("via")));
        let name = name?;
        let Some(&resource) = self.resource_index.get(name) else {
            self.error(&rp, Code::UnknownResource, format!("no resource `{name}`"));
            return None;
        };
        let via = self.slots.record.get(via? as usize)?.dotted();
        let slot = condition::intern(&mut self.slots.record, &[name.to_string()]);
        Some(ParentLink {
            resource,
            slot,
            via,
        })
    }

    /// Refuses parents that lead back to the resource or climb more than
    /// [`MAX_PARENT_LEVELS`] levels.
    #[expect(
        clippy::indexing_slicing,
        reason = "parents are positions in the resource list this pass built"
    )]
    pub(super) fn parent_chains(&mut self, entries: &[(&str, Val<'_>)], path: &JsonPath) {
        for (i, (name, _)) in entries.iter().enumerate() {
            let mut at = self.resources[i].parent.as_ref().map(|l| l.resource);
            let mut levels = 0;
            let holder = path.key(name);
            let p = holder.key("parent");
            while let Some(j) = at {
                levels += 1;
                if j as usize == i {
                    let msg = format!("resource `{name}` is its own parent record's ancestor");
                    self.error(&p, Code::ParentCycle, msg);
                    break;
                }
                if levels > MAX_PARENT_LEVELS {
                    let msg = format!(
                        "resource `{name}` has more than {MAX_PARENT_LEVELS} levels of parents"
                    );
                    self.error(&p, Code::ParentCycle, msg);
                    break;
                }
                at = self.resources[j as usize]
                    .parent
                    .as_ref()
                    .map(|l| l.resource);
            }
        }
    }

    /// A field's declaration: checks it, returns its mask (its `label` is for the tools that
    /// read the document, such as matrix export).
    pub(super) fn field(&mut self, v: Val<'_>, path: &JsonPath) -> Option<Mask> {
        let m = self.object(v, path)?;
        self.known_keys(m, &["mask", "label"], path);
        self.label(m, path);
        let spec = self.string(m.get("mask")?, &path.key("mask"))?;
        spec.parse::<Mask>()
            .map_err(|msg| self.error(&path.key("mask"), Code::BadMask, msg))
            .ok()
    }

    /// A record attribute name (`owner`, `department`), interned as a record slot.
    pub(super) fn attribute(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Option<u32> {
        let name = self.string(v?, path)?;
        let keys: Vec<String> = name.split('.').map(str::to_string).collect();
        if keys.iter().any(String::is_empty) {
            self.error(
                path,
                Code::BadName,
                format!("`{name}` is not an attribute name"),
            );
            return None;
        }
        Some(condition::intern(&mut self.slots.record, &keys))
    }

    #[expect(
        clippy::cast_possible_truncation,
        clippy::indexing_slicing,
        reason = "template and role positions come from the lists this pass built, `inherits` has one entry per role; narrowing: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn roles(
        &mut self,
        entries: &[(&str, Val<'_>)],
        path: &JsonPath,
        template_grants: &[Vec<u32>],
    ) -> Vec<Role> {
        let mut inherits: Vec<Vec<u32>> = Vec::new();
        let mut roles = Vec::new();
        for (i, (name, v)) in entries.iter().enumerate() {
            let p = path.key(name);
            let mut parents = Vec::new();
            let mut grants = Vec::new();
            let mut external = false;
            if let Some(m) = self.object(*v, &p) {
                self.known_keys(
                    m,
                    &["inherits", "templates", "grants", "label", "external"],
                    &p,
                );
                self.label(m, &p);
                if let Some(x) = m.get("external") {
                    match x.as_bool() {
                        Some(b) => external = b,
                        None => self.wrong_type(x, "true or false", &p.key("external")),
                    }
                }
                parents = self.role_refs(m.get("inherits"), &p.key("inherits"));
                let tp = p.key("templates");
                for (j, t) in m
                    .get("templates")
                    .map(|t| self.strings(t, &tp))
                    .unwrap_or_default()
                {
                    match self.template_index.get(t) {
                        Some(&ti) => grants.extend(&template_grants[ti as usize]),
                        None => self.error(
                            &tp.index(j),
                            Code::UnknownTemplate,
                            format!("no template `{t}`"),
                        ),
                    }
                }
                let own =
                    self.grant_list(m.get("grants"), &p.key("grants"), || Origin::Role(i as u32));
                grants.splice(0..0, own);
            }
            dedup_keep_order(&mut grants);
            inherits.push(parents);
            roles.push(Role {
                name: name.to_string(),
                ancestors: Vec::new(),
                grants,
                external,
            });
        }
        for (i, (name, _)) in entries.iter().enumerate() {
            let mut ancestors = Vec::new();
            let mut stack = inherits[i].clone();
            while let Some(r) = stack.pop() {
                if r as usize == i {
                    let msg = format!("role `{name}` inherits from itself");
                    self.error(&path.key(name).key("inherits"), Code::RoleCycle, msg);
                    break;
                }
                if !ancestors.contains(&r) {
                    ancestors.push(r);
                    stack.extend(&inherits[r as usize]);
                }
            }
            sort_ids(&mut ancestors);
            roles[i].ancestors = ancestors;
        }
        roles
    }

    #[expect(
        clippy::type_complexity,
        reason = "the three tables one section fills: users, then department and group roles"
    )]
    pub(super) fn assignments(
        &mut self,
        v: Option<Val<'_>>,
        path: &JsonPath,
    ) -> (
        Named<UserAssignment>,
        Vec<(u32, Vec<RoleEntry>)>,
        Named<Vec<RoleEntry>>,
    ) {
        let mut users = Vec::new();
        let mut department_roles = Vec::new();
        let mut group_roles = Vec::new();
        let Some(m) = v.and_then(|v| self.object(v, path)) else {
            return (Named::default(), department_roles, Named::default());
        };
        self.known_keys(m, &["users", "departments", "groups"], path);
        let up = path.key("users");
        for (id, uv) in self.entries(m.get("users"), &up) {
            let p = up.key(id);
            let mut a = UserAssignment::default();
            if let Some(um) = self.object(uv, &p) {
                self.known_keys(um, &["roles", "grants", "denies", "limits"], &p);
                a.roles = self.role_entries(um.get("roles"), &p.key("roles"));
                a.grants = self.grant_list(um.get("grants"), &p.key("grants"), || {
                    Origin::User(id.to_string())
                });
                let dp = p.key("denies");
                for (i, d) in self.array(um.get("denies"), &dp).enumerate() {
                    if let Some(r) = self.deny(d, &dp.index(i)) {
                        a.rules.push(r);
                    }
                }
                let lp = p.key("limits");
                for (i, l) in self.array(um.get("limits"), &lp).enumerate() {
                    if let Some(r) = self.limit(l, &lp.index(i)) {
                        a.rules.push(r);
                    }
                }
            }
            users.push((id.to_string(), a));
        }
        let dp = path.key("departments");
        for (dept, rv) in self.entries(m.get("departments"), &dp) {
            let p = dp.key(dept);
            let roles = self.role_entries(Some(rv), &p);
            if let Some(d) = self.department_ref(dept, &p) {
                department_roles.push((d, roles));
            }
        }
        let gp = path.key("groups");
        for (group, rv) in self.entries(m.get("groups"), &gp) {
            let roles = self.role_entries(Some(rv), &gp.key(group));
            group_roles.push((group.to_string(), roles));
        }
        (users.into(), department_roles, group_roles.into())
    }

    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
    pub(super) fn rules(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Vec<u32> {
        let mut ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut out = Vec::new();
        for (i, rv) in self.array(v, path).enumerate() {
            let p = path.index(i);
            let Some(m) = self.object(rv, &p) else {
                continue;
            };
            self.known_keys(m, RULE_KEYS, &p);
            self.label(m, &p);
            let id = self
                .required(m, "id", &p)
                .and_then(|v| self.string(v, &p.key("id")));
            if id.is_some_and(|id| id.starts_with(workflow::FLOW_RULE_PREFIX)) {
                let msg = format!(
                    "rule ids starting `{}` are the flows' own",
                    workflow::FLOW_RULE_PREFIX
                );
                self.error(&p.key("id"), Code::DuplicateRuleId, msg);
            }
            if let Some(id) = id {
                if let Some(first) = ids.insert(id.to_string(), i as u32) {
                    let msg = format!("rule id `{id}` is already used by rules[{first}]");
                    self.error(&p.key("id"), Code::DuplicateRuleId, msg);
                }
            }
            let effect = match self.required(m, "effect", &p).map(|v| (v, v.as_str())) {
                Some((_, Some("deny"))) => Some(Effect::Deny),
                Some((_, Some("limit"))) => Some(Effect::Limit),
                Some((_, Some(e))) => {
                    self.error(
                        &p.key("effect"),
                        Code::BadEffect,
                        format!("effect `{e}` is not deny or limit"),
                    );
                    None
                }
                Some((other, None)) => {
                    self.wrong_type(other, "a string", &p.key("effect"));
                    None
                }
                None => None,
            };
            let resource = self.resource_ref(m, &p);
            let (actions, fields) = match effect {
                Some(Effect::Deny) => {
                    self.not_for(m, "fields", "limit", &p);
                    (self.action_names(m, resource, &p), Vec::new())
                }
                Some(Effect::Limit) => {
                    self.not_for(m, "actions", "deny", &p);
                    let fields = match self.required(m, "fields", &p) {
                        Some(f) => self.field_states(f, resource, &p.key("fields")),
                        None => Vec::new(),
                    };
                    (Some(ActionNames::Names(Vec::new())), fields)
                }
                None => (None, Vec::new()),
            };
            let when = self.condition(m.get("when"), &p.key("when"));
            let except_roles = self.role_refs(m.get("except_roles"), &p.key("except_roles"));
            if let (Some(id), Some(effect), Some(resource), Some(actions)) =
                (id, effect, resource, actions)
            {
                let targets = self.targets(resource, actions, fields);
                out.push(self.rules.len() as u32);
                self.rules.push(Rule {
                    id: id.to_string(),
                    effect,
                    targets,
                    when,
                    except_roles,
                    window: None,
                });
            }
        }
        out
    }
}
