//! The compiler: a `fieldgate/1` JSON document to a [`Policy`], reporting every mistake with
//! its JSON path and a stable code.

mod grants;
mod sections;
mod typed;
mod workflow;

use crate::core::condition::{self, Expr, SlotTable};
use crate::core::doc::{Children, Doc, Obj, Val};
use crate::core::error::{Code, PolicyError, PolicyErrors};
use crate::core::mask::Mask;
use crate::core::names::{Lazy, NameIndex, Named};
use crate::core::path::JsonPath;
use crate::core::policy::*;
use crate::core::state::FieldState;
use crate::core::subject::Subject;
use crate::core::window::{RoleEntry, Window};
use crate::prelude::*;

/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 8 * 1024 * 1024;

/// The format tag every document carries.
pub const FORMAT: &str = "fieldgate/1";

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
/// A personal grant's keys: a grant's, and its dates.
const PERSONAL_GRANT_KEYS: &[&str] = &[
    "resource", "actions", "scope", "depth", "when", "fields", "from", "until",
];
const DENY_KEYS: &[&str] = &["resource", "actions", "when", "from", "until"];
const LIMIT_KEYS: &[&str] = &["resource", "fields", "when", "from", "until"];
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
    action_universe: Option<NameSet>,
    /// Every field some resource declares (to check `*` grants), built on first use.
    field_universe: Option<NameSet>,
    role_index: FxHashMap<String, u32>,
    template_index: FxHashMap<String, u32>,
    grants: Vec<Grant>,
    rules: Vec<Rule>,
}

impl Compiler {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
    )]
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
        let flow_rules = self.flow_rules();

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
            flow_rules,
            users,
            department_roles,
            group_roles,
            slots: self.slots,
            roles_read: Lazy::default(),
        })
    }
}

/// A set of names, as the compiler's name maps (one map type in the browser's module, not one
/// per key and value type: each costs its own copy of the table code).
type NameSet = FxHashMap<String, u32>;

/// A set of names, built on first use (only `*` grants and rules need one).
fn lazy_set<'c, 'n>(
    cache: &'c mut Option<NameSet>,
    names: impl Iterator<Item = &'n str>,
) -> &'c NameSet {
    cache.get_or_insert_with(|| names.map(|n| (n.to_string(), 0)).collect())
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "a policy has fewer than 2^32 of anything (its document is at most 8 MiB)"
)]
fn index_of(entries: &[(&str, Val<'_>)]) -> FxHashMap<String, u32> {
    entries
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (n.to_string(), i as u32))
        .collect()
}

fn dedup_keep_order(v: &mut Vec<u32>) {
    // Keyed as the name index is (one map type fewer in the browser's module).
    let mut seen: FxHashMap<u64, u32> = FxHashMap::default();
    v.retain(|x| seen.insert(u64::from(*x), 0).is_none());
}
