//! The compiler: a `fieldgate/1` JSON document to a [`Policy`], reporting every mistake with
//! its JSON path and a stable code.

use crate::core::condition::{self, Expr, SlotTable};
use crate::core::doc::{Children, Doc, Obj, Val};
use crate::core::error::{Code, PolicyError, PolicyErrors};
use crate::core::mask::Mask;
use crate::core::names::{Lazy, NameIndex, Named};
use crate::core::path::JsonPath;
use crate::core::policy::*;
use crate::core::state::FieldState;
use crate::core::subject::Subject;
use crate::prelude::*;

/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 8 * 1024 * 1024;

/// The format tag every document carries.
pub const FORMAT: &str = "fieldgate/1";

/// The highest version a policy may have: JavaScript numbers hold integers exactly up to here
/// (`Number.MAX_SAFE_INTEGER`), and the package compares versions as numbers.
pub const MAX_VERSION: u64 = (1 << 53) - 1;

/// Whether `name` is a usable app name: `[a-z0-9][a-z0-9-]{0,63}`. App names become file and
/// URL path segments, so nothing else is accepted.
// PANIC SAFETY: `b` is not empty (checked first)
#[allow(clippy::indexing_slicing)]
pub fn valid_app_name(name: &str) -> bool {
    let b = name.as_bytes();
    let ok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && b.len() <= 64 && ok(&b[0]) && b[1..].iter().all(|c| ok(c) || *c == b'-')
}

const TOP_KEYS: &[&str] = &[
    "format",
    "app",
    "version",
    "departments",
    "resources",
    "templates",
    "roles",
    "assignments",
    "rules",
    "issued_at",
    "expires_at",
    "subject",
    "person",
];
const GRANT_KEYS: &[&str] = &["resource", "actions", "scope", "depth", "when", "fields"];

/// Most levels of `parent` above a resource (a contact's customer's account's …).
const MAX_PARENT_LEVELS: usize = 4;
const DENY_KEYS: &[&str] = &["resource", "actions", "when"];
const LIMIT_KEYS: &[&str] = &["resource", "fields", "when"];
const RULE_KEYS: &[&str] = &[
    "id",
    "effect",
    "resource",
    "actions",
    "fields",
    "when",
    "except_roles",
    "description",
    "label",
];

impl Policy {
    /// Compiles a policy from JSON text.
    ///
    /// # Errors
    /// Every mistake in the document, each with its JSON path and code.
    pub fn from_json(text: &str) -> Result<Policy, PolicyErrors> {
        Policy::from_slice(text.as_bytes())
    }

    /// Compiles a policy from JSON bytes, refusing documents over [`MAX_POLICY_BYTES`].
    ///
    /// # Errors
    /// `too_large`, `bad_json`, `too_deep`, or every mistake in the document.
    pub fn from_slice(bytes: &[u8]) -> Result<Policy, PolicyErrors> {
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(single(
                Code::TooLarge,
                format!(
                    "policy is {} bytes; the limit is {MAX_POLICY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        let text = core::str::from_utf8(bytes).map_err(|e| {
            single(
                Code::BadJson,
                format!("not valid JSON: not UTF-8 at byte {}", e.valid_up_to()),
            )
        })?;
        // One flat arena with borrowed strings: a tree of separately allocated values (or
        // `serde_json::Value`) would take longer to build than the whole compile.
        let doc = Doc::parse(text).map_err(json_error)?;
        Compiler::default().compile(doc.root())
    }

    /// Compiles an already parsed document.
    ///
    /// # Errors
    /// Every mistake in the document, each with its JSON path and code.
    pub fn from_value(doc: &serde_json::Value) -> Result<Policy, PolicyErrors> {
        Policy::from_slice(doc.to_string().as_bytes())
    }
}

/// Maps a JSON syntax error to `bad_json` (or `too_deep` for nesting).
pub(crate) fn json_error(e: serde_json::Error) -> PolicyErrors {
    let text = e.to_string();
    if text.contains("recursion limit") {
        single(
            Code::TooDeep,
            "the document nests deeper than 128 levels".into(),
        )
    } else {
        single(Code::BadJson, format!("not valid JSON: {text}"))
    }
}

fn single(code: Code, message: String) -> PolicyErrors {
    PolicyErrors(vec![PolicyError {
        path: String::new(),
        code,
        message,
        position: None,
    }])
}

/// `*` or a list of action names, before they are resolved per resource.
enum ActionNames<'v> {
    All,
    Names(Vec<&'v str>),
}

/// `fields` of a grant or limit rule: per field name (`None` for `*`) a state.
type StateSpecs<'v> = Vec<(Option<&'v str>, FieldState)>;

