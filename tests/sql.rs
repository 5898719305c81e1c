//! Scope filters as SQL keep exactly the rows the engine allows: random policies, subjects and
//! rows (with NULLs), each filter's `WHERE` clause run in SQLite (and in PostgreSQL when
//! `FIELDGATE_TEST_PG_URL` names one, as scripts/test.sh does), compared with `can` on the same
//! rows as records. A filter SQL cannot say must be refused, never widened.

#![expect(
    clippy::cast_possible_truncation,
    reason = "row ids are below 24 and amounts below 100, whole where cast"
)]

mod common;

use common::gen;
use fieldgate::core::sql::{Dialect, SqlCode};
use fieldgate::core::{Input, Policy};
use fieldgate::Subject;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One row: `None` is a NULL column, an absent attribute of the record.
#[derive(Debug, Clone)]
struct Row {
    owner: Option<&'static str>,
    dept: Option<&'static str>,
    amount: Option<f64>,
    locked: Option<bool>,
    status: Option<&'static str>,
    name: Option<&'static str>,
    /// The members list (a JSON array in a text column).
    team: Option<Vec<&'static str>>,
    /// The id of the parent `acct` row (which may not exist).
    acct: Option<usize>,
}

impl Row {
    /// The row as the engine's record: with its parent `acct` row under `acct` when there is one.
    fn record(&self, id: usize, accts: &[Row]) -> Value {
        let mut rec = self.plain(id);
        if let Some(t) = &self.team {
            rec["team"] = json!(t);
        }
        if let Some(a) = self.acct {
            rec["acct_id"] = json!(a);
            if let Some(parent) = accts.get(a) {
                rec["acct"] = parent.plain(a);
            }
        }
        rec
    }

    fn team_text(&self) -> Option<String> {
        self.team.as_ref().map(|t| json!(t).to_string())
    }

    fn plain(&self, id: usize) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        let text = [
            ("owner", self.owner),
            ("dept", self.dept),
            ("status", self.status),
            ("name", self.name),
        ];
        for (k, v) in text {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        if let Some(a) = self.amount {
            // Whole amounts as JSON integers, as an app's records hold them.
            let n = if a.fract() == 0.0 {
                json!(a as i64)
            } else {
                json!(a)
            };
            m.insert("amount".into(), n);
        }
        if let Some(l) = self.locked {
            m.insert("locked".into(), json!(l));
        }
        Value::Object(m)
    }
}

fn row() -> impl Strategy<Value = Row> {
    let text = |xs: Vec<&'static str>| prop::option::weighted(0.8, prop::sample::select(xs));
    (
        text(vec!["u0", "u1", "u2", "U0"]),
        text(vec!["d0", "d1", "d2", "d3"]),
        prop::option::weighted(
            0.8,
            prop_oneof![(0..100i32).prop_map(f64::from), Just(20.5), Just(-3.25)],
        ),
        prop::option::weighted(0.8, prop::bool::ANY),
        text(vec!["a", "b", "c", "B", "ä", "ab"]),
        // Names double as the outside organisation a row belongs to (`org` scopes).
        text(vec!["alpha", "Beta", "gamma", "ab", "", "o1", "o2"]),
        prop::option::weighted(
            0.8,
            prop::sample::subsequence(vec!["u0", "u1", "u2", "U0"], 0..=2),
        ),
        prop::option::weighted(0.8, 0..4usize),
    )
        .prop_map(
            |(owner, dept, amount, locked, status, name, team, acct)| Row {
                owner,
                dept,
                amount,
                locked,
                status,
                name,
                team,
                acct,
            },
        )
}

/// Conditions over every kind of attribute, with literals of the attribute's own type.
fn atom() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "record.status == 'a'",
        "record.status != 'b'",
        "record.status == null",
        "record.status != null",
        "record.status < 'b'",
        "record.status >= 'B'",
        "record.status in ['a', 'B']",
        "record.status in []",
        "record.status in ['c', null]",
        "record.status in [null]",
        "record.amount < 50",
        "record.amount >= 20.5",
        "record.amount <= 0",
        "record.amount == 20",
        "record.amount != 7",
        "record.amount in [1, 2, 20.5]",
        "record.amount > null",
        "record.name contains 'a'",
        "record.name contains ''",
        "record.name contains 3",
        "record.locked == true",
        "record.locked != false",
        "record.locked",
        "record.owner == user.id",
        "record.owner != user.id",
        "record.dept == user.department",
        "'d1' == user.department",
        "context.channel == 'web'",
        "10 > record.amount",
        "'b' <= record.status",
    ])
    .prop_map(String::from)
}

