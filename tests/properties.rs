//! Property tests of the decision semantics on random policies over a small universe:
//! the lattice laws, role-order independence, scope filters agreeing with `can`, and the
//! optimised evaluator agreeing with a naive one written straight from the spec.

mod common;

use common::gen::*;
use fieldgate::core::condition::{parse, Env, SlotTable, Truth, UserValues};
use fieldgate::{FieldState, Input, Mode, Policy, Subject};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

/// Every answer a session gives for one record and context.
#[derive(Debug, PartialEq)]
struct Answers {
    can: Vec<bool>,
    fields: Vec<Vec<FieldState>>,
}

fn answers(p: &Arc<Policy>, s: &Subject, rec: Option<&Value>, ctx: &Value) -> Answers {
    let session = p.session(s);
    let input = Input::json(rec, Some(ctx));
    Answers {
        can: ACTIONS
            .iter()
            .map(|a| session.can(a, "doc", input).unwrap())
            .collect(),
        fields: Mode::ALL
            .iter()
            .map(|&m| session.fields("doc", m, input).unwrap().states().to_vec())
            .collect(),
    }
}

fn compile(doc: &Value) -> Arc<Policy> {
    Arc::new(Policy::from_value(doc).unwrap_or_else(|e| panic!("{e}\n{doc:#}")))
}

/// `a` is nowhere above `b`.
fn le(a: &Answers, b: &Answers) -> bool {
    a.can.iter().zip(&b.can).all(|(x, y)| *x <= *y)
        && a.fields
            .iter()
            .flatten()
            .zip(b.fields.iter().flatten())
            .all(|(x, y)| x <= y)
}

// ---- the naive reference evaluator, straight from docs/policy-format.md ----

struct Naive<'a> {
    doc: &'a Value,
    roles: Vec<String>,
    user: UserValues,
    reports: Vec<(String, u32)>,
    slots: SlotTable,
}

