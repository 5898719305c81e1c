//! Access compared: which answers change between two policies for one class of people on one
//! resource, on which records, and the conditions that tell those records apart.

use super::*;
use crate::core::policy::{Effect, Targets};

/// One change found for a class of people.
pub(super) struct Found {
    pub(super) records: &'static str,
    pub(super) shape: Option<Shape>,
    pub(super) what: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) direction: &'static str,
    pub(super) all_records: bool,
    pub(super) conditions: Vec<Value>,
    /// Whether the conditions say exactly which records (else the change depends on them).
    pub(super) exact: bool,
}

/// Every answer of both sessions on `r` that differs, with no record and on each shape.
pub(super) fn compare_resource(
    pair: &Pair<'_>,
    who: &Both,
    r: &str,
    a: &Session,
    b: &Session,
) -> Vec<Found> {
    let mut out = Vec::new();
    let mut cases: Vec<(&'static str, Option<Shape>)> = vec![("any", None)];
    cases.extend(
        pair.shapes(r, &who.is)
            .into_iter()
            .map(|sh| (sh.kind, Some(sh))),
    );
    // Someone who moved: their former department's records (and those below it) too.
    if who.was.department != who.is.department && who.was.department.is_some() {
        for sh in pair.shapes(r, &who.was) {
            let kind = match sh.kind {
                "own" => "former_own",
                "own_subtree" => "former_own_subtree",
                "department" => "former_department",
                "subtree" => "former_subtree",
                _ => continue,
            };
            cases.push((kind, Some(Shape { kind, ..sh })));
        }
    }
    // A new reporting line: the records of each person who joined or left it (a few of each).
    if let (Some(path), true) = (pair.owner_paths(r).0, who.was.reports != who.is.reports) {
        let candidates = pair.candidates(r);
        let joined = who
            .is
            .reports
            .keys()
            .filter(|id| !who.was.reports.contains_key(*id));
        let left = who
            .was
            .reports
            .keys()
            .filter(|id| !who.is.reports.contains_key(*id));
        for id in joined.take(3) {
            cases.extend(
                report_shapes("report", &path, id, &candidates).map(|sh| (sh.kind, Some(sh))),
            );
        }
        for id in left.take(3) {
            let kind = "former_report";
            cases.extend(report_shapes(kind, &path, id, &candidates).map(|sh| (sh.kind, Some(sh))));
        }
    }
    let (old, new) = (a.policy(), b.policy());
    let actions = union(
        old.action_names(r).unwrap_or_default().into_iter(),
        new.action_names(r).unwrap_or_default().into_iter(),
    );
    let fields_old = old.field_names(r).unwrap_or_default();
    let fields_new = new.field_names(r).unwrap_or_default();
    let fields = union(fields_old.iter().copied(), fields_new.iter().copied());
    let position = |names: &[&'_ str]| -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i))
            .collect()
    };
    let (at_old, at_new) = (position(&fields_old), position(&fields_new));
    let mut seen: std::collections::HashSet<(String, String, String)> = Default::default();
    // Per answer that changes (what, from, to): the cases it changes in.
    let mut changed_in: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
    for (case, (records, shape)) in cases.iter().enumerate() {
        let records = *records;
        let rec = shape.as_ref().map(|sh| pair.record(r, sh, who.on(sh)));
        let input = Input::json(rec.as_ref(), None);
        let mut push = |what: String, from: String, to: String, gained: bool| {
            changed_in
                .entry((what.clone(), from.clone(), to.clone()))
                .or_default()
                .push(case);
            // One change per answer and record shape kind; the first record that shows it.
            if seen.insert((records.to_string(), what.clone(), from.clone() + "|" + &to)) {
                out.push(Found {
                    records,
                    shape: shape.clone(),
                    what,
                    from,
                    to,
                    direction: if gained { "gained" } else { "lost" },
                    all_records: false,
                    conditions: Vec::new(),
                    exact: false,
                });
            }
        };
        for name in &actions {
            let was = a.can(name, r, input).unwrap_or(false);
            let is = b.can(name, r, input).unwrap_or(false);
            if was != is {
                let word = |v: bool| if v { "allowed" } else { "denied" }.to_string();
                push(format!("action {name}"), word(was), word(is), is);
            }
        }
        for mode in Mode::ALL {
            let states = |s: &Session, names: &[&str]| -> Vec<FieldState> {
                s.fields(r, mode, input)
                    .map(|f| f.states().to_vec())
                    .unwrap_or_else(|_| vec![FieldState::Hidden; names.len()])
            };
            let (was_all, is_all) = (states(a, &fields_old), states(b, &fields_new));
            let get = |at: &HashMap<String, usize>, states: &[FieldState], f: &str| {
                at.get(f).map_or(FieldState::Hidden, |&i| states[i])
            };
            for f in &fields {
                let (was, is) = (get(&at_old, &was_all, f), get(&at_new, &is_all, f));
                if was != is {
                    let what = format!("field {f} ({})", mode.as_str());
                    push(what, was.to_string(), is.to_string(), is > was);
                }
            }
        }
    }
    let on_records = cases.len() - 1;
    for f in &mut out {
        let key = (f.what.clone(), f.from.clone(), f.to.clone());
        let Some(changed) = changed_in.get(&key) else {
            continue;
        };
        f.all_records = on_records > 0 && changed.iter().filter(|&&c| c > 0).count() == on_records;
        if f.records != "any" {
            (f.conditions, f.exact) =
                pair.telling_apart(r, (a, b), &cases, changed, (f.records, &f.what));
        }
    }
    out
}

/// The records where a change happens, said as the values they hold (`status == 'approved'`,
/// `tier in ['gold', 'vip']`, `created_by == user.id`), when that says exactly which of the
/// kind's records they are; none for values compared by order (a number: the policy's own
/// condition says it better) or when the records are no such product of values.
fn described_by_values(
    of_kind: &[(usize, &Shape)],
    yes: &[&(usize, &Shape)],
    paths: &[&str],
) -> Option<Value> {
    let value = |sh: &Shape, p: &str| sh.set.iter().find(|(q, _)| q == p).map(|(_, c)| c.clone());
    let mut parts = Vec::new();
    let mut held: Vec<(&str, Vec<Candidate>)> = Vec::new();
    for &p in paths {
        let mut vals: Vec<Candidate> = Vec::new();
        for (_, sh) in yes {
            let v = value(sh, p)?;
            if matches!(&v, Candidate::Value(Value::Number(_))) {
                return None;
            }
            if !vals.contains(&v) {
                vals.push(v);
            }
        }
        let operand = |c: &Candidate| match c {
            Candidate::Value(v) => serde_json::json!({"value": v}),
            Candidate::UserId => serde_json::json!({"user": "id"}),
            Candidate::UserDepartment => serde_json::json!({"user": "department"}),
        };
        let left = serde_json::json!({"attr": p});
        parts.push(match vals.as_slice() {
            [one] => serde_json::json!({"op": "==", "left": left, "right": operand(one)}),
            many if many.iter().all(|c| matches!(c, Candidate::Value(_))) => {
                let list: Vec<Value> = many
                    .iter()
                    .filter_map(|c| match c {
                        Candidate::Value(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                serde_json::json!({"op": "in", "left": left, "right": {"value": list}})
            }
            _ => return None,
        });
        held.push((p, vals));
    }
    // Exact: the kind's records holding those values are the changed ones, no more.
    let matching = of_kind
        .iter()
        .filter(|(_, sh)| {
            held.iter()
                .all(|(p, vals)| value(sh, p).is_some_and(|v| vals.contains(&v)))
        })
        .count();
    if parts.is_empty() || matching != yes.len() {
        return None;
    }
    Some(match parts.len() {
        1 => parts.remove(0),
        _ => serde_json::json!({ "and": parts }),
    })
}

/// Whether a grant or rule with `targets` on resource `r` can bear on the answer `what`
/// (`action NAME`, or `field F (MODE)`): one listing the action; for a field, a limit, or one
/// listing `view` or the mode's action. A flow's rules on its transitions say nothing about a
/// field, so they are not offered as what tells its records apart.
fn bears_on(p: &Policy, r: u32, targets: &Targets, limit: bool, what: &str) -> bool {
    let Some(shape) = targets.shape(&p.resources, r) else {
        return false;
    };
    let res = p.resource_at(r);
    let lists = |action: &str| shape.actions & res.action_bit(action) != 0;
    match what.strip_prefix("action ") {
        Some(name) => lists(name),
        None => {
            let mode = what
                .rsplit_once('(')
                .map(|(_, m)| m.trim_end_matches(')'))
                .and_then(|m| m.parse::<Mode>().ok());
            limit || lists("view") || mode.and_then(Mode::action).is_some_and(lists)
        }
    }
}

/// Whether a condition tree reads the record attribute `path`.
fn reads_attr(tree: &Value, path: &str) -> bool {
    match tree {
        Value::Object(m) => {
            m.get("attr").and_then(Value::as_str) == Some(path)
                || m.values().any(|v| reads_attr(v, path))
        }
        Value::Array(items) => items.iter().any(|v| reads_attr(v, path)),
        _ => false,
    }
}

impl Pair<'_> {
    /// The conditions of either session on `r` that tell apart the records of `kind` where an
    /// answer changes (`changed`, positions in `cases`) from those where it does not; none when
    /// it changes on all of them. With `true` when they say exactly which records (the values
    /// they hold); otherwise the change depends on them, one way or the other.
    fn telling_apart(
        &self,
        r: &str,
        (a, b): (&Session, &Session),
        cases: &[(&'static str, Option<Shape>)],
        changed: &[usize],
        (kind, what): (&str, &str),
    ) -> (Vec<Value>, bool) {
        let of_kind: Vec<(usize, &Shape)> = cases
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| *k == kind)
            .filter_map(|(i, (_, sh))| Some((i, sh.as_ref()?)))
            .collect();
        let (yes, no): (Vec<_>, Vec<_>) = of_kind.iter().partition(|(i, _)| changed.contains(i));
        if yes.is_empty() || no.is_empty() {
            return (Vec::new(), false);
        }
        let values = |shapes: &[&(usize, &Shape)], path: &str| -> BTreeSet<String> {
            shapes
                .iter()
                .map(|(_, sh)| {
                    sh.set
                        .iter()
                        .find(|(p, _)| p == path)
                        .map_or_else(String::new, |(_, c)| format!("{c:?}"))
                })
                .collect()
        };
        let paths: BTreeSet<&str> = of_kind
            .iter()
            .flat_map(|(_, sh)| sh.set.iter().map(|(p, _)| p.as_str()))
            .collect();
        let differing: Vec<&str> = paths
            .iter()
            .copied()
            .filter(|p| values(&yes, p) != values(&no, p))
            .collect();
        if let Some(exact) = described_by_values(&of_kind, &yes, &differing) {
            return (vec![exact], true);
        }
        let telling: &[&str] = if differing.is_empty() {
            &[]
        } else {
            &differing
        };
        let mut sides: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
        for ((side, s), out) in [(&self.old, a), (&self.new, b)].into_iter().zip(&mut sides) {
            let p = &**side.policy;
            let Ok(pos) = p.resource_id(r) else { continue };
            let bears = |t: &Targets, limit: bool| bears_on(p, pos.index(), t, limit, what);
            let pos = pos.index() as usize;
            let grants = side.grants_on[pos]
                .iter()
                .chain(&side.every_grant)
                .filter(|g| s.grants.binary_search(g).is_ok())
                .map(|&g| &p.grants[g as usize])
                .filter(|g| bears(&g.targets, false))
                .map(|g| &g.when);
            let rules = side.rules_on[pos]
                .iter()
                .chain(&side.every_rule)
                .filter(|ru| s.rules.contains(ru))
                .map(|&ru| &p.rules[ru as usize])
                .filter(|ru| bears(&ru.targets, ru.effect == Effect::Limit))
                .map(|ru| &ru.when);
            for e in grants.chain(rules).flatten() {
                let tree = e.to_tree(&p.slots);
                // With no attribute told apart, every condition on a compared attribute.
                let reads = if telling.is_empty() {
                    paths.iter().any(|d| reads_attr(&tree, d))
                } else {
                    telling.iter().any(|d| reads_attr(&tree, d))
                };
                if reads && !out.contains(&tree) {
                    out.push(tree);
                }
            }
        }
        // The conditions one side has and the other lacks are what the change brought or
        // took away; when both have the same, each may tell the records apart.
        let [was, is] = sides;
        let mut out: Vec<Value> = was.iter().filter(|c| !is.contains(c)).cloned().collect();
        out.extend(is.iter().filter(|c| !was.contains(c)).cloned());
        if out.is_empty() {
            out = was;
        }
        (out, false)
    }
}
