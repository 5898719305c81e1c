//! The values a policy's conditions compare record attributes with, and records built from them.

use super::*;

/// Every combination of candidate values when there are few, else each value on its own.
pub(crate) fn variants(candidates: &[(String, Vec<Candidate>)]) -> Vec<Vec<(String, Candidate)>> {
    let product = candidates
        .iter()
        .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len() + 1))
        .unwrap_or(usize::MAX);
    if product <= 64 {
        let mut out: Vec<Vec<(String, Candidate)>> = vec![Vec::new()];
        for (path, values) in candidates {
            let mut next = Vec::with_capacity(out.len() * (values.len() + 1));
            for base in &out {
                next.push(base.clone());
                for v in values {
                    let mut with = base.clone();
                    with.push((path.clone(), v.clone()));
                    next.push(with);
                }
            }
            out = next;
        }
        out
    } else {
        let mut out = vec![Vec::new()];
        for (path, values) in candidates {
            for v in values {
                out.push(vec![(path.clone(), v.clone())]);
            }
        }
        out
    }
}

/// Adds the values `e` compares record attributes against.
pub(crate) fn collect_candidates(
    e: &Expr,
    slots: &SlotTable,
    out: &mut Vec<(String, Vec<Candidate>)>,
) {
    let mut add = |slot: u32, c: Candidate| {
        let path = slots.record[slot as usize].dotted();
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, list)) if list.contains(&c) => {}
            Some((_, list)) => list.push(c),
            None => out.push((path, vec![c])),
        }
    };
    match e {
        Expr::Const(_) => {}
        Expr::Or(xs) | Expr::And(xs) => {
            for x in xs {
                collect_candidates(x, slots, out);
            }
        }
        Expr::Not(x) => collect_candidates(x, slots, out),
        Expr::Truthy(Operand::Record(s)) => add(*s, Candidate::Value(Value::Bool(true))),
        Expr::Truthy(_) => {}
        Expr::Cmp(op, a, b) => {
            let (slot, other, record_left) = match (a, b) {
                (Operand::Record(s), o) => (*s, o, true),
                (o, Operand::Record(s)) => (*s, o, false),
                _ => return,
            };
            match other {
                Operand::Lit(v) => {
                    for c in literal_candidates(*op, v, record_left) {
                        add(slot, Candidate::Value(c));
                    }
                }
                Operand::User(UserRef::Id) => add(slot, Candidate::UserId),
                Operand::User(UserRef::Department) => add(slot, Candidate::UserDepartment),
                _ => {}
            }
        }
        // Only made per session: a policy's conditions never hold one.
        Expr::Parent(_) => {}
    }
}

/// Values of a record attribute on both sides of a comparison with literal `v`.
#[expect(
    clippy::cast_possible_truncation,
    reason = "`f` is a whole number below 9e15 in that branch, exactly an i64"
)]
pub(crate) fn literal_candidates(op: CmpOp, v: &Value, record_left: bool) -> Vec<Value> {
    match (op, record_left) {
        (CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge, _) => match v {
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                [x - 1.0, x, x + 1.0]
                    .into_iter()
                    .map(|f| {
                        if f.fract() == 0.0 && f.abs() < 9e15 {
                            Value::from(f as i64)
                        } else {
                            Value::from(f)
                        }
                    })
                    .collect()
            }
            Value::String(s) => vec![Value::from(""), v.clone(), Value::from(format!("{s}~"))],
            _ => vec![v.clone()],
        },
        // record in [..]: each element; v in record: a list holding it.
        (CmpOp::In, true) => v.as_array().cloned().unwrap_or_default(),
        (CmpOp::In, false) => vec![Value::Array(vec![v.clone()])],
        // record contains v: a list holding it, or the text itself.
        (CmpOp::Contains, true) => vec![Value::Array(vec![v.clone()]), v.clone()],
        (CmpOp::Contains, false) => match v {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        },
        (CmpOp::Eq | CmpOp::Ne, _) => vec![v.clone()],
    }
}

/// Whether a condition compares `user.id` with something other than a record attribute (a
/// literal, a context value): then two people's answers can differ by id alone.
pub(crate) fn compares_user_id_off_record(e: &Expr) -> bool {
    match e {
        Expr::Const(_) => false,
        Expr::Or(xs) | Expr::And(xs) => xs.iter().any(compares_user_id_off_record),
        Expr::Not(x) => compares_user_id_off_record(x),
        Expr::Truthy(o) => reads_id(o),
        Expr::Cmp(_, a, b) => match (a, b) {
            (Operand::Record(_), o) | (o, Operand::Record(_)) => {
                reads_id(o) && !matches!(o, Operand::User(UserRef::Id))
            }
            (x, y) => reads_id(x) || reads_id(y),
        },
        Expr::Parent(link) => compares_user_id_off_record(&link.test),
    }
}

pub(crate) fn reads_id(o: &Operand) -> bool {
    match o {
        Operand::User(UserRef::Id) => true,
        Operand::List(items) => items.iter().any(reads_id),
        _ => false,
    }
}

/// Sets a dotted path in a JSON object, making the objects on the way.
pub(crate) fn set_path(rec: &mut Value, path: &str, v: Value) {
    let mut at = rec;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, k) in keys.iter().enumerate() {
        let Some(obj) = at.as_object_mut() else {
            return;
        };
        if i + 1 == keys.len() {
            obj.insert(k.to_string(), v);
            return;
        }
        at = obj
            .entry(k.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
    }
}
