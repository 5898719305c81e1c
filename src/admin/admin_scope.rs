//! What a restricted administrator (分级管理员) may change, and the parts of a change that lie
//! outside it. A restricted admin changes only the role assignments of people in their
//! departments (and below) to roles in their list and, when allowed to edit roles, the grants
//! of those roles on their resources. Everything else in a policy (resources, flows, rules,
//! templates, new roles, personal grants…) is an unrestricted admin's.
//!
//! The comparison reads the two policy documents and the directory (which department each
//! person is in); it is pure, so the server, the CLI and the tests share it.

use super::directory::Directory;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// What an admin may change. Each list that is absent does not restrict; an admin with none
/// of `departments`, `roles`, `resources` and `can_edit_roles` is unrestricted (within
/// `apps`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminScope {
    /// The apps they administer (absent: every app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    /// The departments whose people (and those of the departments below) they assign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departments: Option<Vec<String>>,
    /// The roles they give and take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The resources whose grants they may change (with `can_edit_roles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
    /// Whether they may change the grants of their roles.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub can_edit_roles: bool,
}

/// One part of a change outside an admin's scope: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutOfScope {
    /// The JSON path of what changed (`assignments.users.u-bob.roles`).
    pub path: String,
    /// Why it is not theirs to change.
    pub reason: String,
}

impl AdminScope {
    /// Whether they may change only part of a policy.
    pub fn restricted(&self) -> bool {
        self.departments.is_some()
            || self.roles.is_some()
            || self.resources.is_some()
            || self.can_edit_roles
    }

    /// Whether it holds nothing back: every app, every part.
    pub fn is_everything(&self) -> bool {
        !self.restricted() && self.apps.is_none()
    }

    /// The departments whose people they assign, those below included (by `doc`'s
    /// `departments` parents); `None` for every department.
    pub fn department_reach(&self, doc: &Value) -> Option<Vec<String>> {
        Departments::of(self, doc).0
    }

