//! Words people read, in Chinese and English: the product's terms (actions, field states, which
//! records), the policy's own labels (a `label` is a text, or texts by language) and conditions
//! said in words. The admin tools write every line an admin reads through here, so a term has
//! one translation.

use serde_json::Value;
use std::collections::HashMap;

/// A language of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese (`zh-CN`).
    Zh,
}

impl Lang {
    /// The language an `Accept-Language` header prefers among ours (English when it names
    /// neither): the highest `q`, the first named on a tie.
    pub fn from_accept(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| {
                    b.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// The language's tag.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The text for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// A list of names: `a, b and c` / `a、b 和 c`.
    pub fn list(self, items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => {
                let sep = self.pick(", ", "、");
                format!("{}{}{last}", rest.join(sep), self.pick(" and ", "和"))
            }
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            "zh" | "zh-cn" | "zh-hans" => Ok(Lang::Zh),
            _ => Err(format!("the language is zh-CN or en, not `{s}`")),
        }
    }
}

/// A `label` in this language: a text, or an object of texts by language tag (`zh-CN`, `en`),
/// falling back to the other language.
pub fn label(v: Option<&Value>, lang: Lang) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(m) => {
            let tags: &[&str] = match lang {
                Lang::Zh => &["zh-CN", "zh", "en"],
                Lang::En => &["en", "zh-CN", "zh"],
            };
            tags.iter()
                .find_map(|t| m.get(*t))
                .or_else(|| m.values().next())
                .and_then(Value::as_str)
                .map(str::to_string)
        }
        _ => None,
    }
}

/// Common action names in words (an action's own `label` comes first).
pub(crate) fn action_word(name: &str, lang: Lang) -> Option<&'static str> {
    let (en, zh) = match name {
        "view" => ("view", "查看"),
        "create" => ("create", "新建"),
        "edit" => ("edit", "编辑"),
        "delete" => ("delete", "删除"),
        "export" => ("export", "导出"),
        "import" => ("import", "导入"),
        "transfer" => ("transfer", "转移"),
        "submit" => ("submit", "提交"),
        "approve" => ("approve", "审批通过"),
        "reject" => ("reject", "驳回"),
        "receive" => ("receive", "入库"),
        "share" => ("share", "共享"),
        "print" => ("print", "打印"),
        "comment" => ("comment", "评论"),
        "archive" => ("archive", "归档"),
        "assign" => ("assign", "分配"),
        _ => return None,
    };
    Some(lang.pick(en, zh))
}

/// A field state, or `allowed` / `denied`, in words.
pub fn answer(word: &str, lang: Lang) -> String {
    let (en, zh) = match word {
        "hidden" => ("hidden", "隐藏"),
        "masked" => ("masked", "脱敏"),
        "readonly" => ("read-only", "只读"),
        "editable" => ("editable", "可编辑"),
        "allowed" => ("allowed", "允许"),
        "denied" => ("denied", "不允许"),
        other => return other.to_string(),
    };
    lang.pick(en, zh).to_string()
}

/// A form mode in words: `in edit forms` / `编辑时`.
pub fn mode(word: &str, lang: Lang) -> String {
    let (en, zh) = match word {
        "view" => ("view", "查看时"),
        "create" => ("create", "新建时"),
        "edit" => ("edit", "编辑时"),
        other => return other.to_string(),
    };
    lang.pick(en, zh).to_string()
}

/// A kind of document entry (of a diff's structural changes) in words.
pub fn entry_kind(kind: &str, lang: Lang) -> &str {
    let (en, zh) = match kind {
        "department" => ("department", "部门"),
        "resource" => ("form", "表单"),
        "template" => ("template", "权限模板"),
        "role" => ("role", "角色"),
        "rule" => ("rule", "规则"),
        "user" => ("person", "人员"),
        "directory" => ("directory", "通讯录"),
        "department_assignment" => ("department assignment", "部门的角色"),
        "group_assignment" => ("group assignment", "群组的角色"),
        other => return other,
    };
    lang.pick(en, zh)
}

