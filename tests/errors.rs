//! Every compile-time error code, each from a crafted document, with its JSON path.

mod common;

use fieldgate::{Code, Policy};
use serde_json::{json, Value};

/// A valid base document; each case patches it.
fn base() -> Value {
    json!({
        "format": "fieldgate/1", "app": "t", "version": 1,
        "departments": {"d1": {}, "d2": {"parent": "d1"}},
        "resources": {
            "customer": {"actions": ["view", "edit"], "owner": "owner_id", "department": "dept",
                         "fields": {"name": {}, "phone": {"mask": "phone"}}},
            "note": {"actions": ["view"], "fields": {"text": {}}}
        },
        "templates": {"t1": [{"resource": "customer", "actions": ["view"]}]},
        "roles": {"sales": {"templates": ["t1"], "grants": [{"resource": "customer", "actions": ["edit"], "scope": "own"}]}},
        "assignments": {"users": {"u1": {"roles": ["sales"]}}, "departments": {"d1": ["sales"]}, "groups": {"g": ["sales"]}},
        "rules": [{"id": "r1", "effect": "deny", "resource": "customer", "actions": ["edit"], "when": "record.locked == true"}]
    })
}

/// Sets the value at a `/`-separated pointer; the parent must exist (an array index one past
/// the end appends).
fn patch(mut doc: Value, pointer: &str, v: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"));
    match target {
        Value::Object(m) => {
            m.insert(key.to_string(), v);
        }
        Value::Array(a) => match key.parse::<usize>().unwrap() {
            i if i == a.len() => a.push(v),
            i => a[i] = v,
        },
        _ => panic!("cannot patch {pointer}"),
    }
    doc
}

fn errors(doc: &Value) -> Vec<(String, Code)> {
    match Policy::from_value(doc) {
        Ok(_) => vec![],
        Err(e) => e
            .errors()
            .iter()
            .map(|e| (e.path.clone(), e.code))
            .collect(),
    }
}

/// One case: patch the base, expect exactly this (path, code) among the errors.
fn check(pointer: &str, v: Value, path: &str, code: Code) {
    let doc = patch(base(), pointer, v);
    let got = errors(&doc);
    assert!(
        got.contains(&(path.to_string(), code)),
        "patching {pointer}: wanted {path}: {code}, got {got:?}"
    );
}

#[test]
fn base_is_valid() {
    assert_eq!(errors(&base()), vec![]);
}

