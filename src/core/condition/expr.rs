//! Compiled conditions: evaluation, specialisation to one user, and the JSON tree form.

use super::Truth;
use crate::core::attrs::{json_eq, AttrPath, Attrs};
use crate::prelude::*;
use alloc::borrow::Cow;
use alloc::sync::Arc;
use core::cmp::Ordering;
use serde::{Deserialize, Serialize};
use serde_json::Value;

static NULL: Value = Value::Null;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmpOp {
    /// `==`: JSON equality.
    Eq,
    /// `!=`: JSON inequality.
    Ne,
    /// `<` on two numbers or two strings.
    Lt,
    /// `<=` on two numbers or two strings.
    Le,
    /// `>` on two numbers or two strings.
    Gt,
    /// `>=` on two numbers or two strings.
    Ge,
    /// `a in b`: b is a list containing a.
    In,
    /// `a contains b`: a is a list containing b, or b is a substring of a.
    Contains,
}

impl CmpOp {
    /// The operator as written in conditions.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::Contains => "contains",
        }
    }

    /// Applies the operator to two known values.
    pub fn apply(self, a: &Value, b: &Value) -> bool {
        match self {
            CmpOp::Eq => json_eq(a, b),
            CmpOp::Ne => !json_eq(a, b),
            CmpOp::Lt => order(a, b) == Some(Ordering::Less),
            CmpOp::Le => matches!(order(a, b), Some(Ordering::Less | Ordering::Equal)),
            CmpOp::Gt => order(a, b) == Some(Ordering::Greater),
            CmpOp::Ge => matches!(order(a, b), Some(Ordering::Greater | Ordering::Equal)),
            CmpOp::In => b
                .as_array()
                .is_some_and(|l| l.iter().any(|x| json_eq(x, a))),
            CmpOp::Contains => match a {
                Value::Array(l) => l.iter().any(|x| json_eq(x, b)),
                Value::String(s) => b.as_str().is_some_and(|t| s.contains(t)),
                _ => false,
            },
        }
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// A `user.*` path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserRef {
    /// `user.id`.
    Id,
    /// `user.roles`: the effective roles.
    Roles,
    /// `user.department`.
    Department,
    /// `user.groups`.
    Groups,
    /// `user.org`: a partner's organisation (null for the company's own staff).
    Org,
    /// `user.attrs.…`, by slot in the policy's user-attribute table.
    Attr(u32),
    /// The user's department and every department below it (what `department_tree` scopes
    /// match; not written in conditions).
    DepartmentTree,
    /// `user.reports`: the ids of everyone below the user in the reporting line.
    Reports,
}

