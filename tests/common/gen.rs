//! Random policies over a small universe, shared by the property tests.

use fieldgate::Subject;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

pub const ACTIONS: [&str; 5] = ["view", "create", "edit", "delete", "export"];
pub const FIELDS: [&str; 4] = ["f0", "f1", "f2", "f3"];
pub const STATES: [&str; 4] = ["hidden", "masked", "readonly", "editable"];
pub const SCOPES: [&str; 8] = [
    "all",
    "own",
    "department",
    "department_tree",
    "subordinates",
    "member",
    "parent",
    "org",
];
/// The people records are owned by and shared with.
pub const USERS: [&str; 3] = ["u0", "u1", "u2"];
/// Outside organisations (partners): records belong to one, or to none.
pub const ORGS: [&str; 2] = ["o1", "o2"];
pub const CONDS: [&str; 7] = [
    "record.amount < 50",
    "record.locked == true",
    "user.department == 'd1'",
    "context.channel == 'web'",
    "record.status in ['a', 'b'] || record.amount >= 80",
    "!(record.locked == true) && 'r1' in user.roles",
    "record.owner in user.reports",
];
pub const DEPTS: [(&str, Option<&str>); 4] = [
    ("d0", None),
    ("d1", Some("d0")),
    ("d2", Some("d1")),
    ("d3", Some("d0")),
];

/// A grant on `doc`, `acct` (the parent of `doc`) or `*`.
pub fn grant() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec!["doc", "doc", "doc", "acct", "*"]),
        prop::sample::subsequence(ACTIONS.to_vec(), 1..=3),
        prop::bool::weighted(0.1),
        prop::sample::select(SCOPES.to_vec()),
        prop::option::weighted(0.4, prop::sample::select(CONDS.to_vec())),
        prop::collection::btree_map(
            prop::sample::select(vec!["f0", "f1", "f2", "f3", "*"]),
            prop::sample::select(STATES.to_vec()),
            0..3,
        ),
    )
        .prop_flat_map(|(resource, actions, star, scope, when, fields)| {
            // `acct` has no members and no parent of its own.
            let scope = match (resource, scope) {
                ("acct", "member" | "parent") => "own",
                _ => scope,
            };
            let mut g = json!({
                "resource": resource,
                "actions": if star { json!(["*"]) } else { json!(actions) },
                "scope": scope,
                "fields": fields,
            });
            if let Some(w) = when {
                g["when"] = json!(w);
            }
            let depth = if scope == "subordinates" {
                0..3u32
            } else {
                0..1
            };
            depth.prop_map(move |d| {
                let mut g = g.clone();
                if d > 0 {
                    g["depth"] = json!(d);
                }
                g
            })
        })
}

/// A deny or limit rule with id `rule<i>`.
pub fn rule(i: usize) -> impl Strategy<Value = Value> {
    (
        prop::bool::ANY,
        prop::sample::subsequence(ACTIONS.to_vec(), 1..=2),
        prop::option::weighted(0.6, prop::sample::select(CONDS.to_vec())),
        prop::collection::btree_map(
            prop::sample::select(vec!["f0", "f1", "f2", "f3", "*"]),
            prop::sample::select(STATES.to_vec()),
            1..3,
        ),
        prop::sample::subsequence(vec!["r0", "r1", "r2", "r3"], 0..=1),
    )
        .prop_map(move |(deny, actions, when, fields, except)| {
            let mut r = if deny {
                json!({"id": format!("rule{i}"), "effect": "deny", "resource": "doc", "actions": actions})
            } else {
                json!({"id": format!("rule{i}"), "effect": "limit", "resource": "*", "fields": fields})
            };
            if let Some(w) = when {
                r["when"] = json!(w);
            }
            r["except_roles"] = json!(except);
            r
        })
}