#[test]
fn every_code_with_its_path() {
    use Code::*;
    check("/format", json!("fieldgate/2"), "format", BadFormat);
    check("/format", json!(1), "format", WrongType);
    check("/version", json!(-1), "version", BadVersion);
    check("/version", json!(1.5), "version", BadVersion);
    // Past JavaScript's safe integers a version is not exact in the package.
    check(
        "/version",
        json!(9_007_199_254_740_992u64),
        "version",
        BadVersion,
    );
    assert_eq!(
        errors(&patch(base(), "/version", json!(9_007_199_254_740_991u64))),
        vec![]
    );
    // App names become file and URL path segments.
    for bad in [
        "../x",
        "/abs/path",
        "zz/../acme-erp",
        "Acme",
        "-x",
        "",
        "a_b",
    ] {
        check("/app", json!(bad), "app", BadApp);
    }
    check(
        "/assignments/users/u1/limits",
        json!([{"resource": "customer", "fields": {"nope": "hidden"}}]),
        "assignments.users.u1.limits[0].fields.nope",
        UnknownField,
    );
    check("/extra", json!(1), "extra", UnknownKey);
    check(
        "/roles/sales/grants/0/fields",
        json!({"phon": "hidden"}),
        "roles.sales.grants[0].fields.phon",
        UnknownField,
    );
    check(
        "/roles/sales/grants/0/fields",
        json!({"phone": "secret"}),
        "roles.sales.grants[0].fields.phone",
        BadState,
    );
    check(
        "/roles/sales/grants/0/resource",
        json!("invoice"),
        "roles.sales.grants[0].resource",
        UnknownResource,
    );
    check(
        "/roles/sales/grants/0/actions",
        json!(["edit", "fly"]),
        "roles.sales.grants[0].actions[1]",
        UnknownAction,
    );
    check(
        "/roles/sales/grants/0/scope",
        json!("mine"),
        "roles.sales.grants[0].scope",
        BadScope,
    );
    check(
        "/roles/sales/grants/0/when",
        json!("record.x ==="),
        "roles.sales.grants[0].when",
        BadCondition,
    );
    check(
        "/roles/sales/grants/0/when",
        json!("(".repeat(40) + "true" + &")".repeat(40)),
        "roles.sales.grants[0].when",
        ConditionTooDeep,
    );
    check(
        "/roles/sales/grants/0/when",
        json!("true || ".repeat(1000) + "true"),
        "roles.sales.grants[0].when",
        ConditionTooLong,
    );
    check(
        "/roles/sales/grants/0/actions",
        json!("edit"),
        "roles.sales.grants[0].actions",
        WrongType,
    );
    check(
        "/roles/sales/templates",
        json!(["t2"]),
        "roles.sales.templates[0]",
        UnknownTemplate,
    );
    check(
        "/roles/sales/inherits",
        json!(["boss"]),
        "roles.sales.inherits[0]",
        UnknownRole,
    );
    check(
        "/roles/sales/inherits",
        json!(["sales"]),
        "roles.sales.inherits",
        RoleCycle,
    );
    check(
        "/roles/sales/oops",
        json!(1),
        "roles.sales.oops",
        UnknownKey,
    );
    check(
        "/resources/note/actions",
        json!(["view", "view"]),
        "resources.note.actions[1]",
        Duplicate,
    );
    check(
        "/resources/note/actions",
        json!((0..64).map(|i| format!("a{i}")).collect::<Vec<_>>()),
        "resources.note.actions",
        TooManyActions,
    );
    check(
        "/resources/note/fields/text",
        json!({"mask": "keep(1)"}),
        "resources.note.fields.text.mask",
        BadMask,
    );
    check(
        "/resources/note/owner",
        json!("a..b"),
        "resources.note.owner",
        BadName,
    );
    check(
        "/roles/sales/grants/0/resource",
        json!("note"),
        "roles.sales.grants[0].scope",
        ScopeNeedsOwner,
    );
    check(
        "/roles/sales/grants/0",
        json!({"resource": "note", "actions": ["view"], "scope": "department_tree"}),
        "roles.sales.grants[0].scope",
        ScopeNeedsDepartment,
    );
    check(
        "/roles/sales/grants/0",
        json!({"actions": ["view"]}),
        "roles.sales.grants[0]",
        MissingKey,
    );
    check(
        "/departments/d2/parent",
        json!("d9"),
        "departments.d2.parent",
        UnknownDepartment,
    );
    check(
        "/departments/d1",
        json!({"parent": "d2"}),
        "departments.d1.parent",
        DepartmentCycle,
    );
    check(
        "/assignments/departments/d7",
        json!(["sales"]),
        "assignments.departments.d7",
        UnknownDepartment,
    );
    check(
        "/assignments/groups/g",
        json!(["nobody"]),
        "assignments.groups.g[0]",
        UnknownRole,
    );
    check(
        "/assignments/users/u1/denies",
        json!([{"resource": "customer", "actions": ["zap"]}]),
        "assignments.users.u1.denies[0].actions[0]",
        UnknownAction,
    );
    check(
        "/rules/0/effect",
        json!("allow"),
        "rules[0].effect",
        BadEffect,
    );
    check(
        "/rules/0/except_roles",
        json!(["ghost"]),
        "rules[0].except_roles[0]",
        UnknownRole,
    );
    check(
        "/rules/1",
        json!({"id": "r1", "effect": "limit", "resource": "*", "fields": {"*": "readonly"}}),
        "rules[1].id",
        DuplicateRuleId,
    );
    check(
        "/rules/0/fields",
        json!({"name": "hidden"}),
        "rules[0].fields",
        UnknownKey,
    );
    check(
        "/assignments/users/u.2",
        json!({"roles": ["nope"]}),
        "assignments.users[\"u.2\"].roles[0]",
        UnknownRole,
    );
}

