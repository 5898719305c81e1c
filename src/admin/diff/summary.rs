//! The diff in words: access changes grouped by their cause (the change the admin made) and
//! then by the people they happen to. Each line is one effect (an action gained or lost, or a
//! field's state changing) for the people it happens to alike, and says which records it
//! covers: all of them, whose (own, department, below, other departments'), and under which
//! condition. A line is made from its access entries alone and lists them (`entries`), so it
//! claims exactly what they say (the property test in `tests/diff_words.rs` checks it).

use super::{AccessChange, Diff, StructuralChange};
use crate::admin::words::{self, Labels, Lang};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// A diff's access changes in words.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    /// The language (`zh-CN` or `en`).
    pub lang: &'static str,
    /// How many people something changes for (the stand-ins when no real person is affected).
    pub people: usize,
    /// How many capabilities change (an action, or a field's state, on a resource, for
    /// someone), counted once per cause.
    pub capabilities: usize,
    /// Both counts in words: `4 people, 12 capabilities` / `4 人，12 项权限变化`.
    pub counts: String,
    /// By cause, in the order the changes were found.
    pub groups: Vec<Group>,
}

/// The effects of one change (or of changes that reach the same people and resources).
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The causes (positions in the diff's `structure`); empty when no change of the
    /// document reaches the person directly.
    pub causes: Vec<u32>,
    /// The causes in words.
    pub text: String,
    /// `陈爱丽等 4 人，12 项权限变化` / `4 people, 12 capabilities`.
    pub counts: String,
    /// Everyone it changes something for: the real people when there are any, else the
    /// stand-ins.
    pub people: Vec<PersonRef>,
    /// Distinct effects (action or field, resource, from, to), whoever they happen to.
    pub capabilities: usize,
    /// One line per effect and set of people.
    pub lines: Vec<Line>,
}

/// A person (or a stand-in) as the admin knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRef {
    /// `user:<id>`, or a stand-in: `department:<id>`, `group:<id>`, `role:<name>`.
    pub subject: String,
    /// The display name (from the directory), or the stand-in in words.
    pub name: String,
}

/// One effect for the people it happens to alike.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// The line in words.
    pub text: String,
    /// `gained` or `lost`.
    pub direction: &'static str,
    /// The resource.
    pub resource: String,
    /// `action <name>` or `field <name>`.
    pub what: String,
    /// For fields: the form modes it happens in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<String>,
    /// The old answer.
    pub from: String,
    /// The new answer.
    pub to: String,
    /// Whether it covers all the records of the resource.
    pub all_records: bool,
    /// Otherwise, which records (the entries' `records` kinds).
    pub records: Vec<&'static str>,
    /// And the conditions that tell its records apart (tree form).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Value>,
    /// Whether they say exactly which records (else the change depends on them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// Everyone it happens to.
    pub people: Vec<PersonRef>,
    /// The same people by subject (`user:<id>`, …).
    pub subjects: Vec<String>,
    /// The access entries it stands for (positions in the diff's `access`).
    pub entries: Vec<usize>,
}

/// The order kinds are said in.
const KINDS: [&str; 18] = [
    "own",
    "own_elsewhere",
    "own_subtree",
    "former_own",
    "former_own_subtree",
    "report",
    "indirect_report",
    "former_report",
    "shared",
    "org",
    "department",
    "subtree",
    "former_department",
    "former_subtree",
    "parent_own",
    "parent_other",
    "other",
    "any",
];

/// What one line is about, but for the people: cause, effect and qualifier.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Effect<'a> {
    causes: &'a [u32],
    direction: &'static str,
    resource: &'a str,
    /// `action <name>` or `field <name>`.
    base: &'a str,
    from: &'a str,
    to: &'a str,
    all_records: bool,
    records: Vec<&'static str>,
    conditions: Vec<String>,
}

/// One line being gathered: its effect, the modes it happens in, who, and its entries.
struct Gathered<'a> {
    effect: Effect<'a>,
    modes: Vec<&'a str>,
    who: Vec<&'a str>,
    entries: Vec<usize>,
}

/// A field change's mode: `field phone (edit)` is `("field phone", Some("edit"))`.
fn split_mode(what: &str) -> (&str, Option<&str>) {
    match what.strip_suffix(')').and_then(|w| w.rsplit_once(" (")) {
        Some((b, m)) if what.starts_with("field ") => (b, Some(m)),
        _ => (what, None),
    }
}

