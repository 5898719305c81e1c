//! Dated access (#34): what the policy refuses, and what every tool makes of `from`/`until`:
//! explain, per-user bundles, lint, transfers to a stand-in, minimized policies, who-can and
//! the diff at a time. The decisions themselves are in the golden fixture `dated.json` and the
//! property test against the naive evaluator (tests/properties.rs).

mod common;

use fieldgate::admin::{lint, transfer, who_can, Horizon, Question, Selection, Transfer};
use fieldgate::bundle::{parse_rfc3339, sign, Encoding, SecretKey, SignOptions, TrustedKeys};
use fieldgate::core::{minimize, At, Checked};
use fieldgate::{Input, Policy, Subject};
use serde_json::{json, Value};
use std::sync::Arc;

fn ms(t: &str) -> i64 {
    parse_rfc3339(t).unwrap()
}

fn doc() -> Value {
    json!({
        "format": "fieldgate/1", "app": "dated", "version": 1,
        "departments": {"ops": {}},
        "resources": {"doc": {"actions": ["view", "edit", "export"], "owner": "owner",
                              "fields": {"a": {}, "b": {}}}},
        "roles": {
            "reader": {"grants": [{"resource": "doc", "actions": ["view"]}]},
            "auditor": {"grants": [{"resource": "doc", "actions": ["view", "export"]}]}
        },
        "rules": [{"id": "no-export", "effect": "deny", "resource": "doc", "actions": ["export"],
                   "except_roles": ["auditor"]}],
        "assignments": {
            "users": {"u-temp": {
                "roles": ["reader", {"role": "auditor", "until": "2027-01-31T23:59:59+08:00"}],
                "grants": [{"resource": "doc", "actions": ["edit"], "from": "2027-01-10T00:00:00Z",
                            "until": "2027-01-20T00:00:00Z"}]
            }},
            "departments": {"ops": [{"role": "reader", "until": "2027-01-05T00:00:00Z"}]}
        }
    })
}

fn compiled(doc: &Value) -> Arc<Policy> {
    Arc::new(Policy::from_value(doc).unwrap_or_else(|e| panic!("{e}")))
}

#[test]
fn until_before_from_and_times_without_offset_are_bad_windows_at_their_paths() {
    let mut d = doc();
    d["assignments"]["users"]["u-temp"]["grants"][0]["until"] = json!("2027-01-01T00:00:00Z");
    d["assignments"]["departments"]["ops"][0]["until"] = json!("2027-01-05 00:00");
    d["assignments"]["users"]["u-temp"]["roles"][1]["from"] = json!(20270101);
    let errors = Policy::from_value(&d).expect_err("refused");
    let got: Vec<(String, &str)> = errors
        .errors()
        .iter()
        .map(|e| (e.path.clone(), e.code.as_str()))
        .collect();
    assert!(got.contains(&(
        "assignments.users.u-temp.grants[0].until".into(),
        "bad_window"
    )));
    assert!(got.contains(&("assignments.departments.ops[0].until".into(), "bad_window")));
    assert!(got.contains(&(
        "assignments.users.u-temp.roles[1].from".into(),
        "wrong_type"
    )));
    // A role's own grants carry no dates: a role lasts as long as it is held.
    let mut d = doc();
    d["roles"]["reader"]["grants"][0]["until"] = json!("2027-01-01T00:00:00Z");
    let errors = Policy::from_value(&d).expect_err("refused");
    assert_eq!(errors.errors()[0].code.as_str(), "unknown_key");
    assert_eq!(errors.errors()[0].path, "roles.reader.grants[0].until");
}

#[test]
fn without_a_time_no_dated_entry_exists_and_sessions_know_when_they_change() {
    let p = compiled(&doc());
    let temp = Subject::new("u-temp");
    let none = p.session(&temp);
    assert!(!none.can("export", "doc", Input::NONE).unwrap());
    let jan15 = p.session_at(&temp, ms("2027-01-15T00:00:00Z"));
    assert!(jan15.can("export", "doc", Input::NONE).unwrap());
    assert!(jan15.can("edit", "doc", Input::NONE).unwrap());
    // The next change after Jan 15: the grant's end, one millisecond past its until.
    assert_eq!(jan15.changes_at(), Some(ms("2027-01-20T00:00:00Z") + 1));
    assert_eq!(
        p.next_change(&temp, ms("2027-01-25T00:00:00Z")),
        Some(ms("2027-01-31T23:59:59+08:00") + 1)
    );
    assert_eq!(p.next_change(&temp, ms("2027-02-01T00:00:00Z")), None);
    // Role sources at a time, and at any time (what a person's bundle carries).
    let at = |a: At| -> Vec<String> {
        p.role_sources(&temp, a)
            .into_iter()
            .map(|s| s.role)
            .collect()
    };
    assert_eq!(at(At::Time(ms("2027-03-01T00:00:00Z"))), ["reader"]);
    assert_eq!(at(At::Ever), ["reader", "auditor"]);
}

