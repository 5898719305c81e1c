//! Unit tests of the condition language: grammar, precedence, three-valued logic, operators.

use super::*;
use crate::core::attrs::NoAttrs;
use crate::core::error::Code;
use crate::prelude::*;
use serde_json::{json, Value};

fn user() -> UserValues {
    UserValues {
        id: json!("u1"),
        roles: json!(["sales", "admin"]),
        department: json!("east"),
        groups: json!(["g1"]),
        org: json!(null),
        attrs: vec![],
        department_tree: json!(["east"]),
        reports: json!(["u2"]),
    }
}

/// Evaluates `text` with `record` (None: no record) and `context`.
fn eval(text: &str, record: Option<Value>, context: Value) -> Truth {
    let mut slots = SlotTable::default();
    let expr = parse(text, &mut slots).unwrap_or_else(|e| panic!("{text}: {e:?}"));
    let mut u = user();
    u.attrs = slots.user_attrs.iter().map(|_| json!("gold")).collect();
    let env = Env {
        slots: &slots,
        user: &u,
        record: record.as_ref().map(|r| r as &dyn crate::core::Attrs),
        context: &context,
    };
    let t = expr.eval(&env);
    // Specialising to the user must never change the answer.
    assert_eq!(
        expr.specialize(&u, None).eval(&env),
        t,
        "specialised `{text}`"
    );
    t
}

fn on(text: &str, record: Value) -> Truth {
    eval(text, Some(record), json!({}))
}

fn err(text: &str) -> ParseError {
    parse(text, &mut SlotTable::default()).unwrap_err()
}

use Truth::{False as F, True as T, Unknown as U};

#[test]
fn comparisons() {
    assert_eq!(on("record.a == 1", json!({"a": 1.0})), T);
    assert_eq!(on("record.a != 1", json!({"a": 1})), F);
    assert_eq!(on("record.a == 'x'", json!({"a": "x"})), T);
    assert_eq!(on("record.a == \"x\"", json!({"a": "x"})), T);
    assert_eq!(on("record.a < 2", json!({"a": 1})), T);
    assert_eq!(on("record.a <= 1", json!({"a": 1})), T);
    assert_eq!(on("record.a > 'b'", json!({"a": "c"})), T);
    assert_eq!(on("record.a >= 'd'", json!({"a": "c"})), F);
    assert_eq!(
        on("record.a < 2", json!({"a": "1"})),
        F,
        "mixed types never order"
    );
    assert_eq!(on("record.a > null", json!({"a": 1})), F);
    assert_eq!(on("record.missing == null", json!({})), T);
    assert_eq!(on("record.a.b == 2", json!({"a": {"b": 2}})), T);
    assert_eq!(on("record.a == [1, 'x']", json!({"a": [1, "x"]})), T);
    assert_eq!(on("record.a == -1.5e2", json!({"a": -150})), T);
}

#[test]
fn membership() {
    assert_eq!(on("record.s in ['a', 'b']", json!({"s": "b"})), T);
    assert_eq!(
        on("record.s in 'abc'", json!({"s": "b"})),
        F,
        "in needs a list"
    );
    assert_eq!(on("record.tags contains 'x'", json!({"tags": ["x"]})), T);
    assert_eq!(
        on("record.name contains 'ell'", json!({"name": "hello"})),
        T
    );
    assert_eq!(on("record.name contains 1", json!({"name": "1"})), F);
    assert_eq!(on("'admin' in user.roles", json!({})), T);
    assert_eq!(on("user.roles contains 'sales'", json!({})), T);
    assert_eq!(
        on("record.owner in [user.id, 'u9']", json!({"owner": "u1"})),
        T
    );
    assert_eq!(on("user.attrs.level == 'gold'", json!({})), T);
    assert_eq!(
        on(
            "user.department == 'east' && 'g1' in user.groups",
            json!({})
        ),
        T
    );
}

#[test]
fn precedence_and_words() {
    // or < and < not
    assert_eq!(on("true || false && false", json!({})), T);
    assert_eq!(on("(true || false) && false", json!({})), F);
    assert_eq!(on("!false && false", json!({})), F);
    assert_eq!(on("not false and true or false", json!({})), T);
    assert_eq!(on("! (record.a == 1)", json!({"a": 2})), T);
}

#[test]
fn bare_values_are_true_only_when_boolean_true() {
    assert_eq!(on("record.flag", json!({"flag": true})), T);
    assert_eq!(on("record.flag", json!({"flag": 1})), F);
    assert_eq!(on("record.flag", json!({"flag": "true"})), F);
    assert_eq!(on("!record.flag", json!({})), T);
}

#[test]
fn three_valued_without_a_record() {
    let none = |t: &str| eval(t, None, json!({}));
    assert_eq!(none("record.a == 1"), U);
    assert_eq!(none("record.a == 1 && false"), F);
    assert_eq!(none("record.a == 1 || true"), T);
    assert_eq!(none("record.a == 1 && true"), U);
    assert_eq!(none("not record.a"), U);
    assert_eq!(none("record.a"), U);
    assert_eq!(
        none("context.x == null"),
        T,
        "context paths are null, not unknown"
    );
    assert_eq!(none("user.id == 'u1'"), T);
}

