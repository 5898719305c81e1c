//! Scope filters as SQL: a parameterised `WHERE` clause that keeps exactly the rows the filter
//! keeps, or an error. Fail-closed: a condition this cannot say exactly is refused, never
//! widened.
//!
//! A row is a record whose attributes are its columns, with a NULL column an absent attribute
//! (which the engine reads as `null`). Each mapped column holds its attribute's values in the
//! SQL type matching the JSON type the policy compares them with (text for strings, a number
//! type for numbers, boolean for booleans). Every predicate made here is two-valued (never
//! NULL), so `NOT` means what it means to the engine; strings compare by code point (Postgres
//! `COLLATE "C"`, MySQL binary casts; SQLite's default already does).

use crate::core::condition::{CmpOp, Expr, Operand, ParentTest};
use crate::core::filter::ScopeFilter;
use crate::core::session::Session;
use crate::prelude::*;
use core::fmt::Write;
use core::str::FromStr;
use serde_json::Value;
use std::collections::BTreeMap;

codes! {
    /// Why a scope filter has no SQL form.
    pub enum SqlCode {
        /// The filter holds a condition SQL cannot say exactly (a list attribute, two
        /// attributes compared, a list or object value, an unknown context value).
        Unsupported = "sql_unsupported",
        /// A column name that is not one or more dotted SQL identifiers, or an attribute
        /// path with no column mapped to it.
        BadColumn = "bad_column",
        /// A dialect other than postgres, mysql, sqlite.
        BadDialect = "bad_dialect",
    }
}

/// Why a scope filter has no SQL form, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    /// The stable code.
    pub code: SqlCode,
    /// For people.
    pub message: String,
}

impl SqlError {
    fn new(code: SqlCode, message: impl Into<String>) -> SqlError {
        SqlError {
            code,
            message: message.into(),
        }
    }
}

/// The SQL dialects a filter can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL: `$1` placeholders, `"quoted"` identifiers.
    Postgres,
    /// MySQL 8: `?` placeholders, `` `quoted` `` identifiers.
    Mysql,
    /// SQLite 3.23 or later: `?` placeholders, `"quoted"` identifiers.
    Sqlite,
}

impl FromStr for Dialect {
    type Err = SqlError;
    fn from_str(s: &str) -> Result<Dialect, SqlError> {
        match s {
            "postgres" => Ok(Dialect::Postgres),
            "mysql" => Ok(Dialect::Mysql),
            "sqlite" => Ok(Dialect::Sqlite),
            _ => Err(SqlError::new(
                SqlCode::BadDialect,
                format!("the dialect must be postgres, mysql or sqlite, not `{s}`"),
            )),
        }
    }
}

/// A `WHERE` clause and the values of its placeholders, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    /// The clause (without `WHERE`).
    pub clause: String,
    /// One value per placeholder: strings, numbers, and booleans (as 1 and 0 for SQLite).
    pub params: Vec<Value>,
}

impl ScopeFilter {
    /// The filter as a `WHERE` clause in `dialect`. `columns` maps attribute paths (as the
    /// filter tree names them) to columns (`name` or `table.name`); an attribute not mapped
    /// is a column of its own name when that is a plain identifier.
    ///
    /// # Errors
    /// `sql_unsupported` for a condition SQL cannot say exactly, `bad_column` for a bad or
    /// missing column name.
    pub fn to_sql(
        &self,
        session: &Session,
        dialect: Dialect,
        columns: &BTreeMap<String, String>,
    ) -> Result<Sql, SqlError> {
        let mut w = Writer {
            dialect,
            session,
            columns,
            parents: Vec::new(),
            out: Sql {
                clause: String::new(),
                params: Vec::new(),
            },
        };
        w.expr(self.expr())?;
        Ok(w.out)
    }
}

struct Writer<'a> {
    dialect: Dialect,
    session: &'a Session,
    columns: &'a BTreeMap<String, String>,
    /// The parent records being read, outermost first: their path from the filtered record
    /// (`customer`, `customer.account`), each a subquery over its table under alias `p1`, `p2`…
    parents: Vec<String>,
    out: Sql,
}

/// How a literal compares in SQL.
#[derive(PartialEq)]
enum Kind {
    Null,
    Text,
    Number,
    Bool,
}

fn kind(v: &Value) -> Option<Kind> {
    match v {
        Value::Null => Some(Kind::Null),
        Value::String(_) => Some(Kind::Text),
        Value::Number(_) => Some(Kind::Number),
        Value::Bool(_) => Some(Kind::Bool),
        Value::Array(_) | Value::Object(_) => None,
    }
}