/// A value in a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// A literal (string, number, boolean, null, or a list of literals).
    Lit(#[serde(with = "json_text")] Arc<Value>),
    /// A `user.*` path.
    User(UserRef),
    /// A `record.*` path, by slot.
    Record(u32),
    /// A `context.*` path, by slot.
    Context(u32),
    /// A list with at least one non-literal element.
    List(#[serde(deserialize_with = "nested::deserialize")] Vec<Operand>),
    /// A literal list of user ids, searchable in logarithmic time (a `subordinates` scope's
    /// owners: a manager may have thousands; made per session, never in a policy).
    #[serde(skip)]
    Ids(Arc<Ids>),
}

/// User ids as a JSON list and sorted, for [`Operand::Ids`].
#[derive(Debug, Clone, PartialEq)]
pub struct Ids {
    sorted: Vec<String>,
    list: Value,
}

impl Ids {
    /// The set of these ids, in any order.
    pub fn new<'a>(ids: impl Iterator<Item = &'a str>) -> Ids {
        let mut sorted: Vec<String> = ids.map(String::from).collect();
        sort_ids(&mut sorted);
        sorted.dedup();
        let list = Value::Array(sorted.iter().cloned().map(Value::String).collect());
        Ids { sorted, list }
    }

    /// Whether `v` is one of the ids.
    fn holds(&self, v: &Value) -> bool {
        v.as_str()
            .is_some_and(|s| self.sorted.binary_search_by(|x| x.as_str().cmp(s)).is_ok())
    }
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A constant (from folding).
    Const(bool),
    /// True when any is true.
    Or(#[serde(deserialize_with = "nested::deserialize")] Vec<Expr>),
    /// True when all are true.
    And(#[serde(deserialize_with = "nested::deserialize")] Vec<Expr>),
    /// Negation.
    Not(#[serde(deserialize_with = "nested::deserialize")] Box<Expr>),
    /// One comparison.
    Cmp(CmpOp, Operand, Operand),
    /// A bare value: true only if it is the boolean `true`.
    Truthy(Operand),
    /// A decision about the parent record (a `parent` scope, made per session: never in a
    /// policy or a bundle).
    #[serde(skip)]
    Parent(Box<ParentTest>),
}

/// Whether the parent record allows an action: `test`, the parent resource's decision for the
/// user, read against the record under `slot` (the parent resource's name). Unknown without a
/// record, false when the record has no parent record.
#[derive(Debug, Clone, PartialEq)]
pub struct ParentTest {
    /// The parent resource's position in the policy.
    pub resource: u32,
    /// The record slot holding the parent record.
    pub slot: u32,
    /// The parent resource's decision, reading the parent record's own attributes.
    pub test: Expr,
}

/// Which junction [`Expr::junction`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Junction {
    /// Every part holds.
    And,
    /// Some part holds.
    Or,
}

/// The attribute paths a policy's conditions read, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotTable {
    /// `record.*` paths.
    pub record: Vec<AttrPath>,
    /// `context.*` paths.
    pub context: Vec<AttrPath>,
    /// `user.attrs.*` paths.
    pub user_attrs: Vec<AttrPath>,
}

/// The values of `user.*` for one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct UserValues {
    /// `user.id` as a JSON string.
    pub id: Value,
    /// `user.roles`: effective role names.
    pub roles: Value,
    /// `user.department` (null when none).
    pub department: Value,
    /// `user.groups`.
    pub groups: Value,
    /// `user.org` (null for the company's own staff).
    pub org: Value,
    /// `user.attrs.*` in slot order (null when absent).
    pub attrs: Vec<Value>,
    /// The user's department and every department below it, as a list (null without a
    /// department).
    pub department_tree: Value,
    /// `user.reports`: the ids below the user in the reporting line, as a list.
    pub reports: Value,
}

impl UserValues {
    fn get(&self, r: UserRef) -> &Value {
        match r {
            UserRef::Id => &self.id,
            UserRef::Roles => &self.roles,
            UserRef::Department => &self.department,
            UserRef::Groups => &self.groups,
            UserRef::Org => &self.org,
            UserRef::Attr(slot) => self.attrs.get(slot as usize).unwrap_or(&NULL),
            UserRef::DepartmentTree => &self.department_tree,
            UserRef::Reports => &self.reports,
        }
    }
}

/// What a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The attribute tables of the policy.
    pub slots: &'a SlotTable,
    /// `user.*`.
    pub user: &'a UserValues,
    /// `record.*`; `None` when no record is given (its paths are unknown).
    pub record: Option<&'a dyn Attrs>,
    /// `context.*` (missing paths are null).
    pub context: &'a dyn Attrs,
}

