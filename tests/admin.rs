//! The admin toolkit: golden outputs on the sample policy, a failing suite, transfer unions,
//! and one crafted policy per lint warning.

mod common;

use fieldgate::admin::{lint, transfer, Horizon, Selection, Transfer};
use fieldgate::core::Checked;
use fieldgate::Policy;
use serde_json::{json, Value};

/// Runs the CLI and compares stdout with `tests/golden/admin/NAME.out`
/// (`UPDATE_GOLDEN=1` rewrites the file; review the diff).
fn golden(name: &str, args: &[&str], code: i32) {
    let out = common::fieldgate(args, "");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = common::root()
        .join("tests/golden/admin")
        .join(format!("{name}.out"));
    let got = common::stdout(&out);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
    assert_eq!(got, want, "{name}");
}

const P: &str = "examples/acme-erp.policy.json";

#[test]
fn golden_outputs_on_the_sample() {
    golden(
        "who-can-edit",
        &[
            "who-can",
            "--policy",
            P,
            "--resource",
            "customer",
            "--action",
            "edit",
        ],
        0,
    );
    golden(
        "who-can-approve-csv",
        &[
            "who-can",
            "--policy",
            P,
            "--resource",
            "inbound_order",
            "--action",
            "approve",
            "--csv",
        ],
        0,
    );
    golden(
        "who-can-step-zh",
        &[
            "who-can",
            "--policy",
            P,
            "--resource",
            "inbound_order",
            "--action",
            "approve:finance",
            "--directory",
            "examples/acme-erp.directory.csv",
            "--lang",
            "zh-CN",
        ],
        0,
    );
    golden(
        "who-can-bank-json",
        &[
            "who-can",
            "--policy",
            P,
            "--resource",
            "customer",
            "--field",
            "bank_account",
            "--state",
            "masked",
            "--json",
        ],
        0,
    );
    golden("lint", &["lint", P], 0);
    golden("test", &["test", P, "examples/acme-erp.tests.json"], 0);
    golden(
        "diff",
        &["diff", P, "tests/golden/admin/acme-erp.v2.policy.json"],
        1,
    );
    golden(
        "diff-zh",
        &[
            "diff",
            "--lang",
            "zh-CN",
            "--directory",
            "examples/acme-erp.directory.csv",
            P,
            "tests/golden/admin/acme-erp.v2.policy.json",
        ],
        1,
    );
    let matrix = [
        "matrix",
        "export",
        "--policy",
        P,
        "--resource",
        "inbound_order",
        "--all-roles",
    ];
    golden("matrix-export", &matrix, 0);
    let zh: Vec<&str> = matrix.iter().copied().chain(["--lang", "zh-CN"]).collect();
    golden("matrix-export-zh", &zh, 0);
    let out = common::temp_dir("admin-golden").join("p2.json");
    let out = out.to_str().unwrap();
    golden(
        "transfer",
        &[
            "transfer", "--policy", P, "--from", "u-carol", "--to", "u-bob", "--out", out,
        ],
        0,
    );
}