    /// Whether they administer `app`.
    pub fn has_app(&self, app: &str) -> bool {
        self.apps
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == app))
    }

    /// Everything `scope` could do, and everything `self` could: what the successor of a
    /// handover holds (unrestricted when either is).
    pub fn union(&self, other: &AdminScope) -> AdminScope {
        fn both(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> Option<Vec<String>> {
            let (a, b) = (a.as_ref()?, b.as_ref()?);
            let mut out = a.clone();
            out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
            Some(out)
        }
        let apps = both(&self.apps, &other.apps);
        if !self.restricted() || !other.restricted() {
            return AdminScope {
                apps,
                ..AdminScope::default()
            };
        }
        AdminScope {
            apps,
            departments: both(&self.departments, &other.departments),
            roles: both(&self.roles, &other.roles),
            resources: both(&self.resources, &other.resources),
            can_edit_roles: self.can_edit_roles || other.can_edit_roles,
        }
    }

    /// The parts of the change from `old` to `new` (policy documents of one app) outside this
    /// scope; none for an unrestricted admin. `directory` says which department each person is
    /// in (a person it does not list is in no department of theirs).
    pub fn out_of_scope(
        &self,
        old: &Value,
        new: &Value,
        directory: Option<&Directory>,
    ) -> Vec<OutOfScope> {
        let mut out = Vec::new();
        if !self.restricted() {
            return out;
        }
        let mine = Departments::of(self, new);
        let (o, n) = (members(old), members(new));
        for key in union_keys(&o, &n) {
            if key == "version" || key.starts_with("x-fieldgate-") || o.get(key) == n.get(key) {
                continue;
            }
            match key {
                "roles" => {
                    self.roles_change(&members(&old["roles"]), &members(&new["roles"]), &mut out)
                }
                "assignments" => self.assignments_change(
                    &old["assignments"],
                    &new["assignments"],
                    &mine,
                    directory,
                    &mut out,
                ),
                _ => refuse(
                    &mut out,
                    key,
                    "only an unrestricted admin changes this part of the policy",
                ),
            }
        }
        out
    }

    /// The people a directory upload adds, removes or changes outside this scope (`doc`: the
    /// policy, for the department tree): each must be in their departments before and after,
    /// and the roles the identity provider gives them that change must be theirs.
    pub fn people_out_of_scope(
        &self,
        old: Option<&Directory>,
        new: &Directory,
        doc: &Value,
    ) -> Vec<OutOfScope> {
        let mut out = Vec::new();
        if !self.restricted() {
            return out;
        }
        let mine = Departments::of(self, doc);
        let before = |id: &str| old.and_then(|d| d.get(id));
        let mut ids: Vec<&str> = new.people().iter().map(|p| p.id.as_str()).collect();
        if let Some(d) = old {
            ids.extend(
                d.people()
                    .iter()
                    .map(|p| p.id.as_str())
                    .filter(|id| new.get(id).is_none()),
            );
        }
        for id in ids {
            let (a, b) = (before(id), new.get(id));
            let json = |p: Option<&super::directory::Person>| {
                serde_json::to_value(p).unwrap_or(Value::Null)
            };
            if json(a) == json(b) {
                continue;
            }
            let at = format!("directory.{id}");
            let outside = [a, b]
                .into_iter()
                .flatten()
                .any(|p| !p.department.as_deref().is_some_and(|d| mine.contains(d)));
            if outside {
                refuse(
                    &mut out,
                    &at,
                    "the person is (or was) not in this admin's departments",
                );
                continue;
            }
            let roles = |p: Option<&super::directory::Person>| p.map(|p| json!(p.roles));
            self.role_list_change(
                &format!("{at}.roles"),
                roles(a).as_ref(),
                roles(b).as_ref(),
                &mut out,
            );
        }
        out
    }

    fn role_ok(&self, role: &str) -> bool {
        self.roles
            .as_ref()
            .is_none_or(|r| r.iter().any(|x| x == role))
    }

    fn roles_change(
        &self,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        out: &mut Vec<OutOfScope>,
    ) {
        for role in union_keys(old, new) {
            let (a, b) = (old.get(role), new.get(role));
            if a == b {
                continue;
            }
            let at = format!("roles.{role}");
            let (Some(a), Some(b)) = (a, b) else {
                refuse(
                    out,
                    &at,
                    "only an unrestricted admin creates or deletes roles",
                );
                continue;
            };
            if !self.can_edit_roles {
                refuse(
                    out,
                    &at,
                    "this admin may not change roles' grants (no --can-edit-roles)",
                );
                continue;
            }
            if !self.role_ok(role) {
                refuse(out, &at, "the role is not one of this admin's roles");
                continue;
            }
            let why = "only a role's grants are this admin's to change";
            others_kept(&at, a, b, "grants", why, out);
            let (ga, gb) = (list(a.get("grants")), list(b.get("grants")));
            for (i, g) in gb.iter().enumerate() {
                if !ga.contains(g) {
                    self.grant_change(&format!("{at}.grants[{i}]"), g, out);
                }
            }
            for g in ga.iter().filter(|g| !gb.contains(g)) {
                self.grant_change(&format!("{at}.grants (removed)"), g, out);
            }
        }
    }

    fn grant_change(&self, at: &str, g: &Value, out: &mut Vec<OutOfScope>) {
        let resource = g.get("resource").and_then(Value::as_str).unwrap_or("*");
        let ok = resource != "*"
            && self
                .resources
                .as_ref()
                .is_none_or(|r| r.iter().any(|x| x == resource));
        if !ok {
            let why =
                format!("a grant on `{resource}`, which is not one of this admin's resources");
            refuse(out, at, &why);
        }
    }

    fn assignments_change(
        &self,
        old: &Value,
        new: &Value,
        mine: &Departments,
        directory: Option<&Directory>,
        out: &mut Vec<OutOfScope>,
    ) {
        let (o, n) = (members(old), members(new));
        for key in union_keys(&o, &n) {
            if o.get(key) == n.get(key) {
                continue;
            }
            let (mo, mn) = (members(&old[key]), members(&new[key]));
            for name in union_keys(&mo, &mn) {
                let (a, b) = (
                    mo.get(name).unwrap_or(&Value::Null),
                    mn.get(name).unwrap_or(&Value::Null),
                );
                if a == b {
                    continue;
                }
                let at = format!("assignments.{key}.{name}");
                match key {
                    "users" => {
                        let dept = directory.and_then(|d| d.get(name)?.department.clone());
                        if !dept.as_deref().is_some_and(|d| mine.contains(d)) {
                            refuse(out, &at, "the person is not in this admin's departments");
                            continue;
                        }
                        let why = "only role assignments are this admin's to change";
                        others_kept(&at, a, b, "roles", why, out);
                        self.role_list_change(
                            &format!("{at}.roles"),
                            a.get("roles"),
                            b.get("roles"),
                            out,
                        );
                    }
                    "departments" if mine.contains(name) => {
                        self.role_list_change(&at, Some(a), Some(b), out);
                    }
                    "departments" => refuse(out, &at, "the department is not one of this admin's"),
                    _ => refuse(
                        out,
                        &at,
                        "only an unrestricted admin changes these assignments",
                    ),
                }
            }
        }
    }

    /// A list of role entries (names, or `{"role": …}` objects) changed: each role given or
    /// taken must be theirs.
    fn role_list_change(
        &self,
        at: &str,
        a: Option<&Value>,
        b: Option<&Value>,
        out: &mut Vec<OutOfScope>,
    ) {
        let (la, lb) = (list(a), list(b));
        let name = |v: &Value| super::entries::role_name(v).unwrap_or("").to_string();
        let changed = la
            .iter()
            .filter(|x| !lb.contains(x))
            .chain(lb.iter().filter(|x| !la.contains(x)));
        for v in changed {
            let role = name(v);
            if !self.role_ok(&role) {
                refuse(
                    out,
                    at,
                    &format!("role `{role}` is not one of this admin's roles"),
                );
            }
        }
    }
}