fn condition() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
            inner.prop_map(|a| format!("!({a})")),
        ]
    })
}

/// A policy whose `view` of `doc` is a scope and a condition, less a deny rule.
fn conditioned_policy() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(gen::SCOPES.to_vec()),
        condition(),
        prop::option::of(condition()),
    )
        .prop_map(|(scope, when, deny)| {
            let mut doc = json!({
                "format": "fieldgate/1", "app": "sql", "version": 1,
                "departments": {"d0": {}, "d1": {"parent": "d0"}, "d2": {"parent": "d1"}, "d3": {"parent": "d0"}},
                "resources": {
                    "doc": {"actions": ["view"], "owner": "owner", "department": "dept", "members": "team",
                            "org": "name", "parent": {"resource": "acct", "via": "acct_id"}, "fields": {"f0": {}}},
                    "acct": {"actions": ["view"], "owner": "owner", "department": "dept", "org": "name", "fields": {"f0": {}}},
                },
                "roles": {"r0": {"grants": [
                    {"resource": "doc", "actions": ["view"], "scope": scope, "when": when},
                    {"resource": "acct", "actions": ["view"], "scope": "subordinates", "when": "record.amount < 60"},
                ]}},
            });
            if let Some(d) = deny {
                doc["rules"] = json!([{"id": "no", "effect": "deny", "resource": "doc", "actions": ["view"], "when": d}]);
            }
            doc
        })
}

/// The ids `clause` keeps, in SQLite.
fn sqlite_ids(rows: &[Row], accts: &[Row], clause: &str, params: &[Value]) -> Vec<usize> {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE doc (id INTEGER, owner TEXT, dept TEXT, amount REAL, locked BOOLEAN, status TEXT, name TEXT, \
         team TEXT, acct_id INTEGER); \
         CREATE TABLE acct (id INTEGER, owner TEXT, dept TEXT, amount REAL, locked BOOLEAN, status TEXT, name TEXT)",
    )
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        db.execute(
            "INSERT INTO doc VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                i as i64,
                r.owner,
                r.dept,
                r.amount,
                r.locked,
                r.status,
                r.name,
                r.team_text(),
                r.acct.map(|a| a as i64)
            ],
        )
        .unwrap();
    }
    for (i, r) in accts.iter().enumerate() {
        db.execute(
            "INSERT INTO acct VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![i as i64, r.owner, r.dept, r.amount, r.locked, r.status, r.name],
        )
        .unwrap();
    }
    let sql = format!("SELECT id FROM doc WHERE {clause} ORDER BY id");
    let mut stmt = db.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let values: Vec<rusqlite::types::Value> = params
        .iter()
        .map(|p| match p {
            Value::String(s) => rusqlite::types::Value::Text(s.clone()),
            Value::Number(n) if n.is_i64() => rusqlite::types::Value::Integer(n.as_i64().unwrap()),
            Value::Number(n) => rusqlite::types::Value::Real(n.as_f64().unwrap()),
            other => panic!("SQLite gets no {other} parameters"),
        })
        .collect();
    stmt.query_map(rusqlite::params_from_iter(values), |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|id| id.unwrap() as usize)
        .collect()
}

/// One PostgreSQL connection for the whole run, when the test command gives one.
fn postgres() -> Option<&'static Mutex<postgres::Client>> {
    static PG: OnceLock<Option<Mutex<postgres::Client>>> = OnceLock::new();
    PG.get_or_init(|| {
        let url = std::env::var("FIELDGATE_TEST_PG_URL").ok()?;
        let mut c = postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("FIELDGATE_TEST_PG_URL={url}: {e}"));
        c.batch_execute(
            "CREATE TEMP TABLE doc (id INTEGER, owner TEXT, dept TEXT, amount DOUBLE PRECISION, \
             locked BOOLEAN, status TEXT, name TEXT, team JSONB, acct_id INTEGER); \
             CREATE TEMP TABLE acct (id INTEGER, owner TEXT, dept TEXT, amount DOUBLE PRECISION, \
             locked BOOLEAN, status TEXT, name TEXT)",
        )
        .unwrap();
        Some(Mutex::new(c))
    })
    .as_ref()
}