#[test]
fn diff_exit_codes_json_and_bundles() {
    assert_eq!(
        common::fieldgate(&["diff", P, P], "").status.code(),
        Some(0),
        "no access change"
    );
    let dir = common::temp_dir("admin-diff");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    assert_eq!(
        common::fieldgate(&["diff", P, bad.to_str().unwrap()], "")
            .status
            .code(),
        Some(2)
    );
    // A label-only change is structural, not access: exit 0.
    let mut doc = sample();
    doc["resources"]["customer"]["fields"]["notes"]["label"] = json!("Remarks");
    let relabeled = dir.join("relabeled.json");
    std::fs::write(&relabeled, doc.to_string()).unwrap();
    let out = common::fieldgate(&["diff", P, relabeled.to_str().unwrap(), "--json"], "");
    assert_eq!(out.status.code(), Some(0));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d,
        json!({
            "structure": [{"kind": "resource", "name": "customer", "change": "changed"}],
            "access": [],
            "impact": {"lang": "en", "people": 0, "capabilities": 0,
                       "counts": "0 people, 0 capabilities", "groups": []}
        })
    );
    // Signed JSON bundles are read (and verified with --trust).
    let keys = dir.join("keys");
    assert!(
        common::fieldgate(&["keygen", "--out-dir", keys.to_str().unwrap()], "")
            .status
            .success()
    );
    let bundle = dir.join("v2.bundle.json");
    let key = keys.join("signing.key");
    let sign = [
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--policy",
        "tests/golden/admin/acme-erp.v2.policy.json",
        "--out",
        bundle.to_str().unwrap(),
    ];
    assert!(common::fieldgate(&sign, "").status.success());
    let public = keys.join("signing.pub");
    let out = common::fieldgate(
        &[
            "diff",
            P,
            bundle.to_str().unwrap(),
            "--trust",
            public.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(d["access"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["subject"] == "user:u-judy"
            && c["what"] == "action view"
            && c["direction"] == "gained"));
}

#[test]
fn a_failing_suite_exits_1_with_a_readable_report() {
    let dir = common::temp_dir("admin-suite");
    let suite = dir.join("t.json");
    std::fs::write(&suite, json!({"cases": [
        {"name": "wrong on purpose", "subject": {"id": "u-alice"}, "resource": "customer", "record": {"owner_id": "u-bob"},
         "can": {"edit": true}, "mode": "view", "fields": {"phone": "editable"}},
        {"name": "right", "subject": {"id": "u-alice"}, "resource": "customer", "can": {"view": true}},
        {"name": "broken case", "subject": "nobody", "resource": "customer"}
    ]}).to_string()).unwrap();
    let out = common::fieldgate(&["test", P, suite.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let text = common::stdout(&out);
    assert!(text.contains("FAIL  wrong on purpose\n        can edit: expected true, got false\n        field phone (view): expected \"editable\", got \"masked\""), "{text}");
    assert!(text.contains("ok    right"), "{text}");
    assert!(
        text.contains("FAIL  broken case\n        no `subjects.nobody`"),
        "{text}"
    );
    assert!(text.ends_with("1 passed, 2 failed\n"), "{text}");
}

fn sample() -> Value {
    common::read_json(&common::sample_policy())
}

fn moving(from: &str, to: &str, copy: bool, new_successor: bool) -> Transfer {
    Transfer {
        from: from.into(),
        to: to.into(),
        copy,
        until: None,
        new_successor,
        selection: Selection::all(),
    }
}

#[test]
fn transfer_gives_the_successor_exactly_the_union_and_the_leaver_nothing() {
    let mut doc = sample();
    doc["assignments"]["users"]["u-bob"]["roles"] = json!(["sales", "purchaser"]);
    let (out, report) = transfer(&doc, &moving("u-carol", "u-bob", false, false), None).unwrap();
    let bob = &out["assignments"]["users"]["u-bob"];
    assert_eq!(bob["roles"], json!(["sales", "purchaser", "sales_manager"]));
    assert_eq!(
        bob["grants"], doc["assignments"]["users"]["u-bob"]["grants"],
        "bob had one grant; carol had none"
    );
    assert_eq!(
        bob["denies"],
        doc["assignments"]["users"]["u-carol"]["denies"]
    );
    assert!(
        out["assignments"]["users"].get("u-carol").is_none(),
        "the leaver keeps nothing personal"
    );
    assert_eq!(report.roles, vec!["sales_manager"]);
    assert_eq!(report.denies.len(), 1);
    assert_eq!(report.already_had, 0);
    Policy::from_value(&out).unwrap();

    // Moving what the successor already has duplicates nothing.
    let (out, report) = transfer(&doc, &moving("u-alice", "u-bob", true, false), None).unwrap();
    assert_eq!(
        out["assignments"]["users"]["u-bob"]["roles"],
        json!(["sales", "purchaser"])
    );
    assert_eq!(report.already_had, 1);
    assert_eq!(
        out["assignments"]["users"]["u-alice"], doc["assignments"]["users"]["u-alice"],
        "a copy keeps the source"
    );

    assert_eq!(
        transfer(&doc, &moving("u-zed", "u-bob", false, false), None)
            .unwrap_err()
            .code(),
        "unknown_user"
    );
    assert_eq!(
        transfer(&doc, &moving("u-alice", "u-new", false, false), None)
            .unwrap_err()
            .code(),
        "unknown_user"
    );
    assert!(
        transfer(&doc, &moving("u-alice", "u-new", false, true), None).is_ok(),
        "--new-user allows a new successor"
    );
    assert_eq!(
        transfer(&doc, &moving("u-alice", "u-alice", false, false), None)
            .unwrap_err()
            .code(),
        "same_user"
    );
}

#[test]
fn cli_transfer_writes_a_valid_policy_and_reports() {
    let dir = common::temp_dir("admin-transfer");
    let out = dir.join("p2.json");
    let r = common::fieldgate(
        &[
            "transfer",
            "--policy",
            P,
            "--from",
            "u-carol",
            "--to",
            "u-alice",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(r.status.success());
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(report["roles"], json!(["sales_manager"]));
    assert!(common::fieldgate(&["check", out.to_str().unwrap()], "")
        .status
        .success());
    let r = common::fieldgate(
        &[
            "transfer",
            "--policy",
            P,
            "--from",
            "ghost",
            "--to",
            "u-alice",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(r.status.code(), Some(1));
    assert!(common::stdout(&r).starts_with("unknown_user: "));
}

#[test]
fn lint_finds_each_kind_of_mistake() {
    let doc = json!({
        "format": "fieldgate/1", "app": "l", "version": 1,
        "resources": {"doc": {"actions": ["view", "edit"], "fields": {"a": {}, "secret": {}}}},
        "templates": {"unused": [], "t": [{"resource": "doc", "actions": ["view"], "fields": {"secret": "hidden"}}]},
        "roles": {
            "clerk": {"templates": ["t"], "grants": [
                {"resource": "doc", "actions": ["view", "edit"], "fields": {"*": "editable", "secret": "hidden"}},
                {"resource": "doc", "actions": ["view"], "fields": {"a": "readonly", "secret": "hidden"}}
            ]},
            "helper": {"grants": [{"resource": "*", "actions": ["view"], "fields": {"secret": "hidden"}}]},
            "admin": {"grants": [{"resource": "*", "actions": ["*"], "fields": {"secret": "hidden"}}]}
        },
        "assignments": {"users": {"u": {"roles": ["clerk", "helper"],
            "limits": [{"resource": "doc", "fields": {}}]}}},
        "rules": [
            {"id": "never", "effect": "deny", "resource": "doc", "actions": ["edit"], "when": "1 == 2"},
            {"id": "noop", "effect": "limit", "resource": "doc", "fields": {"*": "editable"}},
            {"id": "real", "effect": "deny", "resource": "doc", "actions": ["edit"], "when": "record.locked == true"},
            {"id": "empty", "effect": "deny", "resource": "doc", "actions": []}
        ]
    });
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let got: Vec<(String, &str)> = lint(&checked(&doc), None, Horizon::at(0))
        .into_iter()
        .map(|w| (w.path, w.code))
        .collect();
    let want = [
        ("templates.unused", "unused_template"),
        ("roles.admin", "unassigned_role"),
        ("resources.doc.fields.secret", "field_never_visible"),
        ("roles.helper.grants[0]", "broad_grant"),
        ("roles.clerk.grants[1]", "shadowed_grant"),
        ("rules[0]", "rule_never_applies"),
        ("rules[1]", "rule_has_no_effect"),
        ("rules[3]", "rule_has_no_effect"),
        // A personal limit that caps nothing, by its path.
        ("assignments.users.u.limits[0]", "rule_has_no_effect"),
    ];
    for w in want {
        assert!(
            got.contains(&(w.0.to_string(), w.1)),
            "missing {w:?} in {got:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "no other warnings: {got:?}");
    // A role the directory gives (its `roles` column) is assigned: no `unassigned_role`.
    let people = fieldgate::admin::Directory::from_json(
        &json!([{"id": "u-root", "roles": ["admin"]}]),
        Some(&p),
    )
    .unwrap();
    let with_directory: Vec<(String, &str)> = lint(&checked(&doc), Some(&people), Horizon::at(0))
        .into_iter()
        .map(|w| (w.path, w.code))
        .collect();
    assert!(
        !with_directory.contains(&("roles.admin".to_string(), "unassigned_role")),
        "{with_directory:?}"
    );
}

#[test]
fn lint_finds_a_reporting_line_scope_over_a_directory_without_managers() {
    let doc = json!({
        "format": "fieldgate/1", "app": "l", "version": 1,
        "resources": {"doc": {"actions": ["view"], "owner": "owner", "fields": {"a": {}}}},
        "roles": {"lead": {"grants": [{"resource": "doc", "actions": ["view"], "scope": "subordinates"}]}},
        "assignments": {"users": {"u-a": {"roles": ["lead"]}}}
    });
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let codes = |people: serde_json::Value| -> Vec<(String, &'static str)> {
        let d = fieldgate::admin::Directory::from_json(&people, Some(&p)).unwrap();
        lint(&checked(&doc), Some(&d), Horizon::at(0))
            .into_iter()
            .map(|w| (w.path, w.code))
            .collect()
    };
    let flat = codes(json!([{"id": "u-a"}, {"id": "u-b"}]));
    assert!(
        flat.contains(&("roles.lead.grants[0]".to_string(), "no_reporting_line")),
        "{flat:?}"
    );
    let line = codes(json!([{"id": "u-a"}, {"id": "u-b", "manager": "u-a"}]));
    assert!(
        !line.iter().any(|(_, c)| *c == "no_reporting_line"),
        "{line:?}"
    );
    // Without a directory there is nothing to say about it.
    assert!(!lint(&checked(&doc), None, Horizon::at(0))
        .iter()
        .any(|w| w.code == "no_reporting_line"));
}

#[test]
fn lint_asks_the_core_which_scope_covers_which() {
    // A reporting line covers the user's own records; a shallower one does not cover a
    // deeper one, nor an unbounded one.
    let doc = json!({
        "format": "fieldgate/1", "app": "l", "version": 1,
        "resources": {"doc": {"actions": ["view"], "owner": "owner", "fields": {"a": {}}}},
        "roles": {
            "lead": {"grants": [
                {"resource": "doc", "actions": ["view"], "scope": "subordinates"},
                {"resource": "doc", "actions": ["view"], "scope": "own"}]},
            "near": {"grants": [
                {"resource": "doc", "actions": ["view"], "scope": "subordinates", "depth": 1},
                {"resource": "doc", "actions": ["view"], "scope": "subordinates", "depth": 2}]}
        },
        "assignments": {"users": {"u-a": {"roles": ["lead", "near"]}}}
    });
    let shadowed: Vec<String> = lint(&checked(&doc), None, Horizon::at(0))
        .into_iter()
        .filter(|w| w.code == "shadowed_grant")
        .map(|w| w.path)
        .collect();
    assert_eq!(shadowed, ["roles.lead.grants[1]", "roles.near.grants[0]"]);
}

#[test]
fn lint_finds_who_can_both_edit_and_approve_the_same_record() {
    // The sample before separation of duties: approvers could edit pending orders they
    // approve, and someone with both roles could approve their own (no flow keeps submitting
    // and approving apart).
    let mut doc = common::read_json(&common::root().join(P));
    for r in ["inbound_order", "outbound_order"] {
        doc["resources"][r]["workflow"]
            .as_object_mut()
            .unwrap()
            .remove("distinct");
    }
    let rules = doc["rules"].as_array_mut().unwrap();
    let lock = rules
        .iter_mut()
        .find(|r| r["id"] == "lock-under-approval")
        .unwrap();
    lock["except_roles"] = json!(["admin", "approver"]);
    let approver = &mut doc["roles"]["approver"]["grants"][0]["actions"];
    *approver = json!(["view", "edit", "approve", "reject"]);
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let people = fieldgate::admin::Directory::from_json(
        &json!([{"id": "u-zed", "department": "purchasing", "roles": ["purchaser", "approver"]}]),
        Some(&p),
    )
    .unwrap();
    let sod = |doc: &serde_json::Value| {
        lint(&checked(doc), Some(&people), Horizon::at(0))
            .into_iter()
            .filter(|w| w.code == "sod_conflict")
            .map(|w| w.message)
            .collect::<Vec<_>>()
    };
    let before = sod(&doc);
    assert!(
        before.iter().any(|m| m.starts_with("role `approver`")),
        "{before:?}"
    );
    assert!(
        before
            .iter()
            .any(|m| m.starts_with("`u-zed` (from the directory)")),
        "{before:?}"
    );
    // The sample as shipped: its flows keep submitting and approving apart, from each record's
    // history, so nobody is left to flag.
    let shipped = common::read_json(&common::root().join(P));
    let after = sod(&shipped);
    assert!(after.is_empty(), "{after:?}");
}

mod matrix {
    use super::{checked, common, sample};
    use fieldgate::admin::matrix::{apply, import, import_partly, CellEdit, Matrix};
    use fieldgate::Policy;
    use serde_json::{json, Value};
    use std::sync::Arc;

    fn compiled(doc: &Value) -> Arc<Policy> {
        Arc::new(Policy::from_value(doc).unwrap())
    }

    fn table(doc: &Value, resource: &str) -> Vec<Vec<String>> {
        Matrix::build(doc, &compiled(doc), resource, None)
            .unwrap()
            .table()
    }

    fn cell<'t>(t: &'t [Vec<String>], role: &str, column: &str) -> &'t str {
        let c = t[0].iter().position(|h| h == column).unwrap();
        &t.iter().find(|r| r[0] == role).unwrap()[c]
    }

    fn edit(role: &str, column: &str, value: &str) -> CellEdit {
        CellEdit {
            role: role.into(),
            column: column.into(),
            value: value.into(),
            row: 0,
        }
    }

    #[test]
    fn rows_show_templates_wildcards_and_conditional_grants() {
        let doc = sample();
        let order = table(&doc, "inbound_order");
        // Before: approver's approve was empty (its grant has a `when`) and admin's and
        // auditor's fields were hidden (`*` grants).
        assert_eq!(cell(&order, "approver", "action:approve"), "all");
        assert_eq!(cell(&order, "admin", "field:unit_price"), "editable");
        assert_eq!(cell(&order, "auditor", "field:supplier"), "readonly");
        assert_eq!(cell(&order, "auditor", "action:export"), "all");
        // The `#why` row under a role says where values come from.
        let why = |role: &str, column: &str| {
            let c = order[0].iter().position(|h| h == column).unwrap();
            let at = order.iter().position(|r| r[0] == role).unwrap();
            assert_eq!(order[at + 1][0], "#why");
            order[at + 1][c].clone()
        };
        assert!(why("approver", "action:approve").contains("when record.status == 'pending'"));
        assert!(why("approver", "field:order_no").contains("from template order_reader"));
        assert!(why("admin", "field:unit_price").contains("every resource"));
        assert!(
            why("purchaser", "action:edit").contains("lock-under-approval"),
            "the approval lock shows on the cell it caps: {}",
            why("purchaser", "action:edit")
        );
        let customer = table(&doc, "customer");
        assert_eq!(cell(&customer, "sales", "field:phone"), "editable");
        // Their own customers, and those shared with them on top (a note says so).
        assert_eq!(cell(&customer, "sales", "action:edit"), "own");
        let c = customer[0].iter().position(|h| h == "action:edit").unwrap();
        let at = customer.iter().position(|r| r[0] == "sales").unwrap();
        assert!(
            customer[at + 1][c].contains("also member records"),
            "{:?}",
            customer[at + 1]
        );
        assert_eq!(cell(&customer, "sales_lead", "action:edit"), "subordinates");
        let contact = table(&doc, "contact");
        assert_eq!(cell(&contact, "sales", "action:edit"), "parent");
        assert_eq!(
            cell(&customer, "sales_manager", "action:edit"),
            "department_tree"
        );
    }

    #[test]
    fn editing_one_cell_leaves_a_masked_view_grant_alone() {
        // The issue's case: a view grant (phone masked) and an edit grant on own records.
        let mut doc = sample();
        doc["roles"]["clerk"] = json!({"grants": [
            {"resource": "customer", "actions": ["view"], "fields": {"*": "readonly", "phone": "masked"}},
            {"resource": "customer", "actions": ["edit"], "scope": "own"}
        ]});
        let p = compiled(&doc);
        let out = apply(
            &doc,
            &p,
            "customer",
            &[edit("clerk", "field:notes", "readonly")],
        )
        .unwrap();
        let grants = &out["roles"]["clerk"]["grants"];
        assert_eq!(grants[0]["fields"]["phone"], "masked", "{grants:#}");
        assert_eq!(grants[1]["fields"]["notes"], "readonly", "{grants:#}");
        let d = fieldgate::admin::diff(&checked(&doc), &checked(&out), None, &Default::default())
            .unwrap();
        assert!(!d.access.is_empty());
        assert!(
            d.access.iter().all(|c| c.what.starts_with("field notes")),
            "only notes changes: {:#?}",
            d.access
        );
    }

    #[test]
    fn an_edit_that_needs_a_template_changed_is_refused_with_the_reason() {
        let doc = sample();
        let p = compiled(&doc);
        let e = apply(
            &doc,
            &p,
            "customer",
            &[edit("sales", "field:company", "hidden")],
        )
        .unwrap_err();
        assert!(
            e[0].message.contains("template customer_owner"),
            "{}",
            e[0].message
        );
        let e = apply(&doc, &p, "customer", &[edit("sales", "action:view", "")]).unwrap_err();
        assert!(e[0].message.contains("template"), "{}", e[0].message);
    }

    #[test]
    fn an_unedited_sheet_changes_nothing_and_edits_land() {
        let doc = sample();
        let p = compiled(&doc);
        let t = table(&doc, "inbound_order");
        assert_eq!(import(&doc, &p, "inbound_order", &t, "").unwrap(), doc);
        let mut edited = t.clone();
        let col = edited[0].iter().position(|h| h == "action:export").unwrap();
        let row = edited
            .iter()
            .position(|r| r[0] == "warehouse_admin")
            .unwrap();
        edited[row][col] = "All".into();
        let out = import(&doc, &p, "inbound_order", &edited, "").unwrap();
        // The role's conditional grant is untouched; export is added on its own.
        let grants = out["roles"]["warehouse_admin"]["grants"]
            .as_array()
            .unwrap();
        assert!(grants.contains(&doc["roles"]["warehouse_admin"]["grants"][1]));
        assert_eq!(out["templates"], doc["templates"]);
        assert_eq!(out["rules"], doc["rules"]);
        let again = table(&out, "inbound_order");
        assert_eq!(cell(&again, "warehouse_admin", "action:export"), "all");
        // The page's own words read: `read-only`, `no`, `Own`, `Editable`.
        let mut words = t.clone();
        let c = words[0]
            .iter()
            .position(|h| h == "field:approver_comment")
            .unwrap();
        let r = words.iter().position(|r| r[0] == "purchaser").unwrap();
        words[r][c] = "Read-only".into();
        let d = words[0].iter().position(|h| h == "action:delete").unwrap();
        words[r][d] = "no".into();
        let e = words[0].iter().position(|h| h == "action:edit").unwrap();
        words[r][e] = "Own".into();
        let q = words[0].iter().position(|h| h == "field:quantity").unwrap();
        words[r][q] = "Editable".into();
        let out = import(&doc, &p, "inbound_order", &words, "").unwrap();
        assert_eq!(
            cell(&table(&out, "inbound_order"), "purchaser", "action:delete"),
            ""
        );
    }

    /// The page's import makes the cells it can and answers the rest, each with why: a value
    /// that is no state, and an edit that would change another role too.
    #[test]
    fn a_partial_import_makes_what_it_can() {
        let doc = sample();
        let p = compiled(&doc);
        let mut t = table(&doc, "customer");
        let row = |t: &[Vec<String>], role: &str| t.iter().position(|r| r[0] == role).unwrap();
        let col = |t: &[Vec<String>], c: &str| t[0].iter().position(|h| h == c).unwrap();
        let (wh, purchaser, manager) = (
            row(&t, "warehouse_admin"),
            row(&t, "purchaser"),
            row(&t, "sales_manager"),
        );
        let (view, notes) = (col(&t, "action:view"), col(&t, "field:notes"));
        t[wh][view] = "all".into();
        t[purchaser][view] = "visible".into();
        t[manager][notes] = "read-only".into();
        let (out, refused) = import_partly(&doc, &p, "customer", &t, "m").unwrap();
        let got: Vec<(usize, &str)> = refused.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            got,
            [(purchaser + 1, "action:view"), (manager + 1, "field:notes")]
        );
        let after = table(&out, "customer");
        assert_eq!(after[wh][view], "all");
        assert_eq!(
            after[manager][notes],
            table(&doc, "customer")[manager][notes]
        );
        // Nothing makeable: every reason, nothing made.
        let mut none = table(&doc, "customer");
        none[purchaser][view] = "visible".into();
        assert_eq!(
            import_partly(&doc, &p, "customer", &none, "m")
                .unwrap_err()
                .len(),
            1
        );
    }

    #[test]
    fn bad_cells_are_all_reported_and_nothing_changes() {
        let doc = sample();
        let p = compiled(&doc);
        let mut t = table(&doc, "customer");
        let row = |t: &[Vec<String>], role: &str| t.iter().position(|r| r[0] == role).unwrap();
        let (sales, manager) = (row(&t, "sales"), row(&t, "sales_manager"));
        t[sales][1] = "secret".into();
        let view = t[0].iter().position(|h| h == "action:view").unwrap();
        t[manager][view] = "everywhere".into();
        let purchaser = row(&t, "purchaser");
        t[purchaser][0] = "ghost".into();
        let errors = import(&doc, &p, "customer", &t, "m").unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (sales + 1, "field:name"),
                (manager + 1, "action:view"),
                (purchaser + 1, "role")
            ]
        );
        assert!(errors.iter().all(|e| e.sheet == "m"));
        let mut short = t.clone();
        short[0].pop();
        assert_eq!(
            import(&doc, &p, "customer", &short, "").unwrap_err()[0].row,
            1
        );
    }

    #[test]
    fn cli_csv_has_a_bom_labels_and_escapes_and_xlsx_round_trips() {
        let dir = common::temp_dir("admin-matrix");
        let csv = dir.join("m.csv");
        let xlsx = dir.join("m.xlsx");
        let p = "examples/acme-erp.policy.json";
        let mut doc = sample();
        doc["resources"]["customer"]["fields"]["name"]["label"] = json!("客户名称");
        doc["resources"]["customer"]["fields"]["notes"]["label"] =
            json!("=HYPERLINK(\"http://x\")");
        let policy = dir.join("p.json");
        std::fs::write(&policy, doc.to_string()).unwrap();
        let pol = policy.to_str().unwrap();
        let export = [
            "matrix",
            "export",
            "--policy",
            pol,
            "--resource",
            "customer",
            "--all-roles",
            "--out",
        ];
        let mut args = export.to_vec();
        args.push(csv.to_str().unwrap());
        assert!(common::fieldgate(&args, "").status.success());
        let bytes = std::fs::read(&csv).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF\"role\",\"field:name\","));
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\n\"#label\",\"客户名称\","), "{text}");
        assert!(
            text.contains("'=HYPERLINK"),
            "formula cells are escaped: {text}"
        );
        let x = [
            "matrix",
            "export",
            "--policy",
            p,
            "--resource",
            "customer",
            "--role",
            "sales",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ];
        assert!(common::fieldgate(&x, "").status.success());
        let out = dir.join("p2.json");
        let r = common::fieldgate(
            &[
                "matrix",
                "import",
                "--policy",
                p,
                "--resource",
                "customer",
                "--in",
                xlsx.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            "",
        );
        assert!(r.status.success(), "{}", common::stdout(&r));
        assert_eq!(
            common::read_json(&out),
            sample(),
            "an unedited matrix changes nothing"
        );
    }
}

const DIRECTORY: &str = "examples/acme-erp.directory.csv";

#[test]
fn diff_sees_department_and_group_assignments_and_names_who() {
    let dir = common::temp_dir("admin-diff-people");
    let mut doc = sample();
    doc["assignments"]["departments"]["sales-east"] = json!(["admin"]);
    let p2 = dir.join("p2.json");
    std::fs::write(&p2, doc.to_string()).unwrap();
    let p2 = p2.to_str().unwrap();
    // With the directory: u-alice (in sales-east) gains, by name.
    let out = common::fieldgate(&["diff", P, p2, "--directory", DIRECTORY], "");
    assert_eq!(out.status.code(), Some(1), "access changed");
    let text = common::stdout(&out);
    assert!(
        text.contains("Alice Chen: Customer › Bank account goes from masked to editable"),
        "{text}"
    );
    assert!(!text.contains("Bob Li"), "u-bob is in sales-west: {text}");
    // Without one: the department's stand-in shows it.
    let out = common::fieldgate(&["diff", P, p2, "--json"], "");
    assert_eq!(out.status.code(), Some(1));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(d["access"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["subject"] == "department:sales-east" && c["what"] == "action delete"));
    // A group assignment the same way.
    let mut doc = sample();
    doc["assignments"]["groups"]["internal-audit"] = json!(["auditor", "approver"]);
    std::fs::write(dir.join("p3.json"), doc.to_string()).unwrap();
    let out = common::fieldgate(
        &[
            "diff",
            P,
            dir.join("p3.json").to_str().unwrap(),
            "--directory",
            DIRECTORY,
        ],
        "",
    );
    assert!(
        common::stdout(&out).contains("Heidi Wu gains Approve on Inbound order"),
        "{}",
        common::stdout(&out)
    );
}

#[test]
fn a_diff_too_large_ends_with_its_code() {
    let mut doc = sample();
    doc["assignments"]["departments"]["hq"] = json!(["admin"]);
    let dir = common::temp_dir("admin-diff-large");
    let p2 = dir.join("p2.json");
    std::fs::write(&p2, doc.to_string()).unwrap();
    let out = common::fieldgate(&["diff", P, p2.to_str().unwrap(), "--max-changes", "5"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("diff_too_large"), "{err}");
}

#[test]
fn who_can_sees_people_through_their_department() {
    let out = common::fieldgate(
        &[
            "who-can",
            "--policy",
            P,
            "--resource",
            "customer",
            "--action",
            "export",
            "--directory",
            DIRECTORY,
            "--json",
        ],
        "",
    );
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let carol = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "u-carol")
        .expect("u-carol exports her department tree's customers");
    assert_eq!(carol["via"][0]["role"], "sales_manager");
    // u-heidi exports through the group that gives her auditor.
    let heidi = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "u-heidi")
        .unwrap();
    assert!(heidi["via"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["through"] == json!({"kind": "group", "name": "internal-audit"})));
}