impl Operand {
    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables (ids a policy stores index its own tables: the compiler makes them so and `check_integrity` proves it for a decoded policy)"
    )]
    fn value<'e>(&'e self, env: &Env<'e>) -> Option<Cow<'e, Value>> {
        match self {
            Operand::Lit(v) => Some(Cow::Borrowed(v)),
            Operand::User(u) => Some(Cow::Borrowed(env.user.get(*u))),
            Operand::Record(slot) => {
                let rec = env.record?;
                Some(Cow::Borrowed(
                    rec.attr(&env.slots.record[*slot as usize]).unwrap_or(&NULL),
                ))
            }
            Operand::Context(slot) => Some(Cow::Borrowed(
                env.context
                    .attr(&env.slots.context[*slot as usize])
                    .unwrap_or(&NULL),
            )),
            Operand::Ids(ids) => Some(Cow::Borrowed(&ids.list)),
            Operand::List(items) => {
                let vals: Option<Vec<Value>> = items
                    .iter()
                    .map(|i| i.value(env).map(Cow::into_owned))
                    .collect();
                Some(Cow::Owned(Value::Array(vals?)))
            }
        }
    }

    /// Replaces `user.*` (and, when given, `context.*`) by literals.
    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables (ids a policy stores index its own tables: the compiler makes them so and `check_integrity` proves it for a decoded policy)"
    )]
    fn specialize(&self, user: &UserValues, context: Option<(&dyn Attrs, &SlotTable)>) -> Operand {
        match self {
            Operand::User(u) => Operand::Lit(Arc::new(user.get(*u).clone())),
            Operand::Context(slot) => match context {
                Some((ctx, slots)) => Operand::Lit(Arc::new(
                    ctx.attr(&slots.context[*slot as usize])
                        .cloned()
                        .unwrap_or(Value::Null),
                )),
                None => self.clone(),
            },
            Operand::List(items) => {
                let items: Vec<Operand> =
                    items.iter().map(|i| i.specialize(user, context)).collect();
                literal_list(items)
            }
            Operand::Lit(_) | Operand::Record(_) | Operand::Ids(_) => self.clone(),
        }
    }

    /// The literal value, when the operand is one.
    pub(crate) fn as_lit(&self) -> Option<&Value> {
        match self {
            Operand::Lit(v) => Some(v),
            Operand::Ids(ids) => Some(&ids.list),
            _ => None,
        }
    }

    fn reads_user(&self, u: UserRef) -> bool {
        match self {
            Operand::User(x) => *x == u,
            Operand::List(items) => items.iter().any(|i| i.reads_user(u)),
            _ => false,
        }
    }

    fn reads_path(&self) -> bool {
        match self {
            Operand::Lit(_) | Operand::Ids(_) => false,
            Operand::List(items) => items.iter().any(Operand::reads_path),
            _ => true,
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables (ids a policy stores index its own tables: the compiler makes them so and `check_integrity` proves it for a decoded policy)"
    )]
    pub(crate) fn tree(&self, slots: &SlotTable) -> Value {
        let (key, value) = match self {
            Operand::Lit(v) => ("value", Value::clone(v)),
            Operand::Ids(ids) => ("value", ids.list.clone()),
            Operand::User(u) => {
                let name = match u {
                    UserRef::Id => "id".to_string(),
                    UserRef::Roles => "roles".to_string(),
                    UserRef::Department => "department".to_string(),
                    UserRef::Groups => "groups".to_string(),
                    UserRef::Org => "org".to_string(),
                    UserRef::Attr(s) => format!("attrs.{}", slots.user_attrs[*s as usize].dotted()),
                    UserRef::DepartmentTree => "department_tree".to_string(),
                    UserRef::Reports => "reports".to_string(),
                };
                ("user", name.into())
            }
            Operand::Record(s) => ("attr", slots.record[*s as usize].dotted().into()),
            Operand::Context(s) => ("context", slots.context[*s as usize].dotted().into()),
            Operand::List(items) => ("list", items.iter().map(|i| i.tree(slots)).collect()),
        };
        object([(key, value)])
    }
}

/// A JSON object of these members, in this order (built directly: `json!` with values that are
/// not literals goes through serde's serializer into `Value`, code the wasm module need not carry).
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A list operand whose elements are all literals becomes one literal list.
pub(crate) fn literal_list(items: Vec<Operand>) -> Operand {
    if items.iter().all(|i| i.as_lit().is_some()) {
        Operand::Lit(Arc::new(Value::Array(
            items
                .into_iter()
                .filter_map(|i| match i {
                    Operand::Lit(v) => Some(Arc::unwrap_or_clone(v)),
                    other => other.as_lit().cloned(),
                })
                .collect(),
        )))
    } else {
        Operand::List(items)
    }
}

impl Expr {
    /// Evaluates three-valued: paths into an absent record are unknown.
    pub fn eval(&self, env: &Env<'_>) -> Truth {
        match self {
            Expr::Const(b) => Truth::from(*b),
            Expr::Or(xs) => {
                let mut acc = Truth::False;
                for x in xs {
                    acc = acc.or(x.eval(env));
                    if acc == Truth::True {
                        break;
                    }
                }
                acc
            }
            Expr::And(xs) => {
                let mut acc = Truth::True;
                for x in xs {
                    acc = acc.and(x.eval(env));
                    if acc == Truth::False {
                        break;
                    }
                }
                acc
            }
            Expr::Not(x) => x.eval(env).not(),
            Expr::Cmp(CmpOp::In, a, Operand::Ids(ids)) => match a.value(env) {
                Some(v) => Truth::from(ids.holds(&v)),
                None => Truth::Unknown,
            },
            Expr::Cmp(op, a, b) => match (a.value(env), b.value(env)) {
                (Some(a), Some(b)) => Truth::from(op.apply(&a, &b)),
                _ => Truth::Unknown,
            },
            Expr::Truthy(a) => match a.value(env) {
                Some(v) => Truth::from(*v == Value::Bool(true)),
                None => Truth::Unknown,
            },
            Expr::Parent(link) => link.eval(env),
        }
    }