/// The ids `clause` keeps, in PostgreSQL.
fn postgres_ids(
    pg: &Mutex<postgres::Client>,
    rows: &[Row],
    accts: &[Row],
    clause: &str,
    params: &[Value],
) -> Vec<usize> {
    let mut c = pg.lock().unwrap_or_else(|p| p.into_inner());
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("DELETE FROM doc; DELETE FROM acct")
        .unwrap();
    for (i, r) in rows.iter().enumerate() {
        tx.execute(
            "INSERT INTO doc VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9)",
            &[
                &(i as i32),
                &r.owner,
                &r.dept,
                &r.amount,
                &r.locked,
                &r.status,
                &r.name,
                &r.team_text(),
                &r.acct.map(|a| a as i32),
            ],
        )
        .unwrap();
    }
    for (i, r) in accts.iter().enumerate() {
        tx.execute(
            "INSERT INTO acct VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &(i as i32),
                &r.owner,
                &r.dept,
                &r.amount,
                &r.locked,
                &r.status,
                &r.name,
            ],
        )
        .unwrap();
    }
    let boxed: Vec<Box<dyn postgres::types::ToSql + Sync>> = params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                Value::String(s) => Box::new(s.clone()),
                Value::Number(n) => Box::new(n.as_f64().unwrap()),
                Value::Bool(b) => Box::new(*b),
                other => panic!("PostgreSQL gets no {other} parameters"),
            }
        })
        .collect();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = boxed.iter().map(|b| &**b).collect();
    let sql = format!("SELECT id FROM doc WHERE {clause} ORDER BY id");
    let ids = tx
        .query(&sql, &refs)
        .unwrap_or_else(|e| panic!("{sql} {params:?}: {e}"))
        .iter()
        .map(|r| r.get::<_, i32>(0) as usize)
        .collect();
    tx.rollback().unwrap();
    ids
}

/// Compares every action's filter, as SQL in each dialect at hand, with `can` on each row.
/// Returns how many filters were written as SQL and how many refused.
fn compare(
    doc: &Value,
    subject: &Subject,
    context: &Value,
    rows: &[Row],
    accts: &[Row],
) -> Result<(u32, u32), TestCaseError> {
    let mut tally = (0, 0);
    let policy = Arc::new(Policy::from_value(doc).unwrap());
    let session = policy.session(subject);
    let records: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| r.record(i, accts))
        .collect();
    for action in policy.action_names("doc").unwrap() {
        let allowed: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, rec)| {
                session
                    .can(action, "doc", Input::json(Some(rec), Some(context)))
                    .unwrap()
            })
            .map(|(i, _)| i)
            .collect();
        let filter = session.scope_filter("doc", action, Some(context)).unwrap();
        let tree = filter.to_json(&session);
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = match filter.to_sql(&session, dialect, &BTreeMap::new()) {
                Ok(sql) => sql,
                Err(e) => {
                    prop_assert_eq!(e.code, SqlCode::Unsupported, "{}: {}", tree, e.message);
                    tally.1 += 1;
                    continue;
                }
            };
            tally.0 += 1;
            let got = match dialect {
                Dialect::Sqlite => sqlite_ids(rows, accts, &sql.clause, &sql.params),
                _ => match postgres() {
                    Some(pg) => postgres_ids(pg, rows, accts, &sql.clause, &sql.params),
                    None => continue,
                },
            };
            prop_assert_eq!(
                &got,
                &allowed,
                "{:?} `{}` on {} ({}) for {}\nrecords: {:#?}",
                dialect,
                sql.clause,
                tree,
                action,
                serde_json::to_string(&sql.params).unwrap(),
                records
            );
        }
    }
    Ok(tally)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_conditions_as_sql_keep_the_allowed_rows(
        doc in conditioned_policy(),
        subject in gen::subject(),
        context in gen::context(),
        rows in prop::collection::vec(row(), 0..24),
        accts in prop::collection::vec(row(), 0..4),
    ) {
        let subject = Subject { roles: vec!["r0".into()], ..subject };
        compare(&doc, &subject, &context, &rows, &accts)?;
    }

    #[test]
    fn random_policies_as_sql_keep_the_allowed_rows(
        doc in gen::policy_doc(),
        subject in gen::subject(),
        context in gen::context(),
        rows in prop::collection::vec(row(), 0..16),
        accts in prop::collection::vec(row(), 0..4),
    ) {
        // The tables keep a row's organisation in `name`.
        let mut doc = doc;
        for r in ["doc", "acct"] {
            doc["resources"][r]["org"] = json!("name");
        }
        compare(&doc, &subject, &context, &rows, &accts)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A partner's filters hold only their organisation's rows: the internal role every way
    /// reaches them (department, group, the identity provider, by id) gives nothing, in SQL as
    /// in `can`.
    #[test]
    fn a_partners_filters_hold_only_their_organisations_rows(
        subject in gen::subject(),
        org in prop::sample::select(vec!["alpha", "Beta", "ab", ""]),
        rows in prop::collection::vec(row(), 0..24),
    ) {
        let doc = json!({
            "format": "fieldgate/1", "app": "partners", "version": 1,
            "departments": {"d0": {}, "d1": {}, "d2": {}, "d3": {}},
            "resources": {"doc": {"actions": ["view", "edit"], "owner": "owner", "department": "dept",
                                  "org": "name", "fields": {"amount": {}}}},
            "roles": {
                "dealer": {"external": true, "grants": [{"resource": "doc", "actions": ["view"], "scope": "org"}]},
                "staff": {"grants": [{"resource": "doc", "actions": ["view", "edit"]}]}
            },
            "assignments": {
                "users": {"u0": {"roles": ["staff", "dealer"]}, "u1": {"roles": ["staff", "dealer"]}, "u2": {"roles": ["staff", "dealer"]}},
                "departments": {"d0": ["staff"], "d1": ["staff"], "d2": ["staff"], "d3": ["staff"]},
                "groups": {"g": ["staff"]}
            }
        });
        let partner = Subject {
            roles: vec!["staff".into(), "dealer".into()],
            groups: vec!["g".into()],
            org: Some(org.into()),
            ..subject
        };
        compare(&doc, &partner, &json!({}), &rows, &[])?;
        let policy = Arc::new(Policy::from_value(&doc).unwrap());
        let session = policy.session(&partner);
        let sql = session
            .scope_filter("doc", "view", None)
            .unwrap()
            .to_sql(&session, Dialect::Sqlite, &BTreeMap::new())
            .unwrap();
        let theirs: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].name == Some(org)).collect();
        prop_assert_eq!(sqlite_ids(&rows, &[], &sql.clause, &sql.params), theirs);
        prop_assert!(!session.can("edit", "doc", Input::NONE).unwrap(), "staff's edit is not theirs");
    }
}