#[test]
fn explain_says_until_for_a_dated_grant() {
    let p = compiled(&doc());
    let s = p.session_at(&Subject::new("u-temp"), ms("2027-01-15T00:00:00Z"));
    let e = s.explain("edit", "doc", Input::NONE).unwrap();
    let g = e
        .grants
        .iter()
        .find(|g| g.id == "assignments.users.u-temp.grants[0]")
        .unwrap();
    assert_eq!(g.until.as_deref(), Some("2027-01-20T00:00:00Z"));
    let out = common::fieldgate(
        &[
            "explain",
            "--policy",
            write(&doc()).to_str().unwrap(),
            "--user",
            "u-temp",
            "--action",
            "edit",
            "--resource",
            "doc",
            "--at",
            "2027-01-15T00:00:00+08:00",
        ],
        "",
    );
    let text = common::stdout(&out);
    assert!(
        text.contains("(user u-temp, until 2027-01-20)"),
        "{text}{}",
        common::stderr(&out)
    );
}

fn write(doc: &Value) -> std::path::PathBuf {
    let dir = common::temp_dir("dated");
    let path = dir.join("policy.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

#[test]
fn a_persons_bundle_expires_no_later_than_their_first_dated_entry_ends() {
    let key = SecretKey::from_seed(&[7; 32]);
    let checked = Checked::from_value(doc()).unwrap();
    let temp = Subject::new("u-temp");
    let now = ms("2027-01-19T12:00:00Z");
    let min = minimize(checked.doc(), checked.policy(), &temp);
    let opts = SignOptions {
        version: None,
        issued_at_ms: now,
        expires_at_ms: now + 7 * 86_400_000,
        subject: Some("u-temp".into()),
        encoding: Encoding::Binary,
    };
    let bytes = sign(min.to_string().as_bytes(), &[&key], &opts).unwrap();
    let keys = TrustedKeys::new(vec![key.public()]);
    let b = fieldgate::bundle::verify(&bytes, &fieldgate::bundle::VerifyOptions::new(&keys, now))
        .unwrap();
    // The personal grant ends tomorrow: the bundle with it ends then too, not in a week.
    assert_eq!(b.expires_at_ms, ms("2027-01-20T00:00:00Z"));
    // The minimized policy keeps the dated role and grant and decides them on the device.
    let p = Arc::new(b.policy);
    assert!(p
        .session_at(&temp, ms("2027-01-19T13:00:00Z"))
        .can("edit", "doc", Input::NONE)
        .unwrap());
    assert!(!p
        .session_at(&temp, ms("2027-01-20T00:00:01Z"))
        .can("edit", "doc", Input::NONE)
        .unwrap());
    // The exemption by a role held only for a while stays with the rule.
    let rule = &min["rules"][0];
    assert_eq!(rule["except_roles"], json!(["auditor"]));
    assert!(p
        .session_at(&temp, ms("2027-01-19T13:00:00Z"))
        .can("export", "doc", Input::NONE)
        .unwrap());
    assert!(!p
        .session_at(&temp, ms("2027-02-01T00:00:00Z"))
        .can("export", "doc", Input::NONE)
        .unwrap());
    // Without dated entries nothing changes: a week.
    let plain = SignOptions {
        subject: None,
        ..opts
    };
    let bytes = sign(doc().to_string().as_bytes(), &[&key], &plain).unwrap();
    let b = fieldgate::bundle::verify(&bytes, &fieldgate::bundle::VerifyOptions::new(&keys, now))
        .unwrap();
    assert_eq!(b.expires_at_ms, now + 7 * 86_400_000);
}

#[test]
fn lint_warns_of_ended_and_soon_ending_entries() {
    let checked = Checked::from_value(doc()).unwrap();
    let at = |now: &str, within_days: i64| -> Vec<(String, &'static str)> {
        let h = Horizon {
            now: ms(now),
            within_ms: within_days * 86_400_000,
        };
        lint(&checked, None, h)
            .into_iter()
            .filter(|w| w.code == "expired" || w.code == "expires_soon")
            .map(|w| (w.path, w.code))
            .collect()
    };
    assert_eq!(
        at("2027-01-12T00:00:00Z", 21),
        [
            (
                "assignments.users.u-temp.roles[1]".to_string(),
                "expires_soon"
            ),
            ("assignments.departments.ops[0]".to_string(), "expired"),
            (
                "assignments.users.u-temp.grants[0]".to_string(),
                "expires_soon"
            ),
        ]
    );
    assert_eq!(
        at("2027-01-12T00:00:00Z", 3),
        [("assignments.departments.ops[0]".to_string(), "expired")]
    );
    let out = common::fieldgate(
        &[
            "lint",
            write(&doc()).to_str().unwrap(),
            "--at",
            "2027-01-12T00:00:00Z",
            "--within",
            "30d",
        ],
        "",
    );
    let text = common::stdout(&out);
    assert!(
        text.contains("assignments.users.u-temp.roles[1]: expires_soon: role `auditor` of user `u-temp` ends at 2027-01-31T15:59:59Z"),
        "{text}"
    );
}

#[test]
fn a_stand_in_gets_a_copy_until_a_date_and_only_a_copy_ends() {
    let t = Transfer {
        from: "u-temp".into(),
        to: "u-cover".into(),
        copy: true,
        until: Some("2027-01-18T00:00:00+08:00".into()),
        new_successor: true,
        selection: Selection::all(),
    };
    let (out, report) = transfer(&doc(), &t, None).unwrap();
    assert_eq!(report.until.as_deref(), Some("2027-01-18T00:00:00+08:00"));
    assert_eq!(
        report.roles,
        [
            "reader (until 2027-01-18T00:00:00+08:00)",
            // Its own end is earlier than the stand-in's: kept.
            "auditor (until 2027-01-18T00:00:00+08:00)",
        ]
    );
    let cover = &out["assignments"]["users"]["u-cover"];
    assert_eq!(
        cover["roles"][0],
        json!({"role": "reader", "until": "2027-01-18T00:00:00+08:00"})
    );
    // The grant ends on the 20th, later than the stand-in: it ends with the stand-in.
    assert_eq!(
        cover["grants"][0]["until"],
        json!("2027-01-18T00:00:00+08:00")
    );
    // The leaver keeps everything.
    assert_eq!(
        out["assignments"]["users"]["u-temp"],
        doc()["assignments"]["users"]["u-temp"]
    );
    let p = compiled(&out);
    let cover_s = Subject::new("u-cover");
    assert!(p
        .session_at(&cover_s, ms("2027-01-17T00:00:00Z"))
        .can("view", "doc", Input::NONE)
        .unwrap());
    assert!(!p
        .session_at(&cover_s, ms("2027-01-18T00:00:00Z"))
        .can("view", "doc", Input::NONE)
        .unwrap());
    // A move cannot end; a date that is no time is refused.
    let moved = Transfer {
        copy: false,
        ..t.clone()
    };
    assert_eq!(
        transfer(&doc(), &moved, None)
            .err()
            .unwrap()
            .code()
            .as_str(),
        "bad_window"
    );
    let bad = Transfer {
        until: Some("soon".into()),
        ..t
    };
    assert_eq!(
        transfer(&doc(), &bad, None).err().unwrap().code().as_str(),
        "bad_window"
    );
}

#[test]
fn who_can_and_the_diff_answer_at_the_time_asked() {
    let p = compiled(&doc());
    let names = |at: &str| -> Vec<String> {
        who_can(&p, "doc", &Question::Action("export".into()), None, ms(at))
            .unwrap()
            .into_iter()
            .filter(|w| w.kind == "user")
            .map(|w| w.name)
            .collect()
    };
    assert_eq!(names("2027-01-15T00:00:00Z"), ["u-temp"]);
    assert!(names("2027-02-15T00:00:00Z").is_empty());
    // Who-can says when each way of having it ends.
    let rows = who_can(
        &p,
        "doc",
        &Question::Action("export".into()),
        None,
        ms("2027-01-15T00:00:00Z"),
    )
    .unwrap();
    let temp = rows.iter().find(|w| w.name == "u-temp").unwrap();
    assert_eq!(temp.via[0].until.as_deref(), Some("2027-01-31T15:59:59Z"));
    let edit = who_can(
        &p,
        "doc",
        &Question::Action("edit".into()),
        None,
        ms("2027-01-15T00:00:00Z"),
    )
    .unwrap();
    let personal = &edit.iter().find(|w| w.name == "u-temp").unwrap().via[0];
    assert_eq!(
        (personal.holder, personal.until.as_deref()),
        ("user", Some("2027-01-20T00:00:00Z"))
    );
    let out = common::fieldgate(
        &[
            "who-can",
            "--policy",
            write(&doc()).to_str().unwrap(),
            "--resource",
            "doc",
            "--action",
            "export",
            "--at",
            "2027-01-15T00:00:00Z",
        ],
        "",
    );
    assert!(
        common::stdout(&out).contains("role auditor [all] until 2027-01-31"),
        "{}",
        common::stdout(&out)
    );
    // Renewing the auditor role to the end of February is an access change in February, and
    // none in January.
    let old = Checked::from_value(doc()).unwrap();
    let mut renewed = doc();
    renewed["assignments"]["users"]["u-temp"]["roles"][1]["until"] =
        json!("2027-02-28T23:59:59+08:00");
    let new = Checked::from_value(renewed).unwrap();
    let changes = |at: &str| {
        let limits = fieldgate::admin::Limits {
            at: Some(ms(at)),
            ..Default::default()
        };
        fieldgate::admin::diff(&old, &new, None, &limits).unwrap()
    };
    let feb = changes("2027-02-10T00:00:00Z");
    assert!(
        feb.access.iter().any(|c| c.subject == "user:u-temp"),
        "{:?}",
        feb.access
    );
    let jan = changes("2027-01-10T00:00:00Z");
    assert!(jan.access.is_empty(), "{:?}", jan.access);
    // The structural change names the entry with its dates.
    let user = feb.structure.iter().find(|c| c.kind == "user").unwrap();
    assert_eq!(
        user.roles_added,
        ["auditor (until 2027-02-28T23:59:59+08:00)"]
    );
}
