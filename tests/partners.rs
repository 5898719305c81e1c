//! Partners (#34): people of an outside organisation (the directory's `org`) hold external
//! roles only. Decisions are in the golden fixture `partners.json` (replayed by Rust, JS,
//! Python and the decision API), the property tests against the naive evaluator and the SQL
//! filter test; here the admin tools: lint says where an internal role reaches a partner, a
//! partner's minimized policy names only what they hold, and who-can names them by the org scope.

mod common;

use fieldgate::admin::{lint, who_can, Directory, Horizon, Question};
use fieldgate::core::{minimize, Checked};
use fieldgate::{Input, Policy};
use serde_json::{json, Value};
use std::sync::Arc;

fn doc() -> Value {
    json!({
        "format": "fieldgate/1", "app": "partners", "version": 1,
        "departments": {"sales": {}},
        "resources": {"order": {"actions": ["view", "export"], "org": "dealer_org",
                                "fields": {"no": {}, "phone": {"mask": "phone"}}}},
        "roles": {
            "dealer": {"external": true, "grants": [{"resource": "order", "actions": ["view"], "scope": "org",
                                                     "fields": {"phone": "masked"}}]},
            "staff": {"grants": [{"resource": "order", "actions": ["view", "export"]}]}
        },
        "assignments": {
            "users": {"u-kim": {"roles": ["dealer", "staff"]}},
            "departments": {"sales": ["staff"]},
            "groups": {"team": ["staff"]}
        }
    })
}

fn people() -> Directory {
    Directory::from_json(
        &json!([
            {"id": "u-kim", "org": "acme-dealer", "department": "sales", "groups": ["team"], "roles": ["staff"]},
            {"id": "u-sam", "department": "sales"}
        ]),
        None,
    )
    .unwrap()
}

#[test]
fn lint_says_where_each_internal_role_reaches_a_partner() {
    let checked = Checked::from_value(doc()).unwrap();
    let d = people();
    let got: Vec<String> = lint(&checked, Some(&d), Horizon::at(0))
        .into_iter()
        .filter(|w| w.code == "internal_role_to_partner")
        .map(|w| w.path)
        .collect();
    assert_eq!(
        got,
        [
            "roles.staff",
            "assignments.users.u-kim.roles",
            "assignments.departments.sales",
            "assignments.groups.team"
        ]
    );
    // Staff are not partners: nothing to say without one.
    let staff =
        Directory::from_json(&json!([{"id": "u-sam", "department": "sales"}]), None).unwrap();
    assert!(lint(&checked, Some(&staff), Horizon::at(0))
        .iter()
        .all(|w| w.code != "internal_role_to_partner"));
}

#[test]
fn a_partners_minimized_policy_names_only_what_they_hold_and_answers_the_same() {
    let checked = Checked::from_value(doc()).unwrap();
    let kim = people().get("u-kim").unwrap().subject();
    let small = minimize(checked.doc(), checked.policy(), &kim);
    assert_eq!(
        small["roles"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["dealer"]
    );
    assert_eq!(
        small["assignments"]["users"]["u-kim"]["roles"],
        json!(["dealer"])
    );
    assert_eq!(small["assignments"]["departments"]["sales"], json!([]));
    let p = Arc::new(Policy::from_value(&small).unwrap());
    let full = checked.policy();
    for rec in [
        json!({"dealer_org": "acme-dealer"}),
        json!({"dealer_org": "other"}),
    ] {
        for action in ["view", "export"] {
            let input = Input::json(Some(&rec), None);
            assert_eq!(
                p.session(&kim).can(action, "order", input).unwrap(),
                full.session(&kim).can(action, "order", input).unwrap(),
                "{action} {rec}"
            );
        }
    }
    assert!(!full
        .session(&kim)
        .can("export", "order", Input::NONE)
        .unwrap());
}

#[test]
fn who_can_names_a_partner_through_the_external_role_only() {
    let p = Arc::new(Policy::from_value(&doc()).unwrap());
    let d = people();
    let export = who_can(&p, "order", &Question::Action("export".into()), Some(&d), 0).unwrap();
    let users: Vec<&str> = export
        .iter()
        .filter(|w| w.kind == "user")
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(
        users,
        ["u-sam"],
        "the partner's internal roles give them nothing"
    );
    let view = who_can(&p, "order", &Question::Action("view".into()), Some(&d), 0).unwrap();
    let kim = view
        .iter()
        .find(|w| w.name == "u-kim")
        .expect("kim views some orders");
    assert_eq!(serde_json::to_value(kim.access).unwrap(), json!("some"));
    // The external role's stand-in is a partner: its row shows its organisation's orders.
    let dealer = view
        .iter()
        .find(|w| w.kind == "role" && w.name == "dealer")
        .unwrap();
    assert_eq!(serde_json::to_value(dealer.access).unwrap(), json!("some"));
}