/// The impact of `d` in the words of `labels`.
pub(super) fn impact(d: &Diff, labels: &Labels) -> Impact {
    // Per person and effect (one mode): every kind of record it happens on.
    type PersonKey<'a> = (
        &'a str,
        &'a [u32],
        &'static str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        &'a str,
    );
    let mut per_person: Vec<(PersonKey<'_>, Vec<usize>)> = Vec::new();
    let mut at: HashMap<PersonKey<'_>, usize> = HashMap::new();
    for (i, c) in d.access.iter().enumerate() {
        let (base, mode) = split_mode(&c.what);
        let key = (
            c.subject.as_str(),
            c.causes.as_slice(),
            c.direction,
            c.resource.as_str(),
            base,
            mode,
            c.from.as_str(),
            c.to.as_str(),
        );
        let k = *at.entry(key).or_insert_with(|| {
            per_person.push((key, Vec::new()));
            per_person.len() - 1
        });
        per_person[k].1.push(i);
    }
    // People with the same effect and qualifier share a line (one per mode for now).
    let mut lines: Vec<Gathered<'_>> = Vec::new();
    let mut line_at: HashMap<(Effect<'_>, Option<&str>), usize> = HashMap::new();
    for ((subject, causes, direction, resource, base, mode, from, to), entries) in per_person {
        let of = |i: &usize| &d.access[*i];
        let all_records = entries.iter().map(of).all(|c| c.all_records);
        let effect = Effect {
            causes,
            direction,
            resource,
            base,
            from,
            to,
            all_records,
            // On every record, which kinds were asked about (a manager's reports' records too)
            // does not tell people apart.
            records: if all_records {
                Vec::new()
            } else {
                kinds(entries.iter().map(of))
            },
            conditions: conditions(entries.iter().map(of))
                .iter()
                .map(Value::to_string)
                .collect(),
        };
        let k = *line_at.entry((effect.clone(), mode)).or_insert_with(|| {
            lines.push(Gathered {
                effect,
                modes: mode.into_iter().collect(),
                who: Vec::new(),
                entries: Vec::new(),
            });
            lines.len() - 1
        });
        let line = &mut lines[k];
        if !line.who.contains(&subject) {
            line.who.push(subject);
        }
        line.entries.extend(entries);
    }
    // A field change alike in several modes for the same people is one line.
    let mut merged: Vec<Gathered<'_>> = Vec::new();
    for g in lines {
        let same = merged.iter_mut().find(|m| {
            !g.modes.is_empty() && !m.modes.is_empty() && m.effect == g.effect && m.who == g.who
        });
        match same {
            Some(m) => {
                m.modes.extend(g.modes);
                m.entries.extend(g.entries);
            }
            None => merged.push(g),
        }
    }
    let mut groups: Vec<Group> = Vec::new();
    for Gathered {
        effect,
        modes,
        who,
        mut entries,
    } in merged
    {
        entries.sort_unstable();
        let people: Vec<PersonRef> = who.iter().map(|s| person(s, labels)).collect();
        let line = Line {
            text: String::new(),
            direction: effect.direction,
            resource: effect.resource.to_string(),
            what: effect.base.to_string(),
            modes: modes.iter().map(|m| m.to_string()).collect(),
            from: effect.from.to_string(),
            to: effect.to.to_string(),
            all_records: effect.all_records,
            records: kinds(entries.iter().map(|&i| &d.access[i])),
            conditions: conditions(entries.iter().map(|&i| &d.access[i])),
            exact: entries.iter().all(|&i| d.access[i].exact),
            subjects: who.iter().map(|s| s.to_string()).collect(),
            people,
            entries,
        };
        let line = Line {
            text: line_text(&line, labels),
            ..line
        };
        match groups.iter_mut().find(|g| g.causes == effect.causes) {
            Some(g) => g.lines.push(line),
            None => groups.push(Group {
                causes: effect.causes.to_vec(),
                text: causes_text(effect.causes, &d.structure, labels),
                counts: String::new(),
                people: Vec::new(),
                capabilities: 0,
                lines: vec![line],
            }),
        }
    }
    let mut everyone: BTreeSet<String> = BTreeSet::new();
    let mut capabilities = 0;
    for g in &mut groups {
        let mut seen: BTreeSet<(&str, &str, &str, &str, &str)> = BTreeSet::new();
        for l in &g.lines {
            for p in &l.people {
                if !g.people.contains(p) {
                    g.people.push(p.clone());
                }
            }
            seen.insert((l.direction, &l.resource, &l.what, &l.from, &l.to));
        }
        g.capabilities = seen.len();
        capabilities += seen.len();
        g.people = named(&g.people).into_iter().cloned().collect();
        everyone.extend(g.people.iter().map(|p| p.subject.clone()));
        g.counts = counts(g.people.len(), g.capabilities, labels.lang());
    }
    Impact {
        lang: labels.lang().tag(),
        people: everyone.len(),
        capabilities,
        counts: counts(everyone.len(), capabilities, labels.lang()),
        groups,
    }
}

/// The record kinds of some entries, in the order they are said.
fn kinds<'a>(entries: impl Iterator<Item = &'a AccessChange>) -> Vec<&'static str> {
    let found: BTreeSet<&str> = entries.map(|c| c.records).collect();
    KINDS
        .iter()
        .copied()
        .filter(|k| found.contains(k))
        .collect()
}