#[derive(Default)]
struct Compiler {
    errors: Vec<PolicyError>,
    slots: SlotTable,
    departments: Vec<Department>,
    department_index: FxHashMap<String, u32>,
    resources: Vec<Resource>,
    resource_index: FxHashMap<String, u32>,
    /// Every action some resource declares (to check `*` grants), built on first use.
    action_universe: Option<FxHashSet<String>>,
    /// Every field some resource declares (to check `*` grants), built on first use.
    field_universe: Option<FxHashSet<String>>,
    role_index: FxHashMap<String, u32>,
    template_index: FxHashMap<String, u32>,
    grants: Vec<Grant>,
    rules: Vec<Rule>,
}

impl Compiler {
    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn compile(mut self, doc: Val<'_>) -> Result<Policy, PolicyErrors> {
        let root = JsonPath::ROOT;
        let Some(top) = self.object(doc, &root) else {
            return Err(PolicyErrors(self.errors));
        };
        self.known_keys(top, TOP_KEYS, &root);
        match self.required(top, "format", &root).map(|v| (v, v.as_str())) {
            Some((_, Some(FORMAT))) | None => {}
            Some((_, Some(f))) => {
                let msg = format!("format is `{f}`; this engine reads `{FORMAT}`");
                self.error(&root.key("format"), Code::BadFormat, msg);
            }
            Some((other, None)) => self.wrong_type(other, "a string", &root.key("format")),
        }
        let app = self
            .required(top, "app", &root)
            .and_then(|v| self.string(v, &root.key("app")));
        if let Some(a) = app.filter(|a| !valid_app_name(a)) {
            let msg = format!("app `{a}` is not a usable name: use [a-z0-9][a-z0-9-]{{0,63}}");
            self.error(&root.key("app"), Code::BadApp, msg);
        }
        let version = self
            .required(top, "version", &root)
            .and_then(|v| match v.as_u64() {
                Some(n) if n <= MAX_VERSION => Some(n),
                _ => {
                    let msg =
                        format!("version must be an integer from 0 to {MAX_VERSION}, not `{v}`");
                    self.error(&root.key("version"), Code::BadVersion, msg);
                    None
                }
            });
        let mut optional_text = |key: &str| -> Option<String> {
            let v = top.get(key)?;
            let p = root.key(key);
            self.string(v, &p).map(str::to_string)
        };
        let header = Header {
            app: app.unwrap_or_default().to_string(),
            version: version.unwrap_or_default(),
            issued_at: optional_text("issued_at"),
            expires_at: optional_text("expires_at"),
            subject: optional_text("subject"),
            person: None,
        };
        let header = Header {
            person: top
                .get("person")
                .and_then(|v| self.person(v, &root.key("person"))),
            ..header
        };

        self.departments(top.get("departments"), &root.key("departments"));
        self.resources(top.get("resources"), &root.key("resources"));

        let templates_path = root.key("templates");
        let template_entries = self.entries(top.get("templates"), &templates_path);
        let roles_path = root.key("roles");
        let role_entries = self.entries(top.get("roles"), &roles_path);
        self.template_index = index_of(&template_entries);
        self.role_index = index_of(&role_entries);

        let mut template_grants = Vec::new();
        for (i, (name, v)) in template_entries.iter().enumerate() {
            let path = templates_path.key(name);
            let ids = self.grant_list(Some(*v), &path, || Origin::Template(i as u32));
            template_grants.push(ids);
        }
        let roles = self.roles(&role_entries, &roles_path, &template_grants);
        let (users, department_roles, group_roles) =
            self.assignments(top.get("assignments"), &root.key("assignments"));
        let global_rules = self.rules(top.get("rules"), &root.key("rules"));

        if !self.errors.is_empty() {
            return Err(PolicyErrors(self.errors));
        }
        let department_index = NameIndex::build(self.departments.iter().map(|d| d.name.as_str()));
        let resource_index = NameIndex::build(self.resources.iter().map(|r| r.name.as_str()));
        let role_index = NameIndex::build(roles.iter().map(|r| r.name.as_str()));
        Ok(Policy {
            header,
            departments: self.departments,
            department_index,
            resources: self.resources,
            resource_index,
            roles,
            role_index,
            templates: template_entries
                .iter()
                .map(|(n, _)| n.to_string())
                .collect(),
            grants: self.grants,
            rules: self.rules,
            global_rules,
            users,
            department_roles,
            group_roles,
            slots: self.slots,
            roles_read: Lazy::default(),
        })
    }