    /// The condition with `user.*` (and `context.*` when given) replaced by their values and
    /// folded: what remains reads only the record (and the context when not given).
    pub fn specialize(&self, user: &UserValues, context: Option<(&dyn Attrs, &SlotTable)>) -> Expr {
        match self {
            Expr::Const(_) => self.clone(),
            Expr::Or(xs) => {
                Expr::junction(xs.iter().map(|x| x.specialize(user, context)), Junction::Or)
            }
            Expr::And(xs) => Expr::junction(
                xs.iter().map(|x| x.specialize(user, context)),
                Junction::And,
            ),
            Expr::Not(x) => match x.specialize(user, context) {
                Expr::Const(b) => Expr::Const(!b),
                other => Expr::Not(Box::new(other)),
            },
            Expr::Cmp(op, a, b) => {
                let (a, b) = (a.specialize(user, context), b.specialize(user, context));
                match (a.as_lit(), b.as_lit()) {
                    (Some(x), Some(y)) => Expr::Const(op.apply(x, y)),
                    _ => Expr::Cmp(*op, a, b),
                }
            }
            Expr::Truthy(a) => match a.specialize(user, context) {
                Operand::Lit(v) => Expr::Const(*v == Value::Bool(true)),
                other => Expr::Truthy(other),
            },
            Expr::Parent(link) => Expr::Parent(Box::new(ParentTest {
                test: link.test.specialize(user, context),
                ..**link
            })),
        }
    }

    /// The constant value, when the condition is one.
    pub fn as_const(&self) -> Option<bool> {
        match self {
            Expr::Const(b) => Some(*b),
            _ => None,
        }
    }

    /// The value of a condition that reads no path at all (only literals), such as
    /// `1 == 2`: it is the same for everyone, so a lint can tell a rule that never applies.
    /// ([`Expr::as_const`] only looks at whether the tree already is a constant.)
    pub fn closed_value(&self) -> Option<bool> {
        let closed = !self.any_operand(&|o| o.reads_path());
        let nobody = UserValues {
            id: Value::Null,
            roles: Value::Null,
            department: Value::Null,
            groups: Value::Null,
            org: Value::Null,
            attrs: Vec::new(),
            department_tree: Value::Null,
            reports: Value::Null,
        };
        closed
            .then(|| self.specialize(&nobody, None).as_const())
            .flatten()
    }

    /// Whether the condition reads this `user.*` value.
    pub fn reads_user(&self, u: UserRef) -> bool {
        self.any_operand(&|o| o.reads_user(u))
    }

    /// Adds the record slots the condition reads to `out`.
    pub fn record_slots(&self, out: &mut Vec<u32>) {
        fn operand(o: &Operand, out: &mut Vec<u32>) {
            match o {
                Operand::Record(s) => out.push(*s),
                Operand::List(items) => items.iter().for_each(|i| operand(i, out)),
                _ => {}
            }
        }
        match self {
            Expr::Const(_) => {}
            Expr::Or(xs) | Expr::And(xs) => xs.iter().for_each(|x| x.record_slots(out)),
            Expr::Not(x) => x.record_slots(out),
            Expr::Cmp(_, a, b) => {
                operand(a, out);
                operand(b, out);
            }
            Expr::Truthy(a) => operand(a, out),
            // The whole parent record is read, under one slot.
            Expr::Parent(link) => out.push(link.slot),
        }
    }

    fn any_operand(&self, f: &dyn Fn(&Operand) -> bool) -> bool {
        match self {
            Expr::Const(_) => false,
            Expr::Or(xs) | Expr::And(xs) => xs.iter().any(|x| x.any_operand(f)),
            Expr::Not(x) => x.any_operand(f),
            Expr::Cmp(_, a, b) => f(a) || f(b),
            Expr::Truthy(a) => f(a),
            Expr::Parent(link) => link.test.any_operand(f),
        }
    }