/// The departments an admin's list reaches: each, and every department below it (by the
/// policy's `departments` parents).
struct Departments(Option<Vec<String>>);

impl Departments {
    fn of(scope: &AdminScope, doc: &Value) -> Departments {
        let Some(roots) = &scope.departments else {
            return Departments(None);
        };
        let tree = members(&doc["departments"]);
        let mut all = roots.clone();
        let mut grew = true;
        while grew {
            grew = false;
            for (d, v) in &tree {
                let parent = v.get("parent").and_then(Value::as_str);
                if parent.is_some_and(|p| all.iter().any(|x| x == p)) && !all.contains(d) {
                    all.push(d.clone());
                    grew = true;
                }
            }
        }
        Departments(Some(all))
    }

    fn contains(&self, d: &str) -> bool {
        self.0.as_ref().is_none_or(|all| all.iter().any(|x| x == d))
    }
}

/// Refuses a change of any member of `a`/`b` (one object at `at`, before and after) but `kept`.
fn others_kept(at: &str, a: &Value, b: &Value, kept: &str, why: &str, out: &mut Vec<OutOfScope>) {
    let (ma, mb) = (members(a), members(b));
    for k in union_keys(&ma, &mb) {
        if k != kept && ma.get(k) != mb.get(k) {
            refuse(out, &format!("{at}.{k}"), why);
        }
    }
}

fn refuse(out: &mut Vec<OutOfScope>, path: &str, reason: &str) {
    out.push(OutOfScope {
        path: path.to_string(),
        reason: reason.to_string(),
    });
}

fn members(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn list(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array).cloned().unwrap_or_default()
}