/// The conditions of some entries, each once.
fn conditions<'a>(entries: impl Iterator<Item = &'a AccessChange>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for c in entries.flat_map(|c| &c.conditions) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

/// `4 people, 12 capabilities` / `4 人，12 项权限变化`.
fn counts(people: usize, capabilities: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{people} {}, {capabilities} {}",
            if people == 1 { "person" } else { "people" },
            if capabilities == 1 {
                "capability"
            } else {
                "capabilities"
            }
        ),
        Lang::Zh => format!("{people} 人，{capabilities} 项权限变化"),
    }
}

/// A subject as the admin knows them.
fn person(subject: &str, labels: &Labels) -> PersonRef {
    let l = labels.lang();
    let name = match subject.split_once(':') {
        Some(("user", id)) => labels.person(id),
        Some(("department", d)) => match l {
            Lang::En => format!(
                "members of {} without roles of their own",
                labels.department(d)
            ),
            Lang::Zh => format!("「{}」中没有个人角色的成员", labels.department(d)),
        },
        Some(("group", g)) => match l {
            Lang::En => format!("members of group {g} without roles of their own"),
            Lang::Zh => format!("群组「{g}」中没有个人角色的成员"),
        },
        Some(("role", r)) => match l {
            Lang::En => format!("whoever holds {}", labels.role(r)),
            Lang::Zh => format!("持有角色「{}」的人", labels.role(r)),
        },
        _ => subject.to_string(),
    };
    PersonRef {
        subject: subject.to_string(),
        name,
    }
}

/// The people to name and count: the real ones when there are any, else the stand-ins (who
/// show what a role, department or group change does to anyone like them).
fn named(people: &[PersonRef]) -> Vec<&PersonRef> {
    let real: Vec<&PersonRef> = people
        .iter()
        .filter(|p| p.subject.starts_with("user:"))
        .collect();
    if real.is_empty() {
        people.iter().collect()
    } else {
        real
    }
}

/// Who a line is about: up to three names, the rest counted.
fn who_text(people: &[PersonRef], lang: Lang) -> String {
    let people = named(people);
    let names: Vec<String> = people.iter().take(3).map(|p| p.name.clone()).collect();
    let rest = people.len().saturating_sub(3);
    match (lang, rest) {
        (_, 0) => lang.list(&names),
        (Lang::En, n) => format!("{} and {n} more", names.join(", ")),
        (Lang::Zh, _) => format!("{}等 {} 人", names.join("、"), people.len()),
    }
}

/// Which records a line covers, in words: `all records`, or the kinds (with `any` only when
/// it is the only one), then the conditions.
fn qualifier(line: &Line, labels: &Labels) -> String {
    let l = labels.lang();
    let mut parts: Vec<String> = if line.all_records {
        vec![words::records("all", l).to_string()]
    } else {
        let mut kinds: Vec<&str> = match line.records.as_slice() {
            ["any"] => vec!["any"],
            ks => ks.iter().copied().filter(|k| *k != "any").collect(),
        };
        // Their own records wherever they are filed are said once: "their own records".
        if kinds.contains(&"own") && kinds.contains(&"own_elsewhere") {
            kinds.retain(|k| !matches!(*k, "own_elsewhere" | "own_subtree"));
        }
        kinds
            .iter()
            .map(|k| words::records(k, l).to_string())
            .collect()
    };
    if !line.conditions.is_empty() {
        let words: Vec<String> = line
            .conditions
            .iter()
            .map(|c| labels.condition(&line.resource, c))
            .collect();
        parts.push(match (l, line.exact) {
            (Lang::En, true) => format!("only when {}", words.join(" or ")),
            (Lang::Zh, true) => format!("仅当 {} 时", words.join(" 或 ")),
            (Lang::En, false) => format!("depending on {}", words.join(" or ")),
            (Lang::Zh, false) => format!("视 {} 而定", words.join(" 或 ")),
        });
    }
    parts.join(l.pick("; ", "；"))
}