    // ---- sections ----

    // PANIC SAFETY: parents are positions in the department list this pass built
    #[allow(clippy::indexing_slicing)]
    fn departments(&mut self, v: Option<Val<'_>>, path: &JsonPath) {
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

    fn resources(&mut self, v: Option<Val<'_>>, path: &JsonPath) {
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
                parent: None,
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
                        "parent",
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
                res.parent = m
                    .get("parent")
                    .and_then(|v| self.parent(v, &p.key("parent")));
            }
            self.resources.push(res);
        }
        self.parent_chains(&entries, path);
    }

    /// `person`: the subject a per-user bundle was made for, as the server resolved it (checked
    /// here, kept as its JSON text).
    fn person(&mut self, v: Val<'_>, path: &JsonPath) -> Option<String> {
        match Subject::read(v) {
            Ok(_) => serde_json::to_string(&v).ok(),
            Err(msg) => {
                self.error(path, Code::WrongType, msg);
                None
            }
        }
    }

    /// `"parent": {"resource": "customer", "via": "customer_id"}`.
    fn parent(&mut self, v: Val<'_>, path: &JsonPath) -> Option<ParentLink> {
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
    // PANIC SAFETY: parents are positions in the resource list this pass built
    #[allow(clippy::indexing_slicing)]
    fn parent_chains(&mut self, entries: &[(&str, Val<'_>)], path: &JsonPath) {
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
    fn field(&mut self, v: Val<'_>, path: &JsonPath) -> Option<Mask> {
        let m = self.object(v, path)?;
        self.known_keys(m, &["mask", "label"], path);
        self.label(m, path);
        let spec = self.string(m.get("mask")?, &path.key("mask"))?;
        spec.parse::<Mask>()
            .map_err(|msg| self.error(&path.key("mask"), Code::BadMask, msg))
            .ok()
    }

    /// A record attribute name (`owner`, `department`), interned as a record slot.
    fn attribute(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Option<u32> {
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

    // PANIC SAFETY: template and role positions come from the lists this pass built, `inherits` has
    // one entry per role. TRUNCATION: a policy has fewer than 2^32 of anything (its document is at
    // most 8 MiB)
    #[allow(clippy::cast_possible_truncation, clippy::indexing_slicing)]
    fn roles(
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
            if let Some(m) = self.object(*v, &p) {
                self.known_keys(m, &["inherits", "templates", "grants", "label"], &p);
                self.label(m, &p);
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
            ancestors.sort_unstable();
            roles[i].ancestors = ancestors;
        }
        roles
    }

    #[allow(clippy::type_complexity)]
    fn assignments(
        &mut self,
        v: Option<Val<'_>>,
        path: &JsonPath,
    ) -> (
        Named<UserAssignment>,
        FxHashMap<u32, Vec<u32>>,
        Named<Vec<u32>>,
    ) {
        let mut users = Vec::new();
        let mut department_roles = FxHashMap::default();
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
                a.roles = self.role_refs(um.get("roles"), &p.key("roles"));
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
            let roles = self.role_refs(Some(rv), &p);
            if let Some(d) = self.department_ref(dept, &p) {
                department_roles.insert(d, roles);
            }
        }
        let gp = path.key("groups");
        for (group, rv) in self.entries(m.get("groups"), &gp) {
            let roles = self.role_refs(Some(rv), &gp.key(group));
            group_roles.push((group.to_string(), roles));
        }
        (users.into(), department_roles, group_roles.into())
    }

    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn rules(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Vec<u32> {
        let mut ids: FxHashMap<String, usize> = FxHashMap::default();
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
            if let Some(id) = id {
                if let Some(first) = ids.insert(id.to_string(), i) {
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
                });
            }
        }
        out
    }

    // ---- grants and denies ----

    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn grant_list(
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

    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn grant(&mut self, v: Val<'_>, path: &JsonPath, origin: Origin, index: u32) -> Option<u32> {
        let m = self.object(v, path)?;
        self.known_keys(m, GRANT_KEYS, path);
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
        });
        Some(self.grants.len() as u32 - 1)
    }

    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn deny(&mut self, v: Val<'_>, path: &JsonPath) -> Option<u32> {
        let m = self.object(v, path)?;
        self.known_keys(m, DENY_KEYS, path);
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
        });
        Some(self.rules.len() as u32 - 1)
    }

    /// A personal limit: a limit rule for one user, its id its JSON path.
    // TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
    #[allow(clippy::cast_possible_truncation)]
    fn limit(&mut self, v: Val<'_>, path: &JsonPath) -> Option<u32> {
        let m = self.object(v, path)?;
        self.known_keys(m, LIMIT_KEYS, path);
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
        });
        Some(self.rules.len() as u32 - 1)
    }

    /// The shapes of a grant or rule over the resources it covers.
    // PANIC SAFETY: resource positions come from the resource list this pass built
    #[allow(clippy::indexing_slicing)]
    fn targets(&self, resource: Option<u32>, actions: ActionNames, fields: StateSpecs) -> Targets {
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

    // ---- references ----

    /// `resource`: `Some(None)` for `*`, `Some(Some(i))` for a known resource.
    fn resource_ref(&mut self, m: Obj<'_>, path: &JsonPath) -> Option<Option<u32>> {
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

    // PANIC SAFETY: resource positions come from the resource list this pass built
    #[allow(clippy::indexing_slicing)]
    fn action_names<'v>(
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
                .contains(a),
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

    // PANIC SAFETY: resource positions come from the resource list this pass built
    #[allow(clippy::indexing_slicing)]
    fn scope(
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
            other => {
                let msg = format!(
                    "scope `{other}` is not all, own, department, department_tree, \
                     subordinates, member or parent"
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
    fn depth(&mut self, v: Option<Val<'_>>, scope: Option<Scope>, path: &JsonPath) -> Option<u32> {
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

    // PANIC SAFETY: resource positions come from the resource list this pass built
    #[allow(clippy::indexing_slicing)]
    fn field_states<'v>(
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
                    .contains(name),
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

    fn condition(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Option<Expr> {
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

    fn role_refs(&mut self, v: Option<Val<'_>>, path: &JsonPath) -> Vec<u32> {
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

    fn department_ref(&mut self, name: &str, path: &JsonPath) -> Option<u32> {
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

    // ---- typed access ----

    fn error(&mut self, path: &JsonPath, code: Code, message: String) {
        self.errors.push(PolicyError {
            path: path.render(),
            code,
            message,
            position: None,
        });
    }

    fn wrong_type(&mut self, v: Val<'_>, expected: &str, path: &JsonPath) {
        let found = v.kind_name();
        self.error(
            path,
            Code::WrongType,
            format!("expected {expected}, found {found}"),
        );
    }

    fn object<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Option<Obj<'v>> {
        let m = v.as_object();
        if m.is_none() {
            self.wrong_type(v, "an object", path);
        }
        m
    }

    /// A `label` (for the tools, never decided on): a text, or texts by language tag
    /// (`{"zh-CN": "客户", "en": "Customer"}`).
    fn label(&mut self, m: Obj<'_>, path: &JsonPath) {
        let Some(l) = m.get("label") else { return };
        let p = path.key("label");
        match l.as_object() {
            Some(texts) => {
                for k in texts.keys() {
                    if let Some(t) = texts.get(k) {
                        self.string(t, &p.key(k));
                    }
                }
            }
            None => {
                self.string(l, &p);
            }
        }
    }

    fn string<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Option<&'v str> {
        let s = v.as_str();
        if s.is_none() {
            self.wrong_type(v, "a string", path);
        }
        s
    }

    /// The elements of an optional array (empty when absent or mistyped).
    fn array<'v>(&mut self, v: Option<Val<'v>>, path: &JsonPath) -> Children<'v> {
        let Some(v) = v else {
            return Children::default();
        };
        v.as_array().unwrap_or_else(|| {
            self.wrong_type(v, "an array", path);
            Children::default()
        })
    }

    /// The string elements of an array with their indexes; other elements are errors.
    fn strings<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Vec<(usize, &'v str)> {
        let mut out = Vec::new();
        for (i, item) in self.array(Some(v), path).enumerate() {
            if let Some(s) = self.string(item, &path.index(i)) {
                out.push((i, s));
            }
        }
        out
    }

    /// The members of an optional object (empty when absent or mistyped); a key given twice is
    /// an error (`duplicate`), and only its first value counts.
    fn entries<'v>(&mut self, v: Option<Val<'v>>, path: &JsonPath) -> Vec<(&'v str, Val<'v>)> {
        let Some(m) = v.and_then(|v| self.object(v, path)) else {
            return Vec::new();
        };
        // Small objects are checked for repeated keys by a scan, large ones through a set.
        let large = m.len() > 16;
        let mut seen = FxHashSet::with_capacity_and_hasher(
            if large { m.len() } else { 0 },
            Default::default(),
        );
        let mut out: Vec<(&str, Val<'_>)> = Vec::with_capacity(m.len());
        for (k, v) in m.iter() {
            let new = if large {
                seen.insert(k)
            } else {
                !out.iter().any(|(o, _)| *o == k)
            };
            if new {
                out.push((k, v));
            } else {
                self.error(
                    &path.key(k),
                    Code::Duplicate,
                    format!("key `{k}` appears twice"),
                );
            }
        }
        out
    }

    fn required<'v>(&mut self, m: Obj<'v>, key: &str, path: &JsonPath) -> Option<Val<'v>> {
        let v = m.get(key);
        if v.is_none() {
            self.error(path, Code::MissingKey, format!("`{key}` is required"));
        }
        v
    }

    fn known_keys(&mut self, m: Obj<'_>, allowed: &[&str], path: &JsonPath) {
        for (i, key) in m.keys().enumerate() {
            if m.keys().take(i).any(|k| k == key) {
                self.error(
                    &path.key(key),
                    Code::Duplicate,
                    format!("key `{key}` appears twice"),
                );
            } else if !allowed.contains(&key) && !key.starts_with("x-") {
                let msg = format!("unknown key `{key}` (extensions start with `x-`)");
                self.error(&path.key(key), Code::UnknownKey, msg);
            }
        }
    }

    fn not_for(&mut self, m: Obj<'_>, key: &str, effect: &str, path: &JsonPath) {
        if m.contains_key(key) {
            let msg = format!("`{key}` belongs to {effect} rules");
            self.error(&path.key(key), Code::UnknownKey, msg);
        }
    }
}

/// A set of names, built on first use (only `*` grants and rules need one).
fn lazy_set<'c, 'n>(
    cache: &'c mut Option<FxHashSet<String>>,
    names: impl Iterator<Item = &'n str>,
) -> &'c FxHashSet<String> {
    cache.get_or_insert_with(|| names.map(str::to_string).collect())
}

// TRUNCATION: a policy has fewer than 2^32 of anything (its document is at most 8 MiB)
#[allow(clippy::cast_possible_truncation)]
fn index_of(entries: &[(&str, Val<'_>)]) -> FxHashMap<String, u32> {
    entries
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.to_string(), i as u32))
        .collect()
}

fn dedup_keep_order(v: &mut Vec<u32>) {
    let mut seen = FxHashSet::default();
    v.retain(|x| seen.insert(*x));
}
