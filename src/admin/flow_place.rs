//! Where an action sits in its resource's approval flow, in words, for who-can and review: a
//! list of who may `approve:finance` means little until it says "step 2 of Approve in Inbound
//! approval, when total > 50,000, after step 1". Read from the policy document's labels; which
//! records it allows stays the engine's answer, and the sentence says so.

use crate::admin::words::{Labels, Lang};
use serde_json::Value;

/// The sentence for `action` of `resource` (a transition, or a step as `transition:step`), or
/// `None` when the resource has no flow or the action is not part of it.
pub fn flow_place(doc: &Value, labels: &Labels, resource: &str, action: &str) -> Option<String> {
    let flow = doc.get("resources")?.get(resource)?.get("workflow")?;
    let (name, step) = match action.split_once(':') {
        Some((t, s)) => (t, Some(s)),
        None => (action, None),
    };
    let t = flow.get("transitions")?.get(name)?;
    let l = labels.lang();
    let sep = l.pick(", ", "、");
    let states = |v: Option<&Value>| -> String {
        let names: Vec<String> = v
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|s| labels.state(resource, s))
            .collect();
        names.join(sep)
    };
    let from = states(t.get("from"));
    let to = t
        .get("to")
        .and_then(Value::as_str)
        .map(|s| labels.state(resource, s))
        .unwrap_or_default();
    let steps = t.get("steps").and_then(Value::as_array);
    let flow_name = labels.flow(resource);
    let what = labels.resource_action(resource, action);
    let transition = labels.resource_action(resource, name);
    let mut out = match step {
        None => {
            let n = steps.map_or(0, Vec::len);
            match (l, n) {
                (Lang::En, 0) => format!("“{what}” is a transition of {flow_name}: from {from} to {to}"),
                (Lang::En, n) => format!(
                    "“{what}” is a transition of {flow_name}: from {from} to {to}, once its {n} step(s) are signed in order"
                ),
                (Lang::Zh, 0) => format!("「{what}」是{flow_name}的流转：从「{from}」到「{to}」"),
                (Lang::Zh, n) => format!(
                    "「{what}」是{flow_name}的流转：从「{from}」到「{to}」，需依次签批 {n} 个步骤"
                ),
            }
        }
        Some(id) => {
            let steps = steps?;
            let k = steps
                .iter()
                .position(|s| s.get("id").and_then(Value::as_str) == Some(id))?;
            let when = steps[k]
                .get("when")
                .and_then(Value::as_str)
                .map(|w| labels.condition_text(resource, w));
            let mut s = match l {
                Lang::En => format!(
                    "“{what}” is step {} of “{transition}” in {flow_name}: in {from}",
                    k + 1
                ),
                Lang::Zh => format!(
                    "「{what}」是{flow_name}中「{transition}」的第 {} 步：在「{from}」状态",
                    k + 1
                ),
            };
            if let Some(w) = when {
                s += &match l {
                    Lang::En => format!(", when {w}"),
                    Lang::Zh => format!("、{w} 时"),
                };
            }
            if k > 0 {
                s += &match l {
                    Lang::En => format!(", after step {k}"),
                    Lang::Zh => format!("，第 {k} 步签批之后"),
                };
            }
            s
        }
    };
    // Whoever did another action of one of its separation rules on a record may not do it.
    let mut kept: Vec<String> = Vec::new();
    for g in distinct_groups(flow) {
        if g.iter().any(|a| a == action || a == name) {
            for a in g.iter().filter(|a| *a != action && *a != name) {
                let w = labels.resource_action(resource, a);
                if !kept.contains(&w) {
                    kept.push(w);
                }
            }
        }
    }
    if !kept.is_empty() {
        let others = kept.join(sep);
        out += &match l {
            Lang::En => format!("; not by whoever did {others} on the same record"),
            Lang::Zh => format!("；在同一单据上办理过「{others}」的人不能办理"),
        };
    }
    out += l.pick(
        "; on which records, the flow decides (state, order of steps, separation of duties).",
        "；具体哪些单据由流程决定（状态、步骤顺序、不相容规则）。",
    );
    Some(out)
}

/// The flow's separation rules as lists of actions (one flat list is one rule).
fn distinct_groups(flow: &Value) -> Vec<Vec<String>> {
    let strings = |v: &[Value]| -> Vec<String> {
        v.iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect()
    };
    let Some(list) = flow.get("distinct").and_then(Value::as_array) else {
        return Vec::new();
    };
    if list.iter().all(Value::is_string) {
        vec![strings(list)]
    } else {
        list.iter()
            .filter_map(Value::as_array)
            .map(|g| strings(g))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::from_str(include_str!("../../examples/acme-erp.policy.json")).unwrap()
    }

    #[test]
    fn a_step_says_its_place_condition_and_who_may_not_sign_it() {
        let doc = sample();
        let zh = Labels::new(Lang::Zh, &doc, &doc, []);
        let s = flow_place(&doc, &zh, "inbound_order", "approve:finance").unwrap();
        assert_eq!(
            s,
            "「审批（财务审批）」是入库审批中「审批」的第 2 步：在「审批中」状态、总金额 > 50,000 时，第 1 步签批之后；在同一单据上办理过「提交」的人不能办理；具体哪些单据由流程决定（状态、步骤顺序、不相容规则）。"
        );
        let en = Labels::new(Lang::En, &doc, &doc, []);
        let s = flow_place(&doc, &en, "outbound_order", "ship").unwrap();
        assert_eq!(
            s,
            "“Ship” is a transition of Outbound approval: from Approved to Shipped; on which records, the flow decides (state, order of steps, separation of duties)."
        );
        let s = flow_place(&doc, &en, "inbound_order", "approve").unwrap();
        assert!(
            s.contains("once its 2 step(s) are signed in order; not by whoever did Submit"),
            "{s}"
        );
    }

    #[test]
    fn actions_outside_a_flow_have_no_place() {
        let doc = sample();
        let en = Labels::new(Lang::En, &doc, &doc, []);
        assert_eq!(flow_place(&doc, &en, "inbound_order", "export"), None);
        assert_eq!(flow_place(&doc, &en, "customer", "edit"), None);
        assert_eq!(
            flow_place(&doc, &en, "inbound_order", "approve:nobody"),
            None
        );
    }
}