#[test]
fn context() {
    assert_eq!(
        eval("context.channel == 'web'", None, json!({"channel": "web"})),
        T
    );
}

#[test]
fn string_escapes() {
    assert_eq!(on(r#"record.a == 'it\'s'"#, json!({"a": "it's"})), T);
    assert_eq!(on(r#"record.a == "\u4e2d\n""#, json!({"a": "中\n"})), T);
}

#[test]
fn errors_with_positions() {
    let e = err("record.a ==");
    assert_eq!((e.code, e.position), (Code::BadCondition, 11));
    assert_eq!(err("record.a == 'x").position, 12);
    assert_eq!(err("record.a = 1").position, 9);
    assert_eq!(err("foo.bar == 1").position, 0);
    assert_eq!(err("user.email == 1").position, 0);
    assert_eq!(err("record == 1").position, 0);
    assert_eq!(err("(true").position, 5);
    assert_eq!(err("true)").position, 4);
    assert_eq!(err("[1, 2").position, 5);
    assert_eq!(err("'\\q'").position, 1);
    assert_eq!(err("").position, 0);
    assert_eq!(err("1 == 1 2").position, 7);
    assert_eq!(err("#").position, 0);
    let bad = err("record.a == 1.2.3");
    assert_eq!(
        (bad.position, bad.message.as_str()),
        (12, "bad number `1.2.3`")
    );
    assert_eq!(err("record.a == -").position, 12);
}

#[test]
fn limits() {
    assert_eq!(err(&("!".repeat(40) + "true")).code, Code::ConditionTooDeep);
    assert_eq!(
        err(&("[".repeat(40) + &"]".repeat(40))).code,
        Code::ConditionTooDeep
    );
    assert_eq!(
        err(&"x".repeat(MAX_CONDITION_LEN + 1)).code,
        Code::ConditionTooLong
    );
    // At the depth limit it still parses.
    let ok = "(".repeat(MAX_CONDITION_DEPTH) + "true" + &")".repeat(MAX_CONDITION_DEPTH);
    assert!(parse(&ok, &mut SlotTable::default()).is_ok());
}

#[test]
fn slots_are_interned_once() {
    let mut slots = SlotTable::default();
    parse(
        "record.a == 1 && record.a != record.b.c && context.x",
        &mut slots,
    )
    .unwrap();
    let dotted: Vec<String> = slots.record.iter().map(|p| p.dotted()).collect();
    assert_eq!(dotted, ["a", "b.c"]);
    assert_eq!(slots.context.len(), 1);
    let _ = NoAttrs;
}

#[test]
fn specialisation_folds_user_paths() {
    let mut slots = SlotTable::default();
    let e = parse(
        "'admin' in user.roles || record.owner == user.id",
        &mut slots,
    )
    .unwrap();
    assert_eq!(e.specialize(&user(), None), Expr::Const(true));
    let e = parse("user.id == 'zz' || record.owner == user.id", &mut slots).unwrap();
    let s = e.specialize(&user(), None);
    assert_eq!(
        s.to_tree(&slots),
        json!({"op": "==", "left": {"attr": "owner"}, "right": {"value": "u1"}})
    );
}

#[test]
fn trees_spell_every_operand_and_junction() {
    let mut slots = SlotTable::default();
    let text = "!(record.a in [1, user.attrs.level]) && (context.x || user.department == 'east') \
                || record.tags contains user.id";
    let e = parse(text, &mut slots).unwrap();
    let tree = e.to_tree(&slots);
    let want = json!({"or": [
        {"and": [
            {"not": {"op": "in", "left": {"attr": "a"},
                     "right": {"list": [{"value": 1}, {"user": "attrs.level"}]}}},
            {"or": [
                {"truthy": {"context": "x"}},
                {"op": "==", "left": {"user": "department"}, "right": {"value": "east"}},
            ]},
        ]},
        {"op": "contains", "left": {"attr": "tags"}, "right": {"user": "id"}},
    ]});
    assert_eq!(tree, want);
    // Members keep their written order.
    let cmp = &tree["or"][1];
    let keys: Vec<&str> = cmp
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["op", "left", "right"]);
}

#[test]
fn decoding_refuses_conditions_nested_too_deep_without_exhausting_the_stack() {
    // postcard: `Not` is variant 3, `Const` variant 0, `true` is 1.
    let nots = |n: usize| [vec![3u8; n], vec![0, 1]].concat();
    let ok: Expr = postcard::from_bytes(&nots(128)).unwrap();
    assert!(matches!(ok, Expr::Not(_)));
    for n in [129, 1_000_000] {
        let e = postcard::from_bytes::<Expr>(&nots(n)).unwrap_err();
        assert_eq!(e, postcard::Error::SerdeDeCustom, "{n} levels");
    }
    // The depth is given back after a refusal.
    assert!(postcard::from_bytes::<Expr>(&nots(128)).is_ok());
    // Lists of operands count too (`Truthy` is variant 5, `List` variant 4 of `Operand`).
    let lists = |n: usize| [vec![5u8], [4u8, 1].repeat(n), vec![2, 0]].concat();
    assert!(postcard::from_bytes::<Expr>(&lists(100)).is_ok());
    let e = postcard::from_bytes::<Expr>(&lists(200)).unwrap_err();
    assert_eq!(e, postcard::Error::SerdeDeCustom);
}