#[test]
fn personal_limits_cap_one_person_and_show_everywhere() {
    let mut doc = sample();
    doc["assignments"]["users"]["u-alice"]["limits"] =
        json!([{"resource": "customer", "fields": {"phone": "hidden", "email": "masked"}}]);
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let alice = p.session(&fieldgate::Subject::new("u-alice"));
    let bob = p.session(&fieldgate::Subject::new("u-bob"));
    let own = json!({"owner_id": "u-alice"});
    let f = alice
        .fields(
            "customer",
            fieldgate::Mode::Edit,
            fieldgate::Input::json(Some(&own), None),
        )
        .unwrap();
    assert_eq!(f.get("phone"), Some(fieldgate::FieldState::Hidden));
    assert_eq!(f.get("email"), Some(fieldgate::FieldState::Masked));
    let bobs = json!({"owner_id": "u-bob"});
    let f = bob
        .fields(
            "customer",
            fieldgate::Mode::Edit,
            fieldgate::Input::json(Some(&bobs), None),
        )
        .unwrap();
    assert_eq!(
        f.get("phone"),
        Some(fieldgate::FieldState::Editable),
        "only u-alice is capped"
    );
    let e = alice
        .explain("edit", "customer", fieldgate::Input::json(Some(&own), None))
        .unwrap();
    let phone = e.fields.iter().find(|t| t.name == "phone").unwrap();
    assert_eq!(
        phone.capped_by.as_deref(),
        Some("assignments.users.u-alice.limits[0]")
    );
    // Minimized for u-alice, the limit stays.
    let small = fieldgate::core::minimize(&doc, &p, &fieldgate::Subject::new("u-alice"));
    assert_eq!(
        small["assignments"]["users"]["u-alice"]["limits"],
        doc["assignments"]["users"]["u-alice"]["limits"]
    );
    // And a diff names it.
    let d = fieldgate::admin::diff(
        &checked(&sample()),
        &checked(&doc),
        None,
        &Default::default(),
    )
    .unwrap();
    assert!(
        d.summary(fieldgate::admin::words::Lang::En)
            .iter()
            .any(|l| l == "u-alice: Customer › Phone goes from editable to hidden (in edit forms; their own records)"),
        "{:#?}",
        d.summary(fieldgate::admin::words::Lang::En)
    );
    // Mistakes in one are found with their path.
    doc["assignments"]["users"]["u-alice"]["limits"] =
        json!([{"resource": "customer", "fields": {"fone": "hidden"}, "actions": []}]);
    let errs = Policy::from_value(&doc).unwrap_err();
    let paths: Vec<&str> = errs.errors().iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"assignments.users.u-alice.limits[0].fields.fone"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"assignments.users.u-alice.limits[0].actions"),
        "{paths:?}"
    );
}