/// Which records a change happens on (a record shape kind of the diff), in words.
pub fn records(kind: &str, lang: Lang) -> &'static str {
    let (en, zh) = match kind {
        "all" => ("all records", "全部记录"),
        "own" => ("their own records", "本人的记录"),
        "own_elsewhere" => (
            "their own records in other departments",
            "本人在其他部门的记录",
        ),
        "own_subtree" => (
            "their own records in departments below theirs",
            "本人在下级部门的记录",
        ),
        "department" => (
            "colleagues' records in their department",
            "本部门同事的记录",
        ),
        "subtree" => ("records of departments below theirs", "下级部门的记录"),
        "other" => ("other departments' records", "其他部门的记录"),
        "former_own" => (
            "their own records in their former department",
            "本人在原部门的记录",
        ),
        "former_own_subtree" => (
            "their own records below their former department",
            "本人在原部门下级部门的记录",
        ),
        "former_department" => (
            "colleagues' records in their former department",
            "原部门同事的记录",
        ),
        "former_subtree" => (
            "records of departments below their former one",
            "原部门下级部门的记录",
        ),
        "report" => ("records of someone reporting to them", "下属的记录"),
        "indirect_report" => (
            "records of someone reporting to them through others",
            "间接下属的记录",
        ),
        "former_report" => ("records of someone who reported to them", "原下属的记录"),
        "shared" => ("records shared with them", "共享给本人的记录"),
        "org" => ("their organisation's records", "本组织的记录"),
        "parent_own" => (
            "records under a record of their own (a customer's contacts)",
            "本人上级记录下的记录（如本人客户的联系人）",
        ),
        "parent_other" => (
            "records under someone else's record",
            "他人上级记录下的记录",
        ),
        _ => (
            "with no record open (lists and new forms)",
            "未打开具体记录时（列表和新建表单）",
        ),
    };
    lang.pick(en, zh)
}

/// The names of one policy document (and its directory's people) in one language: labels
/// where the document has them, the names themselves otherwise.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    lang: Lang,
    doc: Value,
    people: HashMap<String, String>,
}

impl Labels {
    /// The labels of `doc` (falling back to `fallback`'s, for names only it has) and the
    /// display names of `people` (`(id, name)`).
    pub fn new(
        lang: Lang,
        doc: &Value,
        fallback: &Value,
        people: impl IntoIterator<Item = (String, String)>,
    ) -> Labels {
        let mut merged = fallback.clone();
        merge(&mut merged, doc);
        Labels {
            lang,
            doc: merged,
            people: people.into_iter().collect(),
        }
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    fn at(&self, pointer: &[&str]) -> Option<&Value> {
        pointer.iter().try_fold(&self.doc, |v, k| v.get(*k))
    }

    fn named(&self, pointer: &[&str], name: &str) -> String {
        label(self.at(pointer), self.lang).unwrap_or_else(|| name.to_string())
    }

    /// A resource's label.
    pub fn resource(&self, name: &str) -> String {
        self.named(&["resources", name, "label"], name)
    }

    /// A field's label (by its dotted path).
    pub fn field(&self, resource: &str, path: &str) -> String {
        self.named(&["resources", resource, "fields", path, "label"], path)
    }

    /// An action in words: the common word for it, else its name.
    pub fn action(&self, name: &str) -> String {
        action_word(name, self.lang).map_or_else(|| name.to_string(), str::to_string)
    }

    /// An action of `resource` in words: a flow's transition by its label, a step's action as
    /// its transition and step (`审批（财务审批）`), else as [`Labels::action`] says it.
    pub fn resource_action(&self, resource: &str, name: &str) -> String {
        let t = |name: &str| {
            label(
                self.at(&[
                    "resources",
                    resource,
                    "workflow",
                    "transitions",
                    name,
                    "label",
                ]),
                self.lang,
            )
            .unwrap_or_else(|| self.action(name))
        };
        match name.split_once(':') {
            Some((transition, step)) => {
                let steps = self.at(&[
                    "resources",
                    resource,
                    "workflow",
                    "transitions",
                    transition,
                    "steps",
                ]);
                let s = steps
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|s| s.get("id").and_then(Value::as_str) == Some(step));
                let step = label(s.and_then(|s| s.get("label")), self.lang)
                    .unwrap_or_else(|| step.to_string());
                match self.lang {
                    Lang::En => format!("{} ({step})", t(transition)),
                    Lang::Zh => format!("{}（{step}）", t(transition)),
                }
            }
            None => t(name),
        }
    }