impl Writer<'_> {
    fn push(&mut self, s: &str) {
        self.out.clause.push_str(s);
    }

    fn expr(&mut self, e: &Expr) -> Result<(), SqlError> {
        match e {
            Expr::Const(b) => self.push(if *b { "TRUE" } else { "FALSE" }),
            Expr::And(xs) | Expr::Or(xs) => {
                let join = if matches!(e, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.push("(");
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        self.push(join);
                    }
                    self.expr(x)?;
                }
                self.push(")");
            }
            Expr::Not(x) => {
                self.push("NOT ");
                self.expr(x)?;
            }
            Expr::Truthy(a) => {
                let col = self.column(a)?;
                self.push(&format!("({col} IS TRUE)"));
            }
            Expr::Cmp(op, a, b) => self.compare(*op, a, b)?,
            Expr::Parent(link) => self.parent(link)?,
        }
        Ok(())
    }

    /// A parent record's decision: `via IN (SELECT id FROM parent_table WHERE decision)`. The
    /// parent table is what `columns` maps the parent path to (`customer` -> `customers`; by
    /// default the parent resource's name), its key the column `<path>.id` maps to (by default
    /// `id`). The outer `via` column is read outside the subquery, so it can never be taken for
    /// a parent's column of the same name.
    fn parent(&mut self, link: &ParentTest) -> Result<(), SqlError> {
        let p = self.session.policy();
        let Some(up) = p.resources.get(link.resource as usize) else {
            return Err(unsupported("a parent resource the policy does not have"));
        };
        let Some(via) = p
            .resources
            .iter()
            .filter_map(|r| r.parent.as_ref())
            .find(|l| l.slot == link.slot && l.resource == link.resource)
            .map(|l| l.via.clone())
        else {
            return Err(unsupported("a parent link the policy does not declare"));
        };
        let via = self.column_of(&via)?;
        let path = self.qualified(&up.name);
        let table = self.mapped(&path, &up.name)?;
        let key = self.mapped(&format!("{path}.id"), "id")?;
        self.parents.push(path);
        let alias = format!("p{}", self.parents.len());
        self.push(&format!(
            "COALESCE({via} IN (SELECT {} FROM {} AS {} WHERE ",
            self.quote_in(&alias, &key),
            self.quote(&table),
            self.quote(&alias)
        ));
        self.expr(&link.test)?;
        self.push("), FALSE)");
        self.parents.pop();
        Ok(())
    }

    /// One comparison of an attribute with a literal (in either order).
    fn compare(&mut self, op: CmpOp, a: &Operand, b: &Operand) -> Result<(), SqlError> {
        let (col, lit, op) = match (a, b) {
            (Operand::Record(_), Operand::Lit(v)) => (self.column(a)?, &**v, op),
            (Operand::Record(_), Operand::Ids(_)) => {
                (self.column(a)?, b.as_lit().unwrap_or(&Value::Null), op)
            }
            (Operand::Lit(v), Operand::Record(_)) => {
                let flipped = match op {
                    CmpOp::Eq | CmpOp::Ne => op,
                    CmpOp::Lt => CmpOp::Gt,
                    CmpOp::Le => CmpOp::Ge,
                    CmpOp::Gt => CmpOp::Lt,
                    CmpOp::Ge => CmpOp::Le,
                    CmpOp::In => {
                        let col = self.column(b)?;
                        return self.member_of(&col, v);
                    }
                    CmpOp::Contains => return Err(unsupported(
                        "`contains` with the attribute on its right reads the attribute as a list",
                    )),
                };
                (self.column(b)?, &**v, flipped)
            }
            _ => return Err(self.not_a_literal(a, b)),
        };
        match op {
            CmpOp::Eq | CmpOp::Ne => self.equal(op == CmpOp::Eq, &col, lit),
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => self.order(op, &col, lit),
            CmpOp::In => self.within(&col, lit),
            CmpOp::Contains => self.contains(&col, lit),
        }
    }

    /// `==` / `!=`, two-valued: a NULL column is `null`.
    fn equal(&mut self, eq: bool, col: &str, lit: &Value) -> Result<(), SqlError> {
        let text = match kind(lit) {
            Some(Kind::Null) => {
                let test = if eq { "IS NULL" } else { "IS NOT NULL" };
                self.push(&format!("({col} {test})"));
                return Ok(());
            }
            Some(k) => k == Kind::Text,
            None => return Err(unsupported("a comparison with a list or an object")),
        };
        let (l, p) = self.operands(col, lit, text);
        let s = match (self.dialect, eq) {
            (Dialect::Postgres, true) => format!("({l} IS NOT DISTINCT FROM {p})"),
            (Dialect::Postgres, false) => format!("({l} IS DISTINCT FROM {p})"),
            (Dialect::Sqlite, true) => format!("({l} IS {p})"),
            (Dialect::Sqlite, false) => format!("({l} IS NOT {p})"),
            (Dialect::Mysql, true) => format!("({l} <=> {p})"),
            (Dialect::Mysql, false) => format!("(NOT ({l} <=> {p}))"),
        };
        self.push(&s);
        Ok(())
    }

    /// `<` and the like: numbers with numbers, strings with strings by code point; anything
    /// else is false for every record.
    fn order(&mut self, op: CmpOp, col: &str, lit: &Value) -> Result<(), SqlError> {
        let text = match kind(lit) {
            Some(Kind::Text) => true,
            Some(Kind::Number) => false,
            Some(Kind::Null | Kind::Bool) => {
                self.push("FALSE");
                return Ok(());
            }
            None => return Err(unsupported("an ordering with a list or an object")),
        };
        let (l, p) = self.operands(col, lit, text);
        let l = if text && self.dialect == Dialect::Postgres {
            format!("{l} COLLATE \"C\"")
        } else {
            l
        };
        self.push(&format!("COALESCE({l} {} {p}, FALSE)", op.as_str()));
        Ok(())
    }

    /// `attr in [..]`: the list's nulls match a NULL column, the rest by `IN`.
    fn within(&mut self, col: &str, lit: &Value) -> Result<(), SqlError> {
        let Some(items) = lit.as_array() else {
            // `in` something that is not a list is false for every record.
            self.push("FALSE");
            return Ok(());
        };
        let null = items.iter().any(Value::is_null);
        let rest: Vec<&Value> = items.iter().filter(|v| !v.is_null()).collect();
        let kinds: Vec<Option<Kind>> = rest.iter().map(|v| kind(v)).collect();
        if kinds.iter().any(Option::is_none) {
            return Err(unsupported("`in` a list holding lists or objects"));
        }
        if kinds.windows(2).any(|w| w.first() != w.get(1)) {
            return Err(unsupported(
                "`in` a list mixing strings, numbers and booleans",
            ));
        }
        let text = kinds.first() == Some(&Some(Kind::Text));
        let mut parts = Vec::new();
        if null {
            parts.push(format!("{col} IS NULL"));
        }
        if !rest.is_empty() {
            let l = self.cast(col, text);
            let mut list = String::new();
            for (i, v) in rest.into_iter().enumerate() {
                if i > 0 {
                    list.push_str(", ");
                }
                let p = self.param(v);
                list.push_str(&self.cast(&p, text));
            }
            parts.push(format!("COALESCE({l} IN ({list}), FALSE)"));
        }
        match parts.len() {
            0 => self.push("FALSE"),
            _ => self.push(&format!("({})", parts.join(" OR "))),
        }
        Ok(())
    }

    /// `"text" in attr`: the column holds a JSON array of which the text is an element (a
    /// members list). Any other column value, or NULL, holds nothing.
    fn member_of(&mut self, col: &str, lit: &Value) -> Result<(), SqlError> {
        if kind(lit) != Some(Kind::Text) {
            return Err(unsupported(
                "`in` a list attribute with something other than a string",
            ));
        }
        let p = self.param(lit);
        let s = match self.dialect {
            Dialect::Postgres => format!(
                "COALESCE(CASE WHEN jsonb_typeof(({col})::jsonb) = 'array' \
                 THEN ({col})::jsonb @> jsonb_build_array(({p})::text) ELSE FALSE END, FALSE)"
            ),
            Dialect::Sqlite => format!(
                "COALESCE(CASE WHEN json_valid({col}) AND json_type({col}) = 'array' \
                 THEN EXISTS (SELECT 1 FROM json_each({col}) AS \"m\" \
                 WHERE \"m\".\"type\" = 'text' AND \"m\".\"value\" = {p}) ELSE FALSE END, FALSE)"
            ),
            Dialect::Mysql => format!(
                "COALESCE(JSON_TYPE({col}) = 'ARRAY' AND CAST({p} AS CHAR) MEMBER OF({col}), FALSE)"
            ),
        };
        self.push(&s);
        Ok(())
    }

    /// `attr contains "text"`: a substring test (a column holds a scalar, not a list).
    fn contains(&mut self, col: &str, lit: &Value) -> Result<(), SqlError> {
        match kind(lit) {
            Some(Kind::Text) => {}
            // A scalar contains only strings.
            Some(_) => {
                self.push("FALSE");
                return Ok(());
            }
            None => return Err(unsupported("`contains` with a list or an object")),
        }
        let p = self.param(lit);
        let s = match self.dialect {
            Dialect::Postgres => format!("COALESCE(strpos({col}, {p}) > 0, FALSE)"),
            Dialect::Sqlite => format!("COALESCE(instr({col}, {p}) > 0, FALSE)"),
            Dialect::Mysql => format!(
                "COALESCE(LOCATE({}, {}) > 0, FALSE)",
                self.cast(&p, true),
                self.cast(col, true)
            ),
        };
        self.push(&s);
        Ok(())
    }

    /// The column and the literal's placeholder, cast for a by-code-point comparison where
    /// the dialect needs it.
    fn operands(&mut self, col: &str, lit: &Value, text: bool) -> (String, String) {
        let p = self.param(lit);
        (self.cast(col, text), self.cast(&p, text))
    }

    fn cast(&self, sql: &str, text: bool) -> String {
        if text && self.dialect == Dialect::Mysql {
            format!("CAST({sql} AS BINARY)")
        } else {
            sql.to_string()
        }
    }

    /// A placeholder for `v`.
    fn param(&mut self, v: &Value) -> String {
        let v = match (self.dialect, v) {
            (Dialect::Sqlite, Value::Bool(b)) => Value::from(u8::from(*b)),
            _ => v.clone(),
        };
        self.out.params.push(v);
        match self.dialect {
            Dialect::Postgres => format!("${}", self.out.params.len()),
            Dialect::Mysql | Dialect::Sqlite => "?".to_string(),
        }
    }

    /// The quoted column of a record attribute.
    fn column(&self, o: &Operand) -> Result<String, SqlError> {
        let Operand::Record(_) = o else {
            return Err(unsupported(
                "a condition on something other than a record attribute",
            ));
        };
        self.column_of(&self.name(o))
    }

    /// The quoted column of the attribute `attr` of the record being read (inside a parent's
    /// subquery, of the parent record, qualified by its alias).
    fn column_of(&self, attr: &str) -> Result<String, SqlError> {
        let path = self.qualified(attr);
        let name = self.mapped(&path, attr)?;
        match self.parents.len() {
            0 => Ok(self.quote(&name)),
            n => Ok(self.quote_in(&format!("p{n}"), &name)),
        }
    }

    /// The attribute's path from the filtered record (`customer.owner` inside the customer's
    /// subquery).
    fn qualified(&self, attr: &str) -> String {
        match self.parents.last() {
            Some(up) => format!("{up}.{attr}"),
            None => attr.to_string(),
        }
    }

    /// What `columns` maps `path` to, else `default` when it is a plain identifier.
    fn mapped(&self, path: &str, default: &str) -> Result<String, SqlError> {
        let name = match self.columns.get(path) {
            Some(c) => c.as_str(),
            None if is_identifier(default) => default,
            None => {
                return Err(SqlError::new(
                    SqlCode::BadColumn,
                    format!("map the attribute `{path}` to a column"),
                ))
            }
        };
        if name.split('.').all(is_identifier) {
            Ok(name.to_string())
        } else {
            Err(SqlError::new(
                SqlCode::BadColumn,
                format!("`{name}` (for `{path}`) is not a column name"),
            ))
        }
    }

    /// `name` (one or more dotted identifiers) quoted.
    fn quote(&self, name: &str) -> String {
        let q = if self.dialect == Dialect::Mysql {
            '`'
        } else {
            '"'
        };
        let mut out = String::new();
        for (i, part) in name.split('.').enumerate() {
            // An identifier holds no quote, so none needs doubling.
            let _ = write!(out, "{}{q}{part}{q}", if i > 0 { "." } else { "" });
        }
        out
    }

    /// Column `name` of the table under `alias` (a mapped `table.column` keeps its last part).
    fn quote_in(&self, alias: &str, name: &str) -> String {
        let last = name.rsplit('.').next().unwrap_or(name);
        self.quote(&format!("{alias}.{last}"))
    }

    /// The filter tree's name of an operand (`{"attr": "a.b"}` -> `a.b`).
    fn name(&self, o: &Operand) -> String {
        let tree = o.tree(&self.session.policy().slots);
        match tree.as_object().and_then(|m| m.values().next()) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        }
    }

    fn not_a_literal(&self, a: &Operand, b: &Operand) -> SqlError {
        let context = [a, b]
            .into_iter()
            .find(|o| matches!(o, Operand::Context(_)));
        match context {
            Some(c) => unsupported(format!(
                "the filter reads context.{}: give the context",
                self.name(c)
            )),
            None => unsupported("a comparison of two attributes, or of a list of attributes"),
        }
    }
}

fn unsupported(message: impl Into<String>) -> SqlError {
    SqlError::new(SqlCode::Unsupported, message)
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