#[test]
fn partial_transfer_moves_exactly_what_is_chosen() {
    let mut doc = sample();
    doc["assignments"]["users"]["u-carol"]["grants"] = json!([
        {"resource": "customer", "actions": ["export"], "scope": "own"},
        {"resource": "inbound_order", "actions": ["view"]}
    ]);
    doc["assignments"]["users"]["u-carol"]["limits"] =
        json!([{"resource": "customer", "fields": {"phone": "masked"}}]);
    let dir = common::temp_dir("admin-transfer-partial");
    let p = dir.join("p.json");
    std::fs::write(&p, doc.to_string()).unwrap();
    let out = dir.join("p2.json");
    let r = common::fieldgate(
        &[
            "transfer",
            "--policy",
            p.to_str().unwrap(),
            "--from",
            "u-carol",
            "--to",
            "u-alice",
            "--grants",
            "1",
            "--limits",
            "assignments.users.u-carol.limits[0]",
            "--directory",
            DIRECTORY,
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
        "",
    );
    assert!(r.status.success(), "{}", common::stdout(&r));
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(report["roles"], json!([]), "roles were not chosen");
    assert_eq!(
        report["grants"],
        json!([{"resource": "inbound_order", "actions": ["view"]}])
    );
    assert_eq!(report["limits"].as_array().unwrap().len(), 1);
    assert_eq!(report["kept"], 3, "a role, a grant and a deny stay");
    let moved = common::read_json(&out);
    let carol = &moved["assignments"]["users"]["u-carol"];
    assert_eq!(carol["roles"], json!(["sales_manager"]));
    assert_eq!(
        carol["grants"],
        json!([{"resource": "customer", "actions": ["export"], "scope": "own"}])
    );
    assert!(carol.get("limits").is_none());
    let bad = common::fieldgate(
        &[
            "transfer",
            "--policy",
            P,
            "--from",
            "u-carol",
            "--to",
            "u-alice",
            "--grants",
            "7",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        common::stdout(&bad).starts_with("unknown_entry"),
        "{}",
        common::stdout(&bad)
    );
}

#[test]
fn a_review_sheet_and_its_revocations() {
    let dir = common::temp_dir("admin-review");
    let sheet = dir.join("review.csv");
    let r = common::fieldgate(
        &[
            "review",
            "--policy",
            P,
            "--directory",
            DIRECTORY,
            "--resource",
            "customer",
            "--format",
            "csv",
            "--out",
            sheet.to_str().unwrap(),
        ],
        "",
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let rows = fieldgate::host::table::read_csv(
        &std::fs::read(&sheet).unwrap(),
        fieldgate::host::table::Encoding::Auto,
    )
    .unwrap();
    assert_eq!(
        rows[0],
        fieldgate::admin::review::COLUMNS.map(String::from).to_vec()
    );
    let line = |person: &str, item: &str| rows.iter().position(|r| r[0] == person && r[4] == item);
    // Masked fields and export-like actions, by default.
    let bank = line("u-carol", "field:bank_account").expect("carol sees bank accounts masked");
    assert_eq!(rows[bank][5], "masked");
    let export = line("u-heidi", "action:export").expect("heidi exports through her group");
    assert!(
        rows[export][6].split(';').any(|v| v == "group"),
        "{}",
        rows[export][6]
    );
    assert!(
        line("u-alice", "field:notes").is_none(),
        "notes have no mask"
    );
    // Revoke two lines; everything else stays.
    let mut reviewed = rows.clone();
    reviewed[bank][9] = "revoke".into();
    reviewed[export][9] = "Revoke".into();
    let keep = line("u-bob", "field:phone").unwrap();
    reviewed[keep][9] = "keep".into();
    std::fs::write(&sheet, fieldgate::host::table::write_csv(&reviewed)).unwrap();
    let out = dir.join("p2.json");
    let r = common::fieldgate(
        &[
            "review",
            "apply",
            "--policy",
            P,
            "--in",
            sheet.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--directory",
            DIRECTORY,
        ],
        "",
    );
    assert!(r.status.success(), "{}", common::stdout(&r));
    let d = common::fieldgate(
        &[
            "diff",
            P,
            out.to_str().unwrap(),
            "--directory",
            DIRECTORY,
            "--json",
        ],
        "",
    );
    let d: Value = serde_json::from_slice(&d.stdout).unwrap();
    let who: std::collections::BTreeSet<&str> = d["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        who,
        ["user:u-carol", "user:u-heidi"].into_iter().collect(),
        "{:#}",
        d["access"]
    );
    // A line that cannot be revoked alone (nobody by that id) is refused, nothing written.
    reviewed[keep][0] = "u-nobody".into();
    reviewed[keep][9] = "revoke".into();
    std::fs::write(&sheet, fieldgate::host::table::write_csv(&reviewed)).unwrap();
    let r = common::fieldgate(
        &[
            "review",
            "apply",
            "--policy",
            P,
            "--in",
            sheet.to_str().unwrap(),
            "--out",
            dir.join("p3.json").to_str().unwrap(),
            "--directory",
            DIRECTORY,
        ],
        "",
    );
    assert_eq!(r.status.code(), Some(1));
    assert!(
        common::stdout(&r).contains("u-nobody"),
        "{}",
        common::stdout(&r)
    );
    assert!(!dir.join("p3.json").exists());
}

#[test]
fn explain_names_the_reporting_line_members_list_or_parent_a_grant_matched() {
    let doc = common::read_json(&common::root().join("tests/fixtures/core/crm-scopes.json"))
        ["policy"]
        .clone();
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let matched = |subject: Value, action: &str, resource: &str, record: Value| -> Vec<Value> {
        let s = p.session(&serde_json::from_value(subject).unwrap());
        let e = s
            .explain(
                action,
                resource,
                fieldgate::Input::json(Some(&record), None),
            )
            .unwrap();
        e.grants
            .iter()
            .filter(|g| g.applies && g.lists_action)
            .map(|g| serde_json::to_value(&g.matched).unwrap())
            .collect()
    };
    let lead = json!({"id": "u-l", "roles": ["lead"], "reports": {"u-a": 1, "u-b": 2}});
    assert_eq!(
        matched(lead.clone(), "edit", "customer", json!({"owner": "u-b"})),
        [json!({"scope": "subordinates", "owner": "u-b", "distance": 2})]
    );
    assert_eq!(
        matched(lead, "edit", "customer", json!({"owner": "u-l"})),
        [json!({"scope": "subordinates", "owner": "u-l", "distance": 0})]
    );
    let rep = json!({"id": "u-b", "roles": ["rep"]});
    assert_eq!(
        matched(
            rep.clone(),
            "edit",
            "customer",
            json!({"owner": "u-z", "team": ["u-b"]})
        ),
        [json!({"scope": "member", "list": "team"})]
    );
    // A parent grant is traced once, though it is planned once per action.
    let contact = json!({"customer": {"id": "c-1", "owner": "u-b"}});
    assert_eq!(
        matched(rep.clone(), "edit", "contact", contact.clone()),
        [json!({"scope": "parent", "resource": "customer", "id": "c-1"})]
    );
    let s = p.session(&serde_json::from_value(rep).unwrap());
    let e = s
        .explain(
            "view",
            "contact",
            fieldgate::Input::json(Some(&contact), None),
        )
        .unwrap();
    assert_eq!(e.grants.len(), 1, "{:?}", e.grants);
}

#[test]
fn a_new_manager_in_the_directory_is_an_access_change_naming_who_gains_and_loses() {
    let doc = sample();
    let p = std::sync::Arc::new(Policy::from_value(&doc).unwrap());
    let people =
        common::read_json(&common::root().join("examples/acme-erp.data.json"))["users"].clone();
    let with_bob_under = |manager: Option<&str>| {
        let mut list = people.clone();
        for u in list.as_array_mut().unwrap() {
            let title = u.as_object_mut().unwrap().remove("title");
            u["attrs"] = json!({ "title": title });
            if u["id"] == "u-bob" {
                match manager {
                    Some(m) => u["manager"] = json!(m),
                    None => {
                        u.as_object_mut().unwrap().remove("manager");
                    }
                }
            }
        }
        fieldgate::admin::Directory::from_json(&list, Some(&p)).unwrap()
    };
    let (under_ivan, alone) = (with_bob_under(Some("u-ivan")), with_bob_under(None));
    let changes = |was: &fieldgate::admin::Directory, is: &fieldgate::admin::Directory| {
        let c = checked(&doc);
        let d = fieldgate::admin::diff_people(&c, &c, [Some(was), Some(is)], &Default::default())
            .unwrap();
        d.access
            .iter()
            .map(|c| {
                let owner = c.record.as_ref().map(|r| r["owner_id"].clone());
                (
                    c.subject.clone(),
                    c.records,
                    c.what.clone(),
                    c.direction,
                    owner,
                )
            })
            .collect::<Vec<_>>()
    };
    let lost = changes(&under_ivan, &alone);
    assert!(
        lost.contains(&(
            "user:u-ivan".into(),
            "former_report",
            "action edit".into(),
            "lost",
            Some(json!("u-bob"))
        )),
        "{lost:#?}"
    );
    assert!(
        lost.iter()
            .all(|c| c.0 == "user:u-ivan" || c.0 == "user:u-carol"),
        "only the managers above Bob lose: {lost:#?}"
    );
    let gained = changes(&alone, &under_ivan);
    assert!(
        gained.contains(&(
            "user:u-ivan".into(),
            "report",
            "action edit".into(),
            "gained",
            Some(json!("u-bob"))
        )),
        "{gained:#?}"
    );
}

/// A policy document checked once, as the admin toolkit takes it.
fn checked(doc: &Value) -> Checked {
    Checked::from_value(doc.clone()).unwrap()
}

#[test]
fn lint_flags_flows_that_cannot_work() {
    let doc = json!({
        "format": "fieldgate/1", "app": "flows", "version": 1,
        "resources": {"order": {
            "actions": ["view", "submit", "approve", "archive"],
            "fields": {"status": {}},
            "workflow": {
                "field": "status", "initial": "draft",
                "states": {"draft": {}, "pending": {}, "done": {}, "limbo": {}},
                "transitions": {
                    "submit": {"from": ["draft"], "to": "pending"},
                    "approve": {"from": ["pending"], "to": "done",
                                "steps": [{"id": "boss"}, {"id": "cfo"}]},
                    "archive": {"from": ["done"], "to": "done"}
                }
            }
        }},
        "roles": {"clerk": {"grants": [{"resource": "order", "actions": ["view", "submit", "approve", "approve:boss"]}]}},
        "assignments": {"users": {"u-cfo": {"grants": [{"resource": "order", "actions": ["approve:cfo"]}]}}}
    });
    let found = |d: &Value| {
        lint(&checked(d), None, Horizon::at(0))
            .into_iter()
            .map(|w| (w.code, w.path))
            .collect::<Vec<_>>()
    };
    let got = found(&doc);
    let want = [
        ("unreachable_state", "resources.order.workflow.states.limbo"),
        (
            "transition_nobody_can_do",
            "resources.order.workflow.transitions.archive",
        ),
        ("flow_without_separation", "resources.order.workflow"),
    ];
    for w in want {
        assert!(
            got.iter().any(|(c, p)| (*c, p.as_str()) == w),
            "{w:?} in {got:?}"
        );
    }
    // The CFO's step is signed by a person's own grant: not flagged. Take it away, and it is.
    assert!(
        !got.iter().any(|(c, _)| *c == "step_nobody_can_sign"),
        "{got:?}"
    );
    let mut without = doc.clone();
    without["assignments"]["users"]["u-cfo"]["grants"][0]["actions"] = json!(["view"]);
    let got = found(&without);
    assert!(
        got.iter().any(|(c, p)| *c == "step_nobody_can_sign"
            && p == "resources.order.workflow.transitions.approve.steps[1]"),
        "{got:?}"
    );
    // A separation rule silences its warning.
    let mut separated = doc.clone();
    separated["resources"]["order"]["workflow"]["distinct"] = json!(["submit", "approve"]);
    assert!(!found(&separated)
        .iter()
        .any(|(c, _)| *c == "flow_without_separation"));
}

#[test]
fn diff_says_what_changed_in_a_flow_in_words() {
    // The sample before its finance step: one approval for every order.
    let mut before = common::read_json(&common::root().join(P));
    let steps =
        &mut before["resources"]["inbound_order"]["workflow"]["transitions"]["approve"]["steps"];
    steps
        .as_array_mut()
        .unwrap()
        .retain(|s| s["id"] != "finance");
    let grant = &mut before["roles"]["finance_approver"]["grants"][0]["actions"];
    grant
        .as_array_mut()
        .unwrap()
        .retain(|a| a != "approve:finance");
    let dir = common::temp_dir("admin-flow-diff");
    let old = dir.join("one-step.json");
    std::fs::write(&old, before.to_string()).unwrap();
    let run = |lang: &str| {
        let out = common::fieldgate(
            &[
                "diff",
                "--lang",
                lang,
                "--directory",
                "examples/acme-erp.directory.csv",
                old.to_str().unwrap(),
                P,
            ],
            "",
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::stdout(&out)
    };
    let zh = run("zh-CN");
    let said = "入库审批：新增「财务审批」步骤（总金额 > 50,000 时）";
    // Once as a structural change, and as the cause heading the finance approver's new access.
    assert!(zh.contains(&format!("  {said}\n")), "{zh}");
    let heading = zh
        .lines()
        .position(|l| l.contains(said) && !l.starts_with(' '));
    let heading = heading.unwrap_or_else(|| panic!("no heading names the new step: {zh}"));
    let next = zh.lines().nth(heading + 1).unwrap_or_default();
    assert!(
        next.contains("Judy Zhao") && next.contains("「审批（财务审批）」"),
        "{zh}"
    );
    assert!(
        !zh.contains("修改表单「入库单」"),
        "only the flow changed: {zh}"
    );
    let en = run("en");
    assert!(
        en.contains("Inbound approval: step “Finance approval” added (when Total amount > 50,000)"),
        "{en}"
    );
}

#[test]
fn explain_says_where_a_person_stands_in_a_flow() {
    let record = r#"{"status":"pending","total_amount":64000,"created_by":"u-dave","_flow":{"by":{"submit":["u-dave"]}}}"#;
    let line = |user: &str, lang: &str| {
        let args = [
            "explain",
            "--policy",
            P,
            "--user",
            user,
            "--action",
            "approve",
            "--resource",
            "inbound_order",
            "--record",
            record,
            "--lang",
            lang,
        ];
        let out = common::fieldgate(&args, "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = common::stdout(&out);
        text.lines()
            .find_map(|l| l.strip_prefix("flow: ").map(str::to_string))
            .unwrap_or_else(|| panic!("no flow line: {text}"))
    };
    assert_eq!(line("u-frank", "zh-CN"), "可以审批：第 1 步 部门主管审批");
    assert_eq!(
        line("u-judy", "zh-CN"),
        "不能审批：等待第 1 步 部门主管审批"
    );
    assert_eq!(line("u-dave", "en"), "cannot Approve: no grant gives it");
}