    /// A role's label.
    pub fn role(&self, name: &str) -> String {
        self.named(&["roles", name, "label"], name)
    }

    /// A department's label.
    pub fn department(&self, name: &str) -> String {
        self.named(&["departments", name, "label"], name)
    }

    /// A rule's label: its `label`, else its id.
    pub fn rule(&self, id: &str) -> String {
        let rules = self.doc.get("rules").and_then(Value::as_array);
        let rule = rules
            .into_iter()
            .flatten()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id));
        label(rule.and_then(|r| r.get("label")), self.lang).unwrap_or_else(|| id.to_string())
    }

    /// A person's display name (their id when the directory has none).
    pub fn person(&self, id: &str) -> String {
        self.people
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A condition (its tree form, see `Expr::to_tree`) on `resource`, in words.
    pub fn condition(&self, resource: &str, tree: &Value) -> String {
        let l = self.lang;
        match tree {
            Value::Bool(true) => l.pick("always", "总是").into(),
            Value::Bool(false) => l.pick("never", "从不").into(),
            Value::Object(m) => {
                if let Some(parts) = m.get("and").or(m.get("or")).and_then(Value::as_array) {
                    let sep = match (m.contains_key("and"), l) {
                        (true, Lang::En) => " and ",
                        (true, Lang::Zh) => " 且 ",
                        (false, Lang::En) => " or ",
                        (false, Lang::Zh) => " 或 ",
                    };
                    let words: Vec<String> =
                        parts.iter().map(|p| self.condition(resource, p)).collect();
                    return format!("({})", words.join(sep));
                }
                if let Some(inner) = m.get("not") {
                    let w = self.condition(resource, inner);
                    return match l {
                        Lang::En => format!("not {w}"),
                        Lang::Zh => format!("并非 {w}"),
                    };
                }
                if let Some(o) = m.get("truthy") {
                    let w = self.operand(resource, o);
                    return format!("{w}{}", l.pick(" is true", " 为是"));
                }
                let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
                let (left, right) = (m.get("left"), m.get("right"));
                let id_of =
                    |o: Option<&Value>| o.and_then(|o| o.get("attr")) == Some(&Value::from("id"));
                if op == "==" && (id_of(left) || id_of(right)) {
                    let other = if id_of(left) { right } else { left };
                    let v = other.map(|o| self.operand(resource, o)).unwrap_or_default();
                    return match l {
                        Lang::En => format!("record {v} only"),
                        Lang::Zh => format!("仅记录 {v}"),
                    };
                }
                let word = match (op, l) {
                    ("==", _) => "=",
                    ("!=", _) => "≠",
                    ("<", _) => "<",
                    ("<=", _) => "≤",
                    (">", _) => ">",
                    (">=", _) => "≥",
                    ("in", Lang::En) => "is one of",
                    ("in", Lang::Zh) => "属于",
                    ("contains", Lang::En) => "contains",
                    (_, Lang::Zh) => "包含",
                    (other, Lang::En) => other,
                };
                // A flow's state is said by its label (审批中, not `pending`).
                let attr = |o: Option<&'_ Value>| -> Option<String> {
                    Some(o?.get("attr")?.as_str()?.to_string())
                };
                let states = [attr(left), attr(right)]
                    .into_iter()
                    .flatten()
                    .find_map(|a| self.flow_states(resource, &a));
                let side = |o: Option<&Value>| match (o.and_then(|o| o.get("value")), states) {
                    (Some(v), Some(st)) => self.state_words(st, v),
                    _ => o.map(|o| self.operand(resource, o)).unwrap_or_default(),
                };
                format!("{} {word} {}", side(left), side(right))
            }
            other => other.to_string(),
        }
    }

    /// The states of `resource`'s flow, when `attr` is its state field.
    fn flow_states(&self, resource: &str, attr: &str) -> Option<&Value> {
        let w = self.at(&["resources", resource, "workflow"])?;
        (w.get("field")?.as_str()? == attr).then(|| w.get("states"))?
    }

    /// A state (or a list of states) by its label.
    fn state_words(&self, states: &Value, v: &Value) -> String {
        let one = |s: &Value| match s.as_str() {
            Some(name) => label(states.get(name).and_then(|x| x.get("label")), self.lang)
                .unwrap_or_else(|| name.to_string()),
            None => value(s, self.lang),
        };
        match v.as_array() {
            Some(items) => {
                let words: Vec<String> = items.iter().map(one).collect();
                format!("[{}]", words.join(self.lang.pick(", ", "、")))
            }
            None => one(v),
        }
    }

    /// A condition's source text in words (as written when it does not parse).
    pub fn condition_text(&self, resource: &str, text: &str) -> String {
        let mut slots = crate::core::condition::SlotTable::default();
        match crate::core::condition::parse(text, &mut slots) {
            Ok(e) => self.condition(resource, &e.to_tree(&slots)),
            Err(_) => text.to_string(),
        }
    }

    /// The name of `resource`'s flow: its label, else the resource's and "approval flow".
    pub fn flow(&self, resource: &str) -> String {
        label(
            self.at(&["resources", resource, "workflow", "label"]),
            self.lang,
        )
        .unwrap_or_else(|| match self.lang {
            Lang::En => format!("{} approval flow", self.resource(resource)),
            Lang::Zh => format!("{}审批流程", self.resource(resource)),
        })
    }

    /// Where a person stands with one transition of a record's flow, in words, as the engine
    /// answered (`Session::transitions`): `可以审批：第 1 步 部门主管审批`, `不能审批：等待第 1 步
    /// 部门主管审批`, `cannot submit: not from Pending`.
    pub fn transition(
        &self,
        resource: &str,
        a: &crate::core::TransitionAnswer,
        state: Option<&str>,
    ) -> String {
        use crate::core::FlowReason as R;
        let l = self.lang;
        let t = self.resource_action(resource, &a.transition);
        let step = |id: &str| {
            let k = a
                .steps
                .iter()
                .position(|s| s.step == id)
                .map_or(0, |k| k + 1);
            let name = self.resource_action(resource, &format!("{}:{id}", a.transition));
            let label = name
                .rsplit_once(['（', '('])
                .map_or(name.as_str(), |(_, x)| x);
            let label = label.trim_end_matches(['）', ')']).to_string();
            match l {
                Lang::En => format!("step {k}, {label}"),
                Lang::Zh => format!("第 {k} 步 {label}"),
            }
        };
        let to = self.state(resource, &a.to);
        let state = state.map_or_else(
            || l.pick("none", "无").to_string(),
            |s| self.state(resource, s),
        );
        match (a.reason, l) {
            (R::Ok, Lang::En) => match &a.step {
                Some(s) => format!("may {t}: {}", step(s)),
                None => format!("may {t} (to {to})"),
            },
            (R::Ok, Lang::Zh) => match &a.step {
                Some(s) => format!("可以{t}：{}", step(s)),
                None => format!("可以{t}（变为「{to}」）"),
            },
            (R::WrongStatus, Lang::En) => format!("cannot {t}: not from {state}"),
            (R::WrongStatus, Lang::Zh) => format!("不能{t}：当前状态「{state}」不允许"),
            (R::NotNext, Lang::En) => format!(
                "cannot {t}: waiting for {}",
                a.step.as_deref().map_or_else(String::new, step)
            ),
            (R::NotNext, Lang::Zh) => format!(
                "不能{t}：等待{}",
                a.step.as_deref().map_or_else(String::new, step)
            ),
            (R::Distinct, Lang::En) => format!(
                "cannot {t}: they did another step of this record that must be someone else's"
            ),
            (R::Distinct, Lang::Zh) => {
                format!("不能{t}：已在此单据办理过不相容的步骤，须由他人办理")
            }
            (_, Lang::En) => format!("cannot {t}: no grant gives it"),
            (_, Lang::Zh) => format!("不能{t}：没有权限"),
        }
    }

    /// A state of `resource`'s flow by its label (its name when it has none).
    pub fn state(&self, resource: &str, name: &str) -> String {
        self.named(
            &["resources", resource, "workflow", "states", name, "label"],
            name,
        )
    }

    fn operand(&self, resource: &str, o: &Value) -> String {
        let l = self.lang;
        if let Some(path) = o.get("attr").and_then(Value::as_str) {
            return self.field(resource, path);
        }
        if let Some(v) = o.get("value") {
            return value(v, l);
        }
        if let Some(c) = o.get("context").and_then(Value::as_str) {
            return format!("{}{c}", l.pick("context ", "环境 "));
        }
        if let Some(items) = o.get("list").and_then(Value::as_array) {
            let words: Vec<String> = items.iter().map(|i| self.operand(resource, i)).collect();
            return format!("[{}]", words.join(l.pick(", ", "、")));
        }
        let user = o.get("user").and_then(Value::as_str).unwrap_or("");
        match (user, l) {
            ("id", _) => l.pick("the user", "当前用户").into(),
            ("department", _) => l.pick("the user's department", "当前用户的部门").into(),
            ("department_tree", _) => l
                .pick("the user's department tree", "当前用户的部门及下级部门")
                .into(),
            ("reports", _) => l
                .pick("the people reporting to the user", "当前用户的下属")
                .into(),
            ("roles", _) => l.pick("the user's roles", "当前用户的角色").into(),
            ("groups", _) => l.pick("the user's groups", "当前用户的群组").into(),
            (attr, Lang::En) => format!("the user's {}", attr.trim_start_matches("attrs.")),
            (attr, Lang::Zh) => format!("当前用户的 {}", attr.trim_start_matches("attrs.")),
        }
    }
}