/// The line in words.
fn line_text(line: &Line, labels: &Labels) -> String {
    let l = labels.lang();
    let who = who_text(&line.people, l);
    let resource = labels.resource(&line.resource);
    let scope = qualifier(line, labels);
    let one = matches!(named(&line.people).as_slice(), [p] if p.subject.starts_with("user:"));
    if let Some(action) = line.what.strip_prefix("action ") {
        let action = labels.resource_action(&line.resource, action);
        let gained = line.direction == "gained";
        return match l {
            Lang::En => {
                let verb = match (gained, one) {
                    (true, true) => "gains",
                    (true, false) => "gain",
                    (false, true) => "loses",
                    (false, false) => "lose",
                };
                format!("{who} {verb} {action} on {resource} ({scope})")
            }
            Lang::Zh => {
                let verb = if gained { "获得" } else { "失去" };
                format!("{who}{verb}「{resource}」的「{action}」权限（{scope}）")
            }
        };
    }
    let field = line.what.strip_prefix("field ").unwrap_or(&line.what);
    let field = labels.field(&line.resource, field);
    let modes: Vec<String> = line.modes.iter().map(|m| words::mode(m, l)).collect();
    let (from, to) = (words::answer(&line.from, l), words::answer(&line.to, l));
    match l {
        Lang::En => format!(
            "{who}: {resource} › {field} goes from {from} to {to} (in {} forms; {scope})",
            l.list(&modes)
        ),
        Lang::Zh => format!(
            "{who}：「{resource} › {field}」{}由{from}变为{to}（{scope}）",
            modes.join("、")
        ),
    }
}

/// The causes of a group in words.
fn causes_text(causes: &[u32], structure: &[StructuralChange], labels: &Labels) -> String {
    let l = labels.lang();
    if causes.is_empty() {
        return l.pick("Other changes", "其他变更").into();
    }
    let parts: Vec<String> = causes
        .iter()
        .filter_map(|&i| structure.get(i as usize))
        .map(|c| cause_text(c, labels))
        .collect();
    parts.join(l.pick("; ", "；"))
}

/// One structural change in words.
fn cause_text(c: &StructuralChange, labels: &Labels) -> String {
    let l = labels.lang();
    let roles = |list: &[String]| -> String {
        let names: Vec<String> = list.iter().map(|r| labels.role(r)).collect();
        l.list(&names)
    };
    if c.kind == "directory" {
        return person_change(c, labels);
    }
    let holder = match c.kind {
        "department_assignment" => Some(match l {
            Lang::En => format!("Department {}", labels.department(&c.name)),
            Lang::Zh => format!("部门「{}」", labels.department(&c.name)),
        }),
        "group_assignment" => Some(match l {
            Lang::En => format!("Group {}", c.name),
            Lang::Zh => format!("群组「{}」", c.name),
        }),
        "user" => Some(labels.person(&c.name)),
        _ => None,
    };
    if let Some(holder) = holder {
        let mut parts = Vec::new();
        if !c.roles_added.is_empty() {
            parts.push(match l {
                Lang::En => format!("{holder} gets role {}", roles(&c.roles_added)),
                Lang::Zh => format!("{holder} 获得角色 {}", roles(&c.roles_added)),
            });
        }
        if !c.roles_removed.is_empty() {
            parts.push(match l {
                Lang::En => format!("{holder} loses role {}", roles(&c.roles_removed)),
                Lang::Zh => format!("{holder} 失去角色 {}", roles(&c.roles_removed)),
            });
        }
        if parts.is_empty() {
            parts.push(match (l, c.kind) {
                (Lang::En, "user") => format!("{holder}'s own grants, denies or limits change"),
                (Lang::Zh, "user") => format!("{holder} 的个人授权、禁止或限制有变"),
                (Lang::En, _) => format!("{holder}'s assignment changes"),
                (Lang::Zh, _) => format!("{holder} 的角色分配有变"),
            });
        }
        return parts.join(l.pick("; ", "；"));
    }
    let flow = super::flows::flow_words(&c.name, &c.flow, labels);
    if c.flow_only {
        return flow.join(l.pick("; ", "；"));
    }
    let (en_kind, zh_kind, name) = match c.kind {
        "role" => ("Role", "角色", labels.role(&c.name)),
        "template" => ("Template", "权限模板", c.name.clone()),
        "rule" => ("Rule", "规则", labels.rule(&c.name)),
        "resource" => ("Form", "表单", labels.resource(&c.name)),
        "department" => ("Department", "部门", labels.department(&c.name)),
        _ => ("Setting", "设置", c.name.clone()),
    };
    let entry = match l {
        Lang::En => {
            let verb = match c.change {
                "added" => "added",
                "removed" => "removed",
                _ => "changed",
            };
            format!("{en_kind} {name} {verb}")
        }
        Lang::Zh => {
            let verb = match c.change {
                "added" => "新增",
                "removed" => "删除",
                _ => "修改",
            };
            format!("{verb}{zh_kind}「{name}」")
        }
    };
    std::iter::once(entry)
        .chain(flow)
        .collect::<Vec<_>>()
        .join(l.pick("; ", "；"))
}