fn union_keys<'a>(a: &'a Map<String, Value>, b: &'a Map<String, Value>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = a.keys().map(String::as_str).collect();
    keys.extend(b.keys().map(String::as_str).filter(|k| !a.contains_key(*k)));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../../examples/acme-erp.policy.json")).unwrap()
    }

    fn directory() -> Directory {
        let people = json!([
            {"id": "u-alice", "department": "sales-east"},
            {"id": "u-bob", "department": "sales-west"},
            {"id": "u-dave", "department": "purchasing"},
        ]);
        Directory::from_json(&people, None).unwrap()
    }

    fn sales_admin() -> AdminScope {
        AdminScope {
            departments: Some(vec!["sales".into()]),
            roles: Some(vec!["sales".into(), "sales_lead".into()]),
            resources: Some(vec!["customer".into()]),
            ..AdminScope::default()
        }
    }

    #[test]
    fn a_sales_admin_assigns_sales_roles_to_sales_people_only() {
        let d = directory();
        let old = sample();
        let mut new = old.clone();
        // Bob (sales-west, below sales) becomes a team lead: theirs.
        new["assignments"]["users"]["u-bob"]["roles"] = json!(["sales", "sales_lead"]);
        assert_eq!(sales_admin().out_of_scope(&old, &new, Some(&d)), vec![]);
        // Dave (purchasing) gets a sales role; Alice gets the admin role; Bob a personal grant.
        new["assignments"]["users"]["u-dave"]["roles"] = json!(["purchaser", "sales"]);
        new["assignments"]["users"]["u-alice"]["roles"] = json!(["sales", "admin"]);
        new["assignments"]["users"]["u-bob"]["grants"] = json!([]);
        let paths: Vec<String> = sales_admin()
            .out_of_scope(&old, &new, Some(&d))
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(
            paths,
            [
                "assignments.users.u-alice.roles",
                "assignments.users.u-bob.grants",
                "assignments.users.u-dave"
            ]
        );
    }

    #[test]
    fn role_grants_need_the_flag_and_their_resources() {
        let old = sample();
        let mut new = old.clone();
        let grants = new["roles"]["sales"]["grants"].as_array_mut().unwrap();
        grants.push(json!({"resource": "customer", "actions": ["export"], "scope": "own"}));
        let no_flag = sales_admin().out_of_scope(&old, &new, None);
        assert_eq!(no_flag.len(), 1, "{no_flag:?}");
        let editor = AdminScope {
            can_edit_roles: true,
            ..sales_admin()
        };
        assert_eq!(editor.out_of_scope(&old, &new, None), vec![]);
        let grants = new["roles"]["sales"]["grants"].as_array_mut().unwrap();
        grants.push(json!({"resource": "inbound_order", "actions": ["view"]}));
        new["rules"] = json!([]);
        let refused = editor.out_of_scope(&old, &new, None);
        let paths: Vec<&str> = refused.iter().map(|c| c.path.as_str()).collect();
        let last = new["roles"]["sales"]["grants"].as_array().unwrap().len() - 1;
        assert_eq!(
            paths,
            [format!("roles.sales.grants[{last}]").as_str(), "rules"],
            "{refused:?}"
        );
    }

    #[test]
    fn a_directory_upload_moves_only_their_people() {
        let d = directory();
        let doc = sample();
        let moved = json!([
            {"id": "u-alice", "department": "sales-west"},
            {"id": "u-bob", "department": "sales-west", "roles": ["sales_lead"]},
            {"id": "u-dave", "department": "sales-east"},
            {"id": "u-new", "department": "sales"},
        ]);
        let new = Directory::from_json(&moved, None).unwrap();
        let refused = sales_admin().people_out_of_scope(Some(&d), &new, &doc);
        let paths: Vec<&str> = refused.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["directory.u-dave"], "{refused:?}");
        let narrow = AdminScope {
            roles: Some(vec!["sales".into()]),
            ..sales_admin()
        };
        let refused = narrow.people_out_of_scope(Some(&d), &new, &doc);
        let paths: Vec<&str> = refused.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            ["directory.u-bob.roles", "directory.u-dave"],
            "{refused:?}"
        );
    }

    #[test]
    fn an_unrestricted_admin_changes_anything_and_a_handover_keeps_it() {
        let old = sample();
        let new = json!({"format": 1});
        let full = AdminScope::default();
        assert!(full.out_of_scope(&old, &new, None).is_empty());
        assert!(!sales_admin().union(&full).restricted());
        let u = sales_admin().union(&AdminScope {
            roles: Some(vec!["purchaser".into()]),
            ..AdminScope::default()
        });
        assert_eq!(u.roles.unwrap(), ["sales", "sales_lead", "purchaser"]);
        assert_eq!(u.departments, None, "one of them reached every department");
    }
}
