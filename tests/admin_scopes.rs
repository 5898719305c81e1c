//! Restricted admins (分级管理员, #34): random drafts against random admin scopes. Each draft is
//! made of changes whose standing is known by construction (a role given to someone in or out
//! of the admin's departments, a grant added to a role of theirs or not, on a form of theirs or
//! not, a personal grant, a new rule); a draft is accepted exactly when every change is the
//! admin's, and every refusal names a change outside the scope.

mod common;

use common::gen;
use fieldgate::admin::admin_scope::AdminScope;
use fieldgate::admin::Directory;
use proptest::prelude::*;
use serde_json::{json, Value};

/// One change a draft makes.
#[derive(Debug, Clone)]
enum Change {
    /// A role given to a person by id.
    GiveRole(usize, usize),
    /// A grant on a resource added to a role.
    AddGrant(usize, &'static str),
    /// A personal grant (never a restricted admin's).
    PersonalGrant(usize),
    /// A new rule (never a restricted admin's).
    Rule,
}

const USERS: [&str; 3] = ["u0", "u1", "u2"];
/// Where the directory puts them: u2 is in no department.
const HOME: [Option<&str>; 3] = [Some("d1"), Some("d2"), None];

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (0..3usize, 0..4usize).prop_map(|(u, r)| Change::GiveRole(u, r)),
        3 => (0..4usize, prop::sample::select(vec!["doc", "acct"])).prop_map(|(r, res)| Change::AddGrant(r, res)),
        1 => (0..3usize).prop_map(Change::PersonalGrant),
        1 => Just(Change::Rule),
    ]
}

fn scope() -> impl Strategy<Value = AdminScope> {
    let some = |xs: Vec<&'static str>| {
        prop::option::weighted(0.7, prop::sample::subsequence(xs.clone(), 0..=xs.len()))
            .prop_map(|l| l.map(|l| l.into_iter().map(String::from).collect()))
    };
    (
        some(vec!["d0", "d1", "d2", "d3"]),
        some(vec!["r0", "r1", "r2", "r3"]),
        some(vec!["doc", "acct"]),
        any::<bool>(),
    )
        .prop_map(
            |(departments, roles, resources, can_edit_roles)| AdminScope {
                apps: None,
                departments,
                roles,
                resources,
                can_edit_roles,
            },
        )
        .prop_filter("a restricted admin", |s| {
            s.departments.is_some()
                || s.roles.is_some()
                || s.resources.is_some()
                || s.can_edit_roles
        })
}

fn directory() -> Directory {
    let people: Vec<Value> = USERS
        .iter()
        .zip(HOME)
        .map(|(id, dept)| json!({"id": id, "department": dept}))
        .collect();
    Directory::from_json(&Value::Array(people), None).unwrap()
}

/// Whether `d` is one of `listed` or below one (by the generator's department tree).
fn within(d: &str, listed: &[String]) -> bool {
    let mut at = Some(d);
    while let Some(x) = at {
        if listed.iter().any(|l| l == x) {
            return true;
        }
        at = gen::DEPTS
            .iter()
            .find(|(n, _)| *n == x)
            .and_then(|(_, p)| *p);
    }
    false
}

/// Applies `c` to `doc`; the path prefix a refusal of it names, and whether it is the admin's
/// (`None`: it changed nothing).
fn apply(doc: &mut Value, c: &Change, s: &AdminScope) -> Option<(String, bool)> {
    let listed =
        |l: &Option<Vec<String>>, x: &str| l.as_ref().is_none_or(|l| l.iter().any(|y| y == x));
    match *c {
        Change::GiveRole(u, r) => {
            let (user, role) = (USERS[u], format!("r{r}"));
            let entry = &mut doc["assignments"]["users"][user];
            if entry.is_null() {
                *entry = json!({});
            }
            let roles = entry["roles"].as_array().cloned().unwrap_or_default();
            if roles.contains(&json!(role)) {
                return None;
            }
            let mut roles = roles;
            roles.push(json!(role));
            entry["roles"] = Value::Array(roles);
            let home_ok =
                HOME[u].is_some_and(|d| s.departments.as_ref().is_none_or(|l| within(d, l)));
            Some((
                format!("assignments.users.{user}"),
                home_ok && listed(&s.roles, &role),
            ))
        }
        Change::AddGrant(r, res) => {
            let role = format!("r{r}");
            let grants = doc["roles"][&role]["grants"].as_array_mut().unwrap();
            grants
                .push(json!({"resource": res, "actions": ["view"], "fields": {"f0": "readonly"}}));
            let ok = s.can_edit_roles && listed(&s.roles, &role) && listed(&s.resources, res);
            Some((format!("roles.{role}"), ok))
        }
        Change::PersonalGrant(u) => {
            let user = USERS[u];
            let entry = &mut doc["assignments"]["users"][user];
            if entry.is_null() {
                *entry = json!({});
            }
            let mut grants = entry["grants"].as_array().cloned().unwrap_or_default();
            grants.push(json!({"resource": "doc", "actions": ["export"]}));
            entry["grants"] = Value::Array(grants);
            Some((format!("assignments.users.{user}"), false))
        }
        Change::Rule => {
            let rules = doc["rules"].as_array_mut().unwrap();
            let id = format!("added{}", rules.len());
            rules.push(
                json!({"id": id, "effect": "deny", "resource": "doc", "actions": ["delete"]}),
            );
            Some(("rules".to_string(), false))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_restricted_admin_publishes_exactly_their_part(
        doc in gen::policy_doc(),
        scope in scope(),
        changes in prop::collection::vec(change(), 1..4),
    ) {
        let mut new = doc.clone();
        let made: Vec<(String, bool)> = changes.iter().filter_map(|c| apply(&mut new, c, &scope)).collect();
        prop_assume!(!made.is_empty());
        // The draft is a valid policy (what publishing would compile).
        fieldgate::Policy::from_value(&new).unwrap();
        let refused = scope.out_of_scope(&doc, &new, Some(&directory()));
        let theirs = made.iter().all(|(_, ok)| *ok);
        prop_assert_eq!(refused.is_empty(), theirs, "changes {:?} scope {:?} refused {:?}", made, scope, refused);
        // Every refusal names a change outside the scope, and every such change is named.
        for r in &refused {
            prop_assert!(
                made.iter().any(|(p, ok)| !ok && r.path.starts_with(p.as_str())),
                "refusal {:?} names no change outside the scope: {:?}", r, made
            );
        }
        for (p, _) in made.iter().filter(|(_, ok)| !ok) {
            prop_assert!(refused.iter().any(|r| r.path.starts_with(p.as_str())), "{} not refused: {:?}", p, refused);
        }
    }
}