/// A literal in words: numbers grouped by thousands, texts as they are.
fn value(v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => grouped(i),
            None => n.to_string(),
        },
        Value::Bool(b) => lang
            .pick(if *b { "yes" } else { "no" }, if *b { "是" } else { "否" })
            .into(),
        Value::Null => lang.pick("empty", "空").into(),
        Value::Array(items) => {
            let words: Vec<String> = items.iter().map(|i| value(i, lang)).collect();
            format!("[{}]", words.join(lang.pick(", ", "、")))
        }
        Value::Object(_) => v.to_string(),
    }
}

/// `50000` as `50,000`.
fn grouped(i: i64) -> String {
    let digits = i.unsigned_abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if i < 0 {
        out.insert(0, '-');
    }
    out
}

/// `base` with `top`'s members laid over it, object by object.
fn merge(base: &mut Value, top: &Value) {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            for (k, v) in t {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, t) => *b = t.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accept_language_picks_the_preferred_of_ours() {
        assert_eq!(Lang::from_accept("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(Lang::from_accept("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(Lang::from_accept("fr;q=1, zh-TW;q=0.5"), Lang::Zh);
        assert_eq!(Lang::from_accept("de"), Lang::En);
        assert_eq!(Lang::from_accept("zh;q=0, en;q=0.1"), Lang::En);
    }

    #[test]
    fn labels_by_language_with_fallbacks() {
        let doc = json!({"resources": {"customer": {"label": {"zh-CN": "客户", "en": "Customer"},
            "fields": {"total_amount": {"label": {"zh-CN": "金额"}}}}}});
        let zh = Labels::new(Lang::Zh, &doc, &Value::Null, []);
        let en = Labels::new(Lang::En, &doc, &Value::Null, []);
        assert_eq!(zh.resource("customer"), "客户");
        assert_eq!(en.resource("customer"), "Customer");
        assert_eq!(en.field("customer", "total_amount"), "金额");
        assert_eq!(en.field("customer", "phone"), "phone");
        assert_eq!(zh.action("approve"), "审批通过");
        assert_eq!(zh.action("stamp"), "stamp");
    }

    #[test]
    fn conditions_in_words() {
        let doc = json!({"resources": {"order": {"fields": {"total_amount": {"label": {"zh-CN": "金额", "en": "Amount"}}}}}});
        let zh = Labels::new(Lang::Zh, &doc, &Value::Null, []);
        let en = Labels::new(Lang::En, &doc, &Value::Null, []);
        let le = json!({"op": "<=", "left": {"attr": "total_amount"}, "right": {"value": 50000}});
        assert_eq!(zh.condition("order", &le), "金额 ≤ 50,000");
        assert_eq!(en.condition("order", &le), "Amount ≤ 50,000");
        let one = json!({"op": "==", "left": {"attr": "id"}, "right": {"value": "c-1001"}});
        assert_eq!(zh.condition("order", &one), "仅记录 c-1001");
        let both =
            json!({"and": [le, {"op": "==", "left": {"attr": "owner"}, "right": {"user": "id"}}]});
        assert_eq!(
            en.condition("order", &both),
            "(Amount ≤ 50,000 and owner = the user)"
        );
        assert_eq!(grouped(-1234567), "-1,234,567");
    }
}