/// A policy: four roles (inheriting lower ones), a personal assignment for `u0`, a
/// department assignment, rules.
pub fn policy_doc() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(prop::collection::vec(grant(), 0..3), 4),
        prop::collection::vec(prop::sample::subsequence(vec![0usize, 1, 2], 0..=2), 4),
        prop::collection::vec(grant(), 0..2),
        (0..3usize).prop_flat_map(|n| (0..n).map(rule).collect::<Vec<_>>()),
        prop::sample::subsequence(vec!["r0", "r1", "r2", "r3"], 0..=1),
        prop::collection::vec(prop::bool::weighted(0.4), 4),
    )
        .prop_map(|(role_grants, inherits, personal, rules, dept_roles, external)| {
            let mut roles = Map::new();
            for (i, grants) in role_grants.into_iter().enumerate() {
                // Inherit only from lower-numbered roles: no cycles.
                let inh: Vec<String> = inherits[i].iter().filter(|&&j| j < i).map(|j| format!("r{j}")).collect();
                let mut role = json!({"grants": grants, "inherits": inh});
                if external[i] {
                    role["external"] = json!(true);
                }
                roles.insert(format!("r{i}"), role);
            }
            let departments: Map<String, Value> = DEPTS
                .iter()
                .map(|(d, p)| (d.to_string(), p.map_or(json!({}), |p| json!({"parent": p}))))
                .collect();
            json!({
                "format": "fieldgate/1", "app": "prop", "version": 1,
                "departments": departments,
                "resources": {
                    "doc": {"actions": ACTIONS, "owner": "owner", "department": "dept", "members": "team", "org": "org",
                            "parent": {"resource": "acct", "via": "acct_id"},
                            "fields": {"f0": {}, "f1": {"mask": "phone"}, "f2": {}, "f3": {}}},
                    "acct": {"actions": ACTIONS, "owner": "owner", "department": "dept", "org": "org",
                             "fields": {"f0": {}, "f1": {}, "f2": {}, "f3": {}}},
                },
                "roles": roles,
                "assignments": {"users": {"u0": {"grants": personal}}, "departments": {"d1": dept_roles}},
                "rules": rules,
            })
        })
}

/// A subject: one of [`USERS`], some roles, maybe a department, maybe people below them in
/// the reporting line (the others, at distance 1 or 2).
pub fn subject() -> impl Strategy<Value = Subject> {
    (
        prop::sample::select(USERS.to_vec()),
        prop::sample::subsequence(vec!["r0", "r1", "r2", "r3", "ghost"], 0..=3),
        prop::option::of(prop::sample::select(vec!["d0", "d1", "d2", "d3"])),
        prop::collection::vec(0..3u32, USERS.len()),
        prop::option::weighted(0.3, prop::sample::select(ORGS.to_vec())),
    )
        .prop_map(|(id, roles, dept, distances, org)| Subject {
            id: id.into(),
            roles: roles.into_iter().map(String::from).collect(),
            department: dept.map(String::from),
            org: org.map(String::from),
            reports: USERS
                .iter()
                .zip(distances)
                .filter(|(u, d)| **u != id && *d > 0)
                .map(|(u, d)| (u.to_string(), Value::from(d)))
                .collect(),
            ..Subject::default()
        })
}

/// The attributes `doc` and `acct` records share.
fn fields() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(USERS.to_vec()),
        prop::sample::select(vec!["d0", "d1", "d2", "d3"]),
        0..100i64,
        prop::bool::ANY,
        prop::sample::select(vec!["a", "b", "c"]),
        prop::option::weighted(0.7, prop::sample::select(ORGS.to_vec())),
    )
        .prop_map(|(o, d, a, l, s, org)| {
            let mut r = json!({"owner": o, "dept": d, "amount": a, "locked": l, "status": s});
            if let Some(org) = org {
                r["org"] = json!(org);
            }
            r
        })
}

/// A record of `doc` (with its members and, mostly, its `acct` parent record), or none.
pub fn record() -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(
        0.8,
        (
            fields(),
            prop::option::weighted(0.8, prop::sample::subsequence(USERS.to_vec(), 0..=2)),
            prop::option::weighted(0.8, fields()),
        )
            .prop_map(|(mut rec, team, parent)| {
                if let Some(t) = team {
                    rec["team"] = json!(t);
                }
                if let Some(p) = parent {
                    rec["acct_id"] = json!(1);
                    rec["acct"] = p;
                }
                rec
            }),
    )
}

/// A context.
pub fn context() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!({}),
        json!({"channel": "web"}),
        json!({"channel": "app"}),
    ])
}
