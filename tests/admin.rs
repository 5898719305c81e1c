//! The admin toolkit: golden outputs on the sample policy, a failing suite, transfer unions,
//! and one crafted policy per lint warning.

mod common;

use fieldgate::admin::{lint, transfer};
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
        json!({"structure": [{"kind": "resource", "name": "customer", "change": "changed"}], "access": []})
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
        .any(|c| c["subject"] == "user:u-ivan"
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

#[test]
fn transfer_gives_the_successor_exactly_the_union_and_the_leaver_nothing() {
    let mut doc = sample();
    doc["assignments"]["users"]["u-bob"]["roles"] = json!(["sales", "purchaser"]);
    let (out, report) = transfer(&doc, "u-carol", "u-bob", false, false).unwrap();
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
    let (out, report) = transfer(&doc, "u-alice", "u-bob", true, false).unwrap();
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
        transfer(&doc, "u-zed", "u-bob", false, false)
            .unwrap_err()
            .code(),
        "unknown_user"
    );
    assert_eq!(
        transfer(&doc, "u-alice", "u-new", false, false)
            .unwrap_err()
            .code(),
        "unknown_user"
    );
    assert!(
        transfer(&doc, "u-alice", "u-new", false, true).is_ok(),
        "--new-user allows a new successor"
    );
    assert_eq!(
        transfer(&doc, "u-alice", "u-alice", false, false)
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
        "assignments": {"users": {"u": {"roles": ["clerk", "helper"]}}},
        "rules": [
            {"id": "never", "effect": "deny", "resource": "doc", "actions": ["edit"], "when": "1 == 2"},
            {"id": "noop", "effect": "limit", "resource": "doc", "fields": {"*": "editable"}},
            {"id": "real", "effect": "deny", "resource": "doc", "actions": ["edit"], "when": "record.locked == true"}
        ]
    });
    let p = Policy::from_value(&doc).unwrap();
    let got: Vec<(String, &str)> = lint(&doc, &p)
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
    ];
    for w in want {
        assert!(
            got.contains(&(w.0.to_string(), w.1)),
            "missing {w:?} in {got:?}"
        );
    }
    assert_eq!(got.len(), want.len(), "no other warnings: {got:?}");
}

mod matrix {
    use super::{common, sample};
    use fieldgate::admin::matrix::{export, import};
    use fieldgate::Policy;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    const STATES: [&str; 4] = ["hidden", "masked", "readonly", "editable"];
    const SCOPES: [&str; 5] = ["", "all", "own", "department", "department_tree"];
    const ROLES: [&str; 3] = ["sales", "purchaser", "auditor"];

    fn compiled(doc: &Value) -> Policy {
        Policy::from_value(doc).unwrap()
    }

    /// A random row for `role`: field states and action scopes; a row with no action has
    /// every field hidden (nothing else is expressible without a grant).
    fn row(role: &'static str) -> impl Strategy<Value = Vec<String>> {
        (
            prop::collection::vec(prop::sample::select(STATES.to_vec()), 10),
            prop::collection::vec(prop::sample::select(SCOPES.to_vec()), 6),
        )
            .prop_map(move |(states, scopes)| {
                let none = scopes.iter().all(|s| s.is_empty());
                let mut r = vec![role.to_string()];
                r.extend(
                    states
                        .iter()
                        .map(|s| if none { "hidden" } else { s }.to_string()),
                );
                r.extend(scopes.iter().map(|s| s.to_string()));
                r
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn export_after_import_gives_the_matrix_back(rows in (row(ROLES[0]), row(ROLES[1]), row(ROLES[2]))) {
            let doc = sample();
            let p = compiled(&doc);
            let roles: Vec<String> = ROLES.iter().map(|r| r.to_string()).collect();
            let mut table = vec![export(&doc, &p, "customer", Some(&roles)).unwrap().remove(0)];
            table.extend([rows.0, rows.1, rows.2]);
            let out = import(&doc, &p, "customer", &table).unwrap();
            let again = export(&out, &compiled(&out), "customer", Some(&roles)).unwrap();
            prop_assert_eq!(again, table);
        }
    }

    #[test]
    fn import_keeps_what_a_matrix_cannot_express() {
        let doc = sample();
        let p = compiled(&doc);
        let mut table = export(&doc, &p, "inbound_order", None).unwrap();
        let export_col = table[0].iter().position(|h| h == "action:export").unwrap();
        let row = table
            .iter()
            .position(|r| r[0] == "warehouse_admin")
            .unwrap();
        table[row][export_col] = "all".into();
        let out = import(&doc, &p, "inbound_order", &table).unwrap();
        // The edited role's grant with a `when` is not in the matrix and stays as it was.
        let grants = out["roles"]["warehouse_admin"]["grants"]
            .as_array()
            .unwrap();
        assert!(
            grants.contains(&doc["roles"]["warehouse_admin"]["grants"][1]),
            "{grants:?}"
        );
        assert_ne!(
            out["roles"]["warehouse_admin"], doc["roles"]["warehouse_admin"],
            "the edit landed"
        );
        assert_eq!(out["templates"], doc["templates"]);
        assert_eq!(out["rules"], doc["rules"]);
        assert_eq!(
            export(&out, &compiled(&out), "inbound_order", None).unwrap(),
            table
        );
    }

    #[test]
    fn bad_cells_are_all_reported_and_nothing_changes() {
        let doc = sample();
        let p = compiled(&doc);
        let mut table = export(&doc, &p, "customer", None).unwrap();
        table[1][1] = "secret".into();
        table[2][11] = "everywhere".into();
        table[3][0] = "ghost".into();
        let errors = import(&doc, &p, "customer", &table).unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert_eq!(
            got,
            vec![(2, "field:name"), (3, "action:view"), (4, "role")]
        );
        let mut short = table.clone();
        short[0].pop();
        assert_eq!(import(&doc, &p, "customer", &short).unwrap_err()[0].row, 1);
    }

    #[test]
    fn cli_csv_has_a_bom_and_labels_and_xlsx_round_trips() {
        let dir = common::temp_dir("admin-matrix");
        let csv = dir.join("m.csv");
        let xlsx = dir.join("m.xlsx");
        let p = "examples/acme-erp.policy.json";
        let mut doc = sample();
        doc["resources"]["customer"]["fields"]["name"]["label"] = json!("客户名称");
        let policy = dir.join("p.json");
        std::fs::write(&policy, doc.to_string()).unwrap();
        let pol = policy.to_str().unwrap();
        assert!(common::fieldgate(
            &[
                "matrix",
                "export",
                "--policy",
                pol,
                "--resource",
                "customer",
                "--all-roles",
                "--out",
                csv.to_str().unwrap()
            ],
            ""
        )
        .status
        .success());
        let bytes = std::fs::read(&csv).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBFrole,field:name,"));
        assert!(String::from_utf8(bytes)
            .unwrap()
            .contains("\n#label,客户名称,"));
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