    /// The JSON tree form (for scope filters): `true`, `false`, `{"and":[..]}`, `{"or":[..]}`,
    /// `{"not":t}`, `{"op":"==","left":o,"right":o}`, `{"truthy":o}`; operands are
    /// `{"attr":"a.b"}`, `{"value":v}`, `{"context":"x"}`, `{"user":"id"}`, `{"list":[..]}`.
    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables"
    )]
    pub fn to_tree(&self, slots: &SlotTable) -> Value {
        match self {
            Expr::Const(b) => Value::Bool(*b),
            Expr::Or(xs) => object([("or", xs.iter().map(|x| x.to_tree(slots)).collect())]),
            Expr::And(xs) => object([("and", xs.iter().map(|x| x.to_tree(slots)).collect())]),
            Expr::Not(x) => object([("not", x.to_tree(slots))]),
            Expr::Cmp(op, a, b) => object([
                ("op", op.as_str().into()),
                ("left", a.tree(slots)),
                ("right", b.tree(slots)),
            ]),
            Expr::Truthy(a) => object([("truthy", a.tree(slots))]),
            Expr::Parent(link) => object([
                ("parent", slots.record[link.slot as usize].dotted().into()),
                ("filter", link.test.to_tree(slots)),
            ]),
        }
    }

    /// Builds `and` or `or` of the parts, folding constants: the neutral constant drops out,
    /// the absorbing one wins. Allocates only when two or more parts remain.
    pub fn junction(parts: impl IntoIterator<Item = Expr>, kind: Junction) -> Expr {
        let is_and = kind == Junction::And;
        let mut first = None;
        let mut kept = Vec::new();
        for x in parts {
            match x {
                Expr::Const(b) if b == is_and => {}
                Expr::Const(b) => return Expr::Const(b),
                other => match first.take() {
                    None if kept.is_empty() => first = Some(other),
                    None => kept.push(other),
                    Some(one) => kept.extend([one, other]),
                },
            }
        }
        match first {
            Some(one) => one,
            None if kept.is_empty() => Expr::Const(is_and),
            None if is_and => Expr::And(kept),
            None => Expr::Or(kept),
        }
    }
}

impl ParentTest {
    #[expect(
        clippy::indexing_slicing,
        reason = "slot numbers in a compiled condition index the policy's slot tables"
    )]
    fn eval(&self, env: &Env<'_>) -> Truth {
        let Some(record) = env.record else {
            return self.test.eval(env);
        };
        match record.attr(&env.slots.record[self.slot as usize]) {
            Some(parent) if !parent.is_null() => self.test.eval(&Env {
                record: Some(parent),
                ..*env
            }),
            _ => Truth::False,
        }
    }
}

/// Reads the nested parts of a decoded condition (a binary bundle's) one level deeper, and
/// refuses to go deeper than `MAX_DECODED_DEPTH`: postcard, unlike serde_json, has no nesting
/// limit, and a deep enough body would exhaust the stack while decoding. The depth is counted per
/// thread (with `std`; the `no_std` build is the single-threaded wasm module).
mod nested {
    use serde::de::{Deserialize, Deserializer, Error};

    /// Nesting a decoded condition may have: well above what the parser lets through
    /// (`MAX_CONDITION_DEPTH`), well below what would exhaust the stack.
    pub const MAX_DECODED_DEPTH: u32 = 128;

    #[cfg(feature = "std")]
    std::thread_local! {
        static DEPTH: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
    }

    #[cfg(feature = "std")]
    fn step(by: i32) -> u32 {
        DEPTH.with(|d| {
            d.set(d.get().wrapping_add_signed(by));
            d.get()
        })
    }

    #[cfg(not(feature = "std"))]
    fn step(by: i32) -> u32 {
        use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
        static DEPTH: AtomicU32 = AtomicU32::new(0);
        DEPTH.fetch_add(by as u32, Relaxed).wrapping_add_signed(by)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        let out = if step(1) > MAX_DECODED_DEPTH {
            Err(D::Error::custom("a condition nests too deep"))
        } else {
            T::deserialize(d)
        };
        step(-1);
        out
    }
}

/// Serialises a JSON value as its text, so binary formats without self-description can hold it.
mod json_text {
    use crate::prelude::*;
    use alloc::sync::Arc;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Value, s: S) -> Result<S::Ok, S::Error> {
        v.to_string().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<Value>, D::Error> {
        let text = String::deserialize(d)?;
        crate::core::doc::parse_value(&text)
            .map(Arc::new)
            .map_err(serde::de::Error::custom)
    }
}