#[test]
fn condition_errors_carry_the_character_position() {
    let doc = patch(
        base(),
        "/roles/sales/grants/0/when",
        json!("user.id == '张三' && bad.x == 1"),
    );
    let e = Policy::from_value(&doc).unwrap_err();
    let err = &e.errors()[0];
    assert_eq!(err.code, Code::BadCondition);
    // Characters, not bytes: the two CJK characters count one each.
    assert_eq!(err.position, Some(19), "{err}");
}

#[test]
fn reports_all_errors_not_just_the_first() {
    let mut doc = patch(
        base(),
        "/roles/sales/grants/0/fields",
        json!({"phon": "hidden"}),
    );
    doc = patch(doc, "/rules/0/effect", json!("allow"));
    doc = patch(doc, "/departments/d2/parent", json!("zz"));
    let got = errors(&doc);
    assert_eq!(got.len(), 3, "{got:?}");
}

#[test]
fn documents_too_large_too_deep_or_not_json() {
    let big = vec![b' '; fieldgate::core::MAX_POLICY_BYTES + 1];
    assert_eq!(
        Policy::from_slice(&big).unwrap_err().first_code(),
        Code::TooLarge
    );
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert_eq!(
        Policy::from_json(&deep).unwrap_err().first_code(),
        Code::TooDeep
    );
    assert_eq!(
        Policy::from_json("{").unwrap_err().first_code(),
        Code::BadJson
    );
    assert_eq!(
        Policy::from_json("[]").unwrap_err().first_code(),
        Code::WrongType
    );
    assert_eq!(
        Policy::from_json("{}").unwrap_err().first_code(),
        Code::MissingKey
    );
}

#[test]
fn duplicate_keys_are_errors() {
    let text = r#"{"format":"fieldgate/1","app":"a","version":1,"version":2,
        "resources":{"r":{"actions":["view"]},"r":{"actions":["edit"]}}}"#;
    let e = Policy::from_json(text).unwrap_err();
    let got: Vec<(&str, Code)> = e
        .errors()
        .iter()
        .map(|e| (e.path.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        vec![
            ("version", Code::Duplicate),
            ("resources.r", Code::Duplicate)
        ]
    );
}

#[test]
fn extensions_are_allowed() {
    let doc = patch(base(), "/x-owner", json!("team crm"));
    assert_eq!(errors(&doc), vec![]);
}

#[test]
fn cli_check_prints_path_code_message_and_exits_1() {
    let dir = common::temp_dir("errors-cli");
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        patch(
            base(),
            "/roles/sales/grants/0/fields",
            json!({"phon": "hidden"}),
        )
        .to_string(),
    )
    .unwrap();
    let out = common::fieldgate(&["check", bad.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    let text = common::stdout(&out);
    assert!(
        text.starts_with("roles.sales.grants[0].fields.phon: unknown_field: "),
        "{text}"
    );

    let out = common::fieldgate(&["check", common::sample_policy().to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", common::stdout(&out));
}

/// A `label` is a text or texts by language, on resources, fields, roles, departments and
/// rules; anything else is `wrong_type` at its path.
#[test]
fn labels_are_texts_or_texts_by_language() {
    let both = json!({"zh-CN": "客户", "en": "Customer"});
    let mut doc = base();
    for pointer in [
        "/resources/customer/label",
        "/resources/customer/fields/name/label",
        "/roles/sales/label",
        "/departments/d1/label",
        "/rules/0/label",
    ] {
        doc = patch(doc, pointer, both.clone());
    }
    assert!(errors(&doc).is_empty(), "{:?}", errors(&doc));
    check(
        "/resources/customer/fields/name/label",
        json!({"zh-CN": 3}),
        "resources.customer.fields.name.label.zh-CN",
        Code::WrongType,
    );
    check(
        "/roles/sales/label",
        json!(7),
        "roles.sales.label",
        Code::WrongType,
    );
    check(
        "/rules/0/label",
        json!(["x"]),
        "rules[0].label",
        Code::WrongType,
    );
}