/// A change of one person in the directory in words: `Dave Zhou moves from Purchasing to
/// Warehouse; gets role Approver`.
fn person_change(c: &StructuralChange, labels: &Labels) -> String {
    let l = labels.lang();
    let who = labels.person(&c.name);
    let dept = |d: &Option<String>| {
        d.as_deref().map_or_else(
            || l.pick("no department", "无部门").to_string(),
            |d| labels.department(d),
        )
    };
    let names = |list: &[String], role: bool| -> String {
        let words: Vec<String> = list
            .iter()
            .map(|r| if role { labels.role(r) } else { r.clone() })
            .collect();
        l.list(&words)
    };
    let mut parts = Vec::new();
    match c.change {
        "added" => parts.push(match l {
            Lang::En => format!("{who} joins the directory"),
            Lang::Zh => format!("通讯录新增 {who}"),
        }),
        "removed" => parts.push(match l {
            Lang::En => format!("{who} leaves the directory"),
            Lang::Zh => format!("{who} 从通讯录移除"),
        }),
        _ => {}
    }
    if let Some((from, to)) = &c.department {
        parts.push(match (l, c.change) {
            (Lang::En, "added") => format!("in {}", dept(to)),
            (Lang::Zh, "added") => format!("加入「{}」", dept(to)),
            (Lang::En, _) => format!("{who} moves from {} to {}", dept(from), dept(to)),
            (Lang::Zh, _) => format!("{who} 从「{}」调到「{}」", dept(from), dept(to)),
        });
    }
    if !c.roles_added.is_empty() && c.change != "removed" {
        parts.push(match l {
            Lang::En => format!("{who} gets role {}", names(&c.roles_added, true)),
            Lang::Zh => format!("{who} 获得角色 {}", names(&c.roles_added, true)),
        });
    }
    if !c.roles_removed.is_empty() && c.change != "removed" {
        parts.push(match l {
            Lang::En => format!("{who} loses role {}", names(&c.roles_removed, true)),
            Lang::Zh => format!("{who} 失去角色 {}", names(&c.roles_removed, true)),
        });
    }
    if !c.groups_added.is_empty() {
        parts.push(match l {
            Lang::En => format!("{who} joins group {}", names(&c.groups_added, false)),
            Lang::Zh => format!("{who} 加入群组 {}", names(&c.groups_added, false)),
        });
    }
    if !c.groups_removed.is_empty() {
        parts.push(match l {
            Lang::En => format!("{who} leaves group {}", names(&c.groups_removed, false)),
            Lang::Zh => format!("{who} 退出群组 {}", names(&c.groups_removed, false)),
        });
    }
    if parts.is_empty() {
        parts.push(match l {
            Lang::En => format!("{who}'s details in the directory change"),
            Lang::Zh => format!("{who} 的通讯录信息有变"),
        });
    }
    parts.join(l.pick("; ", "；"))
}