impl<'a> Naive<'a> {
    fn new(doc: &'a Value, s: &Subject) -> Naive<'a> {
        let known = |r: &str| doc["roles"].get(r).is_some();
        let mut direct: Vec<String> = s.roles.iter().filter(|r| known(r)).cloned().collect();
        if let Some(a) = doc["assignments"]["users"].get(&s.id) {
            direct.extend(
                a["roles"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r.as_str().unwrap().to_string()),
            );
        }
        let mut d = s.department.clone();
        while let Some(dept) = d {
            let assigned = doc["assignments"]["departments"][&dept]
                .as_array()
                .cloned()
                .unwrap_or_default();
            direct.extend(assigned.iter().map(|r| r.as_str().unwrap().to_string()));
            d = doc["departments"][&dept]["parent"]
                .as_str()
                .map(String::from);
        }
        if s.org.is_some() {
            direct.retain(|r| doc["roles"][r]["external"] == true);
        }
        let mut roles: Vec<String> = Vec::new();
        while let Some(r) = direct.pop() {
            if !roles.contains(&r) {
                direct.extend(
                    doc["roles"][&r]["inherits"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| x.as_str().unwrap().to_string()),
                );
                roles.push(r);
            }
        }
        // A partner (a subject with an `org`) holds external roles only: an internal role reaching
        // them brings nothing, and of what an external one inherits only external roles count.
        if s.org.is_some() {
            roles.retain(|r| doc["roles"][r]["external"] == true);
        }
        // `user.roles` is sorted by name.
        roles.sort();
        let user = UserValues {
            id: json!(s.id),
            roles: json!(roles),
            department: s.department.clone().map_or(Value::Null, Value::String),
            groups: json!(s.groups),
            org: s.org.clone().map_or(Value::Null, Value::String),
            attrs: vec![],
            department_tree: Value::Null,
            reports: json!(s.reports.keys().collect::<Vec<_>>()),
        };
        Naive {
            doc,
            roles,
            user,
            reports: s
                .reports
                .iter()
                .map(|(u, d)| (u.clone(), u32::try_from(d.as_u64().unwrap()).unwrap()))
                .collect(),
            slots: SlotTable::default(),
        }
    }

    fn cond(&mut self, text: Option<&str>, rec: Option<&Value>, ctx: &Value) -> Truth {
        let Some(text) = text else { return Truth::True };
        let e = parse(text, &mut self.slots).unwrap();
        let env = Env {
            slots: &self.slots,
            user: &self.user,
            record: rec.map(|r| r as &dyn fieldgate::core::Attrs),
            context: ctx,
        };
        e.eval(&env)
    }

    /// The user's grants on `res` (written for it or for `*`).
    fn grants(&self, res: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for r in &self.roles {
            out.extend(
                self.doc["roles"][r]["grants"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        out.extend(
            self.doc["assignments"]["users"][self.user.id.as_str().unwrap()]["grants"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        out.retain(|g| g["resource"] == res || g["resource"] == "*");
        out
    }

    fn in_tree(&self, d: &str, top: &str) -> bool {
        let mut at = Some(d.to_string());
        while let Some(x) = at {
            if x == top {
                return true;
            }
            at = self.doc["departments"][&x]["parent"]
                .as_str()
                .map(String::from);
        }
        false
    }

    /// Whether grant `g` gives `action` on this record of `res` (the action matters only to a
    /// `parent` scope, which asks the parent record).
    fn grant_truth(
        &mut self,
        g: &Value,
        res: &str,
        action: &str,
        rec: Option<&Value>,
        ctx: &Value,
    ) -> Truth {
        let dept = self.user.department.as_str().map(String::from);
        let declared = |key: &str| self.doc["resources"][res].get(key).is_some();
        let scope = match (g["scope"].as_str().unwrap_or("all"), rec) {
            ("all", _) => Truth::True,
            ("member" | "parent", _)
                if !declared(if g["scope"] == "member" {
                    "members"
                } else {
                    "parent"
                }) =>
            {
                Truth::False
            }
            ("parent", None) => self.decision("acct", action, None, ctx),
            ("parent", Some(r)) if r["acct"].is_null() => Truth::False,
            ("parent", Some(r)) => self.decision("acct", action, Some(&r["acct"]), ctx),
            ("department" | "department_tree", None) if dept.is_none() => Truth::False,
            ("org", _) if self.user.org.is_null() => Truth::False,
            ("org", None) => Truth::Unknown,
            ("org", Some(r)) => Truth::from(r["org"] == self.user.org),
            (_, None) => Truth::Unknown,
            ("own", Some(r)) => Truth::from(r["owner"] == self.user.id),
            ("subordinates", Some(r)) => {
                let depth = g["depth"].as_u64().unwrap_or(u64::MAX);
                let owner = r["owner"].as_str().unwrap_or_default();
                let below = self
                    .reports
                    .iter()
                    .any(|(u, d)| u == owner && u64::from(*d) <= depth);
                Truth::from(r["owner"] == self.user.id || below)
            }
            ("member", Some(r)) => Truth::from(
                r["team"]
                    .as_array()
                    .is_some_and(|t| t.contains(&self.user.id)),
            ),
            ("department", Some(r)) => {
                Truth::from(dept.is_some() && r["dept"].as_str() == dept.as_deref())
            }
            (_, Some(r)) => Truth::from(
                dept.as_deref()
                    .is_some_and(|d| r["dept"].as_str().is_some_and(|x| self.in_tree(x, d))),
            ),
        };
        scope.and(self.cond(g["when"].as_str(), rec, ctx))
    }

    /// Whether `action` on this record of `res` is allowed, three-valued: some grant gives it
    /// and no deny applies.
    fn decision(&mut self, res: &str, action: &str, rec: Option<&Value>, ctx: &Value) -> Truth {
        let mut granted = Truth::False;
        for g in self.grants(res) {
            if Naive::lists(&g["actions"], action) {
                granted = granted.or(self.grant_truth(&g, res, action, rec, ctx));
            }
        }
        let mut denied = Truth::False;
        for r in self.rules() {
            if r["effect"] == "deny" && r["resource"] == res && Naive::lists(&r["actions"], action)
            {
                denied = denied.or(self.cond(r["when"].as_str(), rec, ctx));
            }
        }
        granted.and(denied.not())
    }

    /// The rules that do not spare one of the user's roles.
    fn rules(&self) -> Vec<Value> {
        let mut all: Vec<Value> = self.doc["rules"].as_array().cloned().unwrap_or_default();
        // Personal denies: deny rules for this user alone.
        let id = self.user.id.as_str().unwrap();
        for d in self.doc["assignments"]["users"][id]["denies"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let mut r = d.clone();
            r["effect"] = json!("deny");
            r["except_roles"] = json!([]);
            all.push(r);
        }
        all.retain(|r| {
            !r["except_roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| self.roles.iter().any(|y| y == x))
        });
        all
    }

    fn lists(list: &Value, action: &str) -> bool {
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a == action || a == "*")
    }

    fn answers(&mut self, rec: Option<&Value>, ctx: &Value) -> Answers {
        let can = ACTIONS
            .iter()
            .map(|a| self.decision("doc", a, rec, ctx) != Truth::False)
            .collect();
        let mut rules = self.rules();
        rules.retain(|r| self.cond(r["when"].as_str(), rec, ctx) == Truth::True);
        let denies: Vec<&Value> = rules.iter().filter(|r| r["effect"] == "deny").collect();
        // Each grant with the actions it gives here.
        let mut grants: Vec<(Value, Vec<&str>)> = Vec::new();
        for g in self.grants("doc") {
            let given = ACTIONS
                .into_iter()
                .filter(|a| Naive::lists(&g["actions"], a))
                .filter(|a| self.grant_truth(&g, "doc", a, rec, ctx) != Truth::False)
                .collect();
            grants.push((g, given));
        }
        let state = |v: &Value| {
            STATES
                .iter()
                .position(|s| v == s)
                .map(|i| FieldState::ALL[i])
        };
        let fields = Mode::ALL
            .iter()
            .map(|mode| {
                FIELDS
                    .iter()
                    .map(|f| {
                        let mut st = FieldState::Hidden;
                        for (g, given) in &grants {
                            let s = state(&g["fields"][f])
                                .or(state(&g["fields"]["*"]))
                                .unwrap_or(FieldState::Editable);
                            let c = match mode.action() {
                                Some(a) if given.contains(&a) => s,
                                _ if given.contains(&"view") => s.min(FieldState::Readonly),
                                _ => FieldState::Hidden,
                            };
                            st = st.max(c);
                        }
                        for r in rules.iter().filter(|r| r["effect"] == "limit") {
                            if let Some(cap) = state(&r["fields"][f]).or(state(&r["fields"]["*"])) {
                                st = st.min(cap);
                            }
                        }
                        for r in &denies {
                            if Naive::lists(&r["actions"], "view") {
                                st = FieldState::Hidden;
                            } else if mode
                                .action()
                                .is_some_and(|a| Naive::lists(&r["actions"], a))
                            {
                                st = st.min(FieldState::Readonly);
                            }
                        }
                        st
                    })
                    .collect()
            })
            .collect();
        Answers { can, fields }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_the_naive_evaluator(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let p = compile(&doc);
        let got = answers(&p, &s, rec.as_ref(), &ctx);
        let want = Naive::new(&doc, &s).answers(rec.as_ref(), &ctx);
        prop_assert_eq!(got, want, "policy {:#}", doc);
    }

    #[test]
    fn adding_a_grant_never_lowers(doc in policy_doc(), s in subject(), rec in record(), ctx in context(), extra in grant(), role in 0..4usize) {
        let before = answers(&compile(&doc), &s, rec.as_ref(), &ctx);
        let mut more = doc.clone();
        more["roles"][format!("r{role}")]["grants"].as_array_mut().unwrap().push(extra.clone());
        let after = answers(&compile(&more), &s, rec.as_ref(), &ctx);
        prop_assert!(le(&before, &after), "role grant lowered: {:?} -> {:?}", before, after);
        let mut personal = doc.clone();
        personal["assignments"]["users"]["u0"]["grants"].as_array_mut().unwrap().push(extra);
        let after = answers(&compile(&personal), &s, rec.as_ref(), &ctx);
        prop_assert!(le(&before, &after), "personal grant lowered: {:?} -> {:?}", before, after);
    }

    #[test]
    fn adding_a_deny_never_raises(doc in policy_doc(), s in subject(), rec in record(), ctx in context(), extra in rule(99)) {
        let before = answers(&compile(&doc), &s, rec.as_ref(), &ctx);
        let mut more = doc.clone();
        more["rules"].as_array_mut().unwrap().push(extra);
        let after = answers(&compile(&more), &s, rec.as_ref(), &ctx);
        prop_assert!(le(&after, &before), "{:?} -> {:?}", before, after);
    }

    #[test]
    fn minimized_policy_answers_every_request_the_same(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let full = compile(&doc);
        let small_doc = fieldgate::core::minimize(&doc, &full, &s);
        let small = compile(&small_doc);
        prop_assert_eq!(small.header().subject.as_deref(), Some(s.id.as_str()));
        prop_assert_eq!(answers(&full, &s, rec.as_ref(), &ctx), answers(&small, &s, rec.as_ref(), &ctx), "minimized {:#}", small_doc);
    }

    #[test]
    fn role_order_never_matters(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let p = compile(&doc);
        let mut reversed = s.clone();
        reversed.roles.reverse();
        prop_assert_eq!(answers(&p, &s, rec.as_ref(), &ctx), answers(&p, &reversed, rec.as_ref(), &ctx));
    }

    #[test]
    fn scope_filter_agrees_with_can(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let p = compile(&doc);
        let session = p.session(&s);
        let rec = rec.unwrap_or_else(|| json!({}));
        for a in ACTIONS {
            let filter = session.scope_filter("doc", a, Some(&ctx)).unwrap();
            let can = session.can(a, "doc", Input::json(Some(&rec), Some(&ctx))).unwrap();
            prop_assert_eq!(filter.matches(&session, &rec, &ctx), can, "{} {}", a, filter.to_json(&session));
            let explained = session.explain(a, "doc", Input::json(Some(&rec), Some(&ctx))).unwrap();
            prop_assert_eq!(explained.allow, can);
        }
    }

    #[test]
    fn explanations_show_the_decisions_they_explain(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let p = compile(&doc);
        let session = p.session(&s);
        let input = Input::json(rec.as_ref(), Some(&ctx));
        for a in ACTIONS {
            let e = session.explain(a, "doc", input).unwrap();
            prop_assert_eq!(e.allow, session.can(a, "doc", input).unwrap());
            let states = session.fields("doc", e.mode, input).unwrap();
            let explained: Vec<FieldState> = e.fields.iter().map(|f| f.state).collect();
            prop_assert_eq!(explained.as_slice(), states.states(), "{}", a);
            // The provenance explains those states, in every build (not a debug assertion):
            // a state below what the grants gave names the rule (or stale mode) that capped
            // it, and only then; a shown field names an applying grant that gave it.
            for f in &e.fields {
                prop_assert!(f.state <= f.granted, "{a} {}: {f:?}", f.name);
                prop_assert_eq!(f.capped_by.is_some(), f.state < f.granted, "{} {}: {:?}", a, f.name, f);
                prop_assert_eq!(f.set_by.is_some(), f.granted > FieldState::Hidden, "{} {}: {:?}", a, f.name, f);
                if let Some(g) = &f.set_by {
                    // A `parent` grant decides each action on the parent record on its own: its
                    // trace is the explained action's, while its `view` part may be what shows
                    // the field (readonly), so only its presence is asked of it.
                    let t = e.grants.iter().find(|t| &t.id == g);
                    prop_assert!(t.is_some_and(|t| t.applies || t.scope == fieldgate::core::Scope::Parent), "{a} {}: {g}", f.name);
                }
                if let Some(r) = f.capped_by.as_deref().filter(|r| *r != "stale") {
                    prop_assert!(e.rules.iter().any(|t| t.id == r && t.applies), "{a} {}: {r}", f.name);
                }
            }
        }
    }

    #[test]
    fn stale_mode_allows_only_view_and_readonly_everywhere(doc in policy_doc(), s in subject(), rec in record(), ctx in context()) {
        let p = compile(&doc);
        let fresh = p.session(&s);
        let mut stale = p.session(&s);
        stale.set_stale(true);
        let input = Input::json(rec.as_ref(), Some(&ctx));
        let rec_or_empty = rec.clone().unwrap_or_else(|| json!({}));
        for a in ACTIONS {
            let want = a == "view" && fresh.can(a, "doc", input).unwrap();
            prop_assert_eq!(stale.can(a, "doc", input).unwrap(), want, "{}", a);
            prop_assert_eq!(stale.explain(a, "doc", input).unwrap().allow, want);
            let f = stale.scope_filter("doc", a, Some(&ctx)).unwrap();
            let can_here = stale.can(a, "doc", Input::json(Some(&rec_or_empty), Some(&ctx))).unwrap();
            prop_assert_eq!(f.matches(&stale, &rec_or_empty, &ctx), can_here);
        }
        for m in Mode::ALL {
            let (a, b) = (fresh.fields("doc", m, input).unwrap(), stale.fields("doc", m, input).unwrap());
            for (x, y) in a.states().iter().zip(b.states()) {
                prop_assert_eq!(*y, (*x).min(FieldState::Readonly));
            }
        }
        if let Some(r) = &rec {
            let w = stale.writable("doc", Mode::Edit, Some(r), &json!({"f0": 1, "f1": 2}), Some(&ctx)).unwrap();
            prop_assert_eq!(w, json!({}));
        }
    }
}

// ---- dated access: an entry outside its window does not exist ----

/// The clock's marks: windows open and close on them, and sessions are asked at them and
/// between them.
const MARKS: [&str; 4] = [
    "2027-01-01T00:00:00Z",
    "2027-01-01T08:00:00+08:00", // the same moment as the first, another offset
    "2027-01-02T00:00:00Z",
    "2027-01-03T00:00:00Z",
];

fn mark_ms(i: usize) -> i64 {
    fieldgate::core::time::parse_rfc3339(MARKS[i]).unwrap()
}

/// A window over the marks: `from`, `until`, each maybe absent, `until` never before `from`.
fn window() -> impl Strategy<Value = (Option<usize>, Option<usize>)> {
    (prop::option::of(0..4usize), prop::option::of(0..4usize)).prop_map(|(f, u)| match (f, u) {
        (Some(f), Some(u)) if mark_ms(u) < mark_ms(f) => (Some(u), Some(f)),
        w => w,
    })
}

/// `doc` with u0 given roles, a personal deny, and windows on u0's role entries, grants and
/// deny and on d1's role entries (`None`: undated).
fn dated(
    doc: &Value,
    roles: &[&str],
    deny_action: &str,
    windows: &[Option<(Option<usize>, Option<usize>)>],
) -> Value {
    let mut doc = doc.clone();
    let mut w = windows.iter().cycle();
    let mut date = |entry: Value| -> Value {
        let Some(Some((from, until))) = w.next() else {
            return entry;
        };
        let mut m = match entry {
            Value::String(r) => json!({ "role": r }),
            other => other,
        };
        if let Some(f) = from {
            m["from"] = json!(MARKS[*f]);
        }
        if let Some(u) = until {
            m["until"] = json!(MARKS[*u]);
        }
        m
    };
    let mut each = |list: &mut Value| {
        let dated: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .cloned()
            .map(&mut date)
            .collect();
        *list = Value::Array(dated);
    };
    let u0 = &mut doc["assignments"]["users"]["u0"];
    u0["roles"] = json!(roles);
    u0["denies"] = json!([{"resource": "doc", "actions": [deny_action]}]);
    for k in ["roles", "grants", "denies"] {
        each(&mut u0[k]);
    }
    each(&mut doc["assignments"]["departments"]["d1"]);
    doc
}

/// The spec read literally: at `now`, every dated entry outside its window removed and every
/// other one undated.
fn as_at(doc: &Value, now: i64) -> Value {
    let open = |e: &Value| {
        let bound = |k: &str| {
            e.get(k)
                .and_then(Value::as_str)
                .map(|t| fieldgate::core::time::parse_rfc3339(t).unwrap())
        };
        bound("from").is_none_or(|f| now >= f) && bound("until").is_none_or(|u| now <= u)
    };
    let undated = |e: &Value| match e {
        Value::Object(m) if m.contains_key("role") => m["role"].clone(),
        Value::Object(m) => {
            let mut m = m.clone();
            m.remove("from");
            m.remove("until");
            Value::Object(m)
        }
        other => other.clone(),
    };
    let keep = |list: &Value| -> Value {
        Value::Array(
            list.as_array()
                .unwrap()
                .iter()
                .filter(|e| open(e))
                .map(undated)
                .collect(),
        )
    };
    let mut doc = doc.clone();
    let u0 = &mut doc["assignments"]["users"]["u0"];
    for k in ["roles", "grants", "denies"] {
        u0[k] = keep(&u0[k]);
    }
    let d1 = &mut doc["assignments"]["departments"]["d1"];
    *d1 = keep(d1);
    doc
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn dated_entries_exist_only_inside_their_windows(
        doc in policy_doc(),
        s in subject(),
        rec in record(),
        ctx in context(),
        roles in prop::sample::subsequence(vec!["r0", "r1", "r2", "r3"], 0..=2),
        deny_action in prop::sample::select(ACTIONS.to_vec()),
        windows in prop::collection::vec(prop::option::of(window()), 1..8),
        (mark, offset) in (0..4usize, prop::sample::select(vec![-1i64, 0, 1])),
    ) {
        let dated = dated(&doc, &roles, deny_action, &windows);
        let now = mark_ms(mark) + offset;
        let p = compile(&dated);
        let session = p.session_at(&s, now);
        let input = Input::json(rec.as_ref(), Some(&ctx));
        let got = Answers {
            can: ACTIONS.iter().map(|a| session.can(a, "doc", input).unwrap()).collect(),
            fields: Mode::ALL
                .iter()
                .map(|&m| session.fields("doc", m, input).unwrap().states().to_vec())
                .collect(),
        };
        let plain = as_at(&dated, now);
        let want = Naive::new(&plain, &s).answers(rec.as_ref(), &ctx);
        prop_assert_eq!(got, want, "at {} policy {:#}", now, dated);
        // And the engine on the literal reading agrees with itself.
        let undated = answers(&compile(&plain), &s, rec.as_ref(), &ctx);
        let again = p.session_at(&s, now);
        prop_assert_eq!(again.can("view", "doc", input).unwrap(), undated.can[0]);
    }
}