/// Most filters have a SQL form: the refusals are the rare conditions SQL cannot say.
#[test]
fn most_random_filters_are_written() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = (
        conditioned_policy(),
        gen::subject(),
        gen::context(),
        prop::collection::vec(row(), 0..8),
        prop::collection::vec(row(), 0..4),
    );
    let (mut written, mut refused) = (0, 0);
    for _ in 0..200 {
        let (doc, subject, context, rows, accts) =
            strategy.new_tree(&mut runner).unwrap().current();
        let subject = Subject {
            roles: vec!["r0".into()],
            ..subject
        };
        let (w, r) = compare(&doc, &subject, &context, &rows, &accts).unwrap();
        written += w;
        refused += r;
    }
    assert!(
        written > 4 * refused,
        "{written} written, {refused} refused"
    );
}

#[test]
fn what_sql_cannot_say_is_refused() {
    let doc = |when: &str| {
        json!({
            "format": "fieldgate/1", "app": "sql", "version": 1,
            "resources": {"doc": {"actions": ["view"], "fields": {"f0": {}}}},
            "roles": {"r0": {"grants": [{"resource": "doc", "actions": ["view"], "when": when}]}},
        })
    };
    let subject = Subject {
        roles: vec!["r0".into()],
        ..Subject::new("u0")
    };
    for when in [
        "1 in record.tags",
        "record.a == record.b",
        "record.status in ['a', 1]",
        "record.status == ['a']",
        "context.channel == 'web'",
    ] {
        let policy = Arc::new(Policy::from_value(&doc(when)).unwrap());
        let s = policy.session(&subject);
        let f = s.scope_filter("doc", "view", None).unwrap();
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let e = f.to_sql(&s, d, &BTreeMap::new()).unwrap_err();
            assert_eq!(e.code, SqlCode::Unsupported, "{when}: {}", e.message);
        }
    }
    let policy = Arc::new(Policy::from_value(&doc("record.address.city == 'x'")).unwrap());
    let s = policy.session(&subject);
    let f = s.scope_filter("doc", "view", None).unwrap();
    let e = f.to_sql(&s, Dialect::Sqlite, &BTreeMap::new()).unwrap_err();
    assert_eq!(e.code, SqlCode::BadColumn, "a dotted path needs a column");
    let mapped = BTreeMap::from([("address.city".to_string(), "addr.city".to_string())]);
    let sql = f.to_sql(&s, Dialect::Sqlite, &mapped).unwrap();
    assert_eq!(sql.clause, "(\"addr\".\"city\" IS ?)");
    for bad in ["city\"; --", "1city", "a..b", ""] {
        let m = BTreeMap::from([("address.city".to_string(), bad.to_string())]);
        let e = f.to_sql(&s, Dialect::Postgres, &m).unwrap_err();
        assert_eq!(e.code, SqlCode::BadColumn, "{bad}");
    }
}
