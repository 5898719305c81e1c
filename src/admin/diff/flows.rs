//! What changed in a resource's approval flow, part by part (a step added, a transition moved,
//! the separation rules), read from the two documents and said in words for the diff: an admin
//! reads "入库审批：新增「财务审批」步骤（总金额 > 50,000 时）", not "form changed".

use crate::admin::words::{label, Labels, Lang};
use serde::Serialize;
use serde_json::{Map, Value};

/// One change in a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowEdit {
    /// `state`, `transition`, `step`, `separation`, `field` or `initial`.
    pub part: &'static str,
    /// The state or transition; `transition:step` for a step; empty for the others.
    pub name: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// The part's label, as the document that has it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Value>,
    /// For a step: its `when`, as the newer document says (none: always).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

/// The edits between two resources' `workflow` members (either may be absent).
pub(super) fn flow_edits(old: Option<&Value>, new: Option<&Value>) -> Vec<FlowEdit> {
    let mut out = Vec::new();
    if old == new {
        return out;
    }
    let member = |w: Option<&Value>, k: &str| w.and_then(|w| w.get(k)).cloned();
    for part in ["field", "initial"] {
        if member(old, part) != member(new, part) {
            out.push(edit(part, String::new(), "changed", None, None));
        }
    }
    let states = |w: Option<&Value>| object(member(w, "states"));
    let (so, sn) = (states(old), states(new));
    keyed(&so, &sn, |name, change, v| {
        out.push(edit(
            "state",
            name.into(),
            change,
            v.get("label").cloned(),
            None,
        ));
    });
    let transitions = |w: Option<&Value>| object(member(w, "transitions"));
    let (to, tn) = (transitions(old), transitions(new));
    keyed(&to, &tn, |name, change, v| {
        // A transition's own parts; its steps are their own edits.
        let bare = |t: Option<&Value>| {
            let mut t = t.cloned().unwrap_or(Value::Null);
            if let Some(m) = t.as_object_mut() {
                m.remove("steps");
            }
            t
        };
        if change != "changed" || bare(to.get(name)) != bare(tn.get(name)) {
            out.push(edit(
                "transition",
                name.into(),
                change,
                v.get("label").cloned(),
                None,
            ));
        }
    });
    for (t, _) in to
        .iter()
        .chain(tn.iter().filter(|(k, _)| !to.contains_key(*k)))
    {
        let steps = |m: &Map<String, Value>| -> Map<String, Value> {
            m.get(t)
                .and_then(|t| t.get("steps"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|s| Some((s.get("id")?.as_str()?.to_string(), s.clone())))
                .collect()
        };
        let (po, pn) = (steps(&to), steps(&tn));
        keyed(&po, &pn, |id, change, v| {
            let when = pn
                .get(id)
                .and_then(|s| s.get("when"))
                .and_then(Value::as_str);
            let name = format!("{t}:{id}");
            out.push(edit(
                "step",
                name,
                change,
                v.get("label").cloned(),
                when.map(String::from),
            ));
        });
    }
    if member(old, "distinct") != member(new, "distinct") {
        let change = match member(new, "distinct") {
            None => "removed",
            Some(_) if member(old, "distinct").is_none() => "added",
            Some(_) => "changed",
        };
        out.push(edit("separation", String::new(), change, None, None));
    }
    out
}

fn edit(
    part: &'static str,
    name: String,
    change: &'static str,
    label: Option<Value>,
    when: Option<String>,
) -> FlowEdit {
    FlowEdit {
        part,
        name,
        change,
        label,
        when,
    }
}

fn object(v: Option<Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Calls `f` for each key removed, changed or added between `old` and `new`, with the value
/// that says it (the new one, or the old one for a removal).
fn keyed(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    mut f: impl FnMut(&str, &'static str, &Value),
) {
    for (k, v) in old {
        match new.get(k) {
            None => f(k, "removed", v),
            Some(w) if w != v => f(k, "changed", w),
            Some(_) => {}
        }
    }
    for (k, v) in new.iter().filter(|(k, _)| !old.contains_key(*k)) {
        f(k, "added", v);
    }
}

/// The edits of `resource`'s flow in words, each prefixed by the flow's name.
pub(super) fn flow_words(resource: &str, edits: &[FlowEdit], labels: &Labels) -> Vec<String> {
    let l = labels.lang();
    let flow = labels.flow(resource);
    edits
        .iter()
        .map(|e| {
            let name = label(e.label.as_ref(), l).unwrap_or_else(|| {
                let bare = e.name.rsplit(':').next().unwrap_or(&e.name);
                match e.part {
                    "state" => labels.state(resource, bare),
                    _ => bare.to_string(),
                }
            });
            let when = e
                .when
                .as_deref()
                .map(|w| labels.condition_text(resource, w));
            let what = words(e, &name, when.as_deref(), l);
            match l {
                Lang::En => format!("{flow}: {what}"),
                Lang::Zh => format!("{flow}：{what}"),
            }
        })
        .collect()
}

fn words(e: &FlowEdit, name: &str, when: Option<&str>, l: Lang) -> String {
    let (en_part, zh_part) = match e.part {
        "state" => ("state", "状态"),
        "transition" => ("transition", "流转"),
        "step" => ("step", "步骤"),
        "separation" => ("separation of duties", "不相容规则"),
        "field" => ("state field", "状态字段"),
        _ => ("initial state", "初始状态"),
    };
    let named = !name.is_empty();
    let conditioned = |s: String| match (when, l) {
        (Some(w), Lang::En) => format!("{s} (when {w})"),
        (Some(w), Lang::Zh) => format!("{s}（{w} 时）"),
        (None, _) => s,
    };
    match (l, e.change, named) {
        (Lang::En, change, true) => conditioned(format!("{en_part} “{name}” {change}")),
        (Lang::En, change, false) => format!("{en_part} {change}"),
        (Lang::Zh, change, true) => {
            let verb = match change {
                "added" => "新增",
                "removed" => "删除",
                _ => "修改",
            };
            conditioned(format!("{verb}「{name}」{zh_part}"))
        }
        (Lang::Zh, change, false) => {
            let verb = match change {
                "added" => "新增",
                "removed" => "取消",
                _ => "修改",
            };
            format!("{verb}{zh_part}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_step_added_with_its_condition_in_words() {
        let old = json!({"field": "status", "transitions": {"approve": {"from": ["pending"], "to": "approved",
            "steps": [{"id": "manager", "label": {"zh-CN": "部门主管审批"}}]}}});
        let mut new = old.clone();
        new["transitions"]["approve"]["steps"]
            .as_array_mut()
            .unwrap()
            .push(
                json!({"id": "finance", "when": "record.total_amount > 50000",
                         "label": {"zh-CN": "财务审批", "en": "Finance approval"}}),
            );
        let edits = flow_edits(Some(&old), Some(&new));
        assert_eq!(edits.len(), 1, "{edits:?}");
        let doc = json!({"resources": {"inbound_order": {
            "label": {"zh-CN": "入库单"},
            "fields": {"total_amount": {"label": {"zh-CN": "金额", "en": "Amount"}}},
            "workflow": {"label": {"zh-CN": "入库单审批", "en": "Inbound approval"}}}}});
        let zh = Labels::new(Lang::Zh, &doc, &doc, []);
        assert_eq!(
            flow_words("inbound_order", &edits, &zh),
            ["入库单审批：新增「财务审批」步骤（金额 > 50,000 时）"]
        );
        let en = Labels::new(Lang::En, &doc, &doc, []);
        assert_eq!(
            flow_words("inbound_order", &edits, &en),
            ["Inbound approval: step “Finance approval” added (when Amount > 50,000)"]
        );
    }

    #[test]
    fn moving_a_transition_is_its_edit_and_the_separation_rules_are_one() {
        let old = json!({"transitions": {"submit": {"from": ["draft"], "to": "pending"}},
                         "distinct": ["submit", "approve"]});
        let new =
            json!({"transitions": {"submit": {"from": ["draft", "rejected"], "to": "pending"}}});
        let edits = flow_edits(Some(&old), Some(&new));
        let parts: Vec<_> = edits
            .iter()
            .map(|e| (e.part, e.name.as_str(), e.change))
            .collect();
        assert_eq!(
            parts,
            [
                ("transition", "submit", "changed"),
                ("separation", "", "removed")
            ]
        );
    }
}
