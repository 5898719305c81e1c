//! Lexer and recursive-descent parser for conditions, with length and depth limits.

use super::expr::{literal_list, CmpOp, Expr, Operand, SlotTable, UserRef};
use crate::core::attrs::{dotted, AttrPath};
use crate::core::error::Code;
use crate::prelude::*;
use alloc::sync::Arc;
use serde_json::Value;

/// Longest condition accepted, in characters.
pub const MAX_CONDITION_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and lists accepted.
pub const MAX_CONDITION_DEPTH: usize = 32;

/// Why a condition does not parse, and where (character position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// `bad_condition`, `condition_too_long` or `condition_too_deep`.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// Character (not byte) position in the condition.
    pub position: usize,
}

/// Parses `text`, interning the attribute paths it reads into `slots`.
///
/// # Errors
/// A [`ParseError`] with the character position of the first mistake.
pub fn parse(text: &str, slots: &mut SlotTable) -> Result<Expr, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_CONDITION_LEN {
        return Err(ParseError {
            code: Code::ConditionTooLong,
            message: format!("condition is longer than {MAX_CONDITION_LEN} characters"),
            position: MAX_CONDITION_LEN,
        });
    }
    let tokens = lex(&chars)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
        slots,
    };
    let expr = p.or_expr()?;
    match p.peek() {
        Tok::End => Ok(expr),
        t => Err(p.error(format!("unexpected {}", t.describe()))),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Or,
    And,
    Not,
    Op(CmpOp),
    Lit(Value),
    Path(Vec<String>),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBrack => "`[`".into(),
            Tok::RBrack => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Or => "`||`".into(),
            Tok::And => "`&&`".into(),
            Tok::Not => "`!`".into(),
            Tok::Op(op) => format!("`{}`", op.as_str()),
            Tok::Lit(v) => format!("`{v}`"),
            Tok::Path(p) => format!("`{}`", dotted(p)),
            Tok::End => "end of condition".into(),
        }
    }
}

#[expect(
    clippy::indexing_slicing,
    reason = "`i` and `end` stay below `chars.len()` (each loop checks it before indexing)"
)]
fn lex(chars: &[char]) -> Result<Vec<(Tok, usize)>, ParseError> {
    let err = |message: String, position| ParseError {
        code: Code::BadCondition,
        message,
        position,
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let next = chars.get(i + 1).copied();
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBrack,
            ']' => Tok::RBrack,
            ',' => Tok::Comma,
            '|' if next == Some('|') => Tok::Or,
            '&' if next == Some('&') => Tok::And,
            '=' if next == Some('=') => Tok::Op(CmpOp::Eq),
            '!' if next == Some('=') => Tok::Op(CmpOp::Ne),
            '<' if next == Some('=') => Tok::Op(CmpOp::Le),
            '>' if next == Some('=') => Tok::Op(CmpOp::Ge),
            '!' => Tok::Not,
            '<' => Tok::Op(CmpOp::Lt),
            '>' => Tok::Op(CmpOp::Gt),
            '"' | '\'' => {
                let (s, end) = lex_string(chars, i).map_err(|(m, p)| err(m, p))?;
                out.push((Tok::Lit(Value::String(s)), start));
                i = end;
                continue;
            }
            c if c == '-' || c.is_ascii_digit() => {
                let mut end = i + 1;
                while end < chars.len()
                    && matches!(chars[end], '0'..='9' | '.' | 'e' | 'E' | '+' | '-')
                {
                    end += 1;
                }
                let text: String = chars[i..end].iter().collect();
                // Read as a `Value`, not a `Number`: a `Number` reader's type errors would bring
                // serde's float formatting into the wasm module (~14 KB).
                let n = match crate::core::doc::parse_value(&text) {
                    Ok(n @ Value::Number(_)) => n,
                    _ => return Err(err(format!("bad number `{text}`"), start)),
                };
                out.push((Tok::Lit(n), start));
                i = end;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut end = i;
                while end < chars.len()
                    && (chars[end].is_alphanumeric() || matches!(chars[end], '_' | '-' | '.' | '$'))
                {
                    end += 1;
                }
                let word: String = chars[i..end].iter().collect();
                i = end;
                out.push((word_token(&word).map_err(|m| err(m, start))?, start));
                continue;
            }
            other => return Err(err(format!("unexpected character `{other}`"), start)),
        };
        i += match tok {
            Tok::Or | Tok::And => 2,
            Tok::Op(CmpOp::Eq | CmpOp::Ne | CmpOp::Le | CmpOp::Ge) => 2,
            _ => 1,
        };
        out.push((tok, start));
    }
    out.push((Tok::End, chars.len()));
    Ok(out)
}

fn word_token(word: &str) -> Result<Tok, String> {
    Ok(match word {
        "or" => Tok::Or,
        "and" => Tok::And,
        "not" => Tok::Not,
        "in" => Tok::Op(CmpOp::In),
        "contains" => Tok::Op(CmpOp::Contains),
        "true" => Tok::Lit(Value::Bool(true)),
        "false" => Tok::Lit(Value::Bool(false)),
        "null" => Tok::Lit(Value::Null),
        _ => {
            let parts: Vec<String> = word.split('.').map(str::to_string).collect();
            if parts.iter().any(String::is_empty) {
                return Err(format!("bad path `{word}`"));
            }
            Tok::Path(parts)
        }
    })
}

/// Lexes a quoted string starting at `start`; returns the text and the index after the quote.
#[expect(
    clippy::indexing_slicing,
    reason = "`start` is the position of the opening quote and `i` is checked against `chars.len()`"
)]
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), (String, usize)> {
    let quote = chars[start];
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((s, i + 1)),
            '\\' => {
                let esc = *chars
                    .get(i + 1)
                    .ok_or(("unfinished escape".to_string(), i))?;
                s.push(match esc {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    '0' => '\0',
                    '\\' | '\'' | '"' | '/' => esc,
                    'u' => {
                        let hex: String = chars.iter().skip(i + 2).take(4).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                            .and_then(char::from_u32)
                            .ok_or((format!("bad unicode escape `\\u{hex}`"), i))?;
                        i += 4;
                        code
                    }
                    other => return Err((format!("unknown escape `\\{other}`"), i)),
                });
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(("unterminated string".to_string(), start))
}

struct Parser<'s> {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
    slots: &'s mut SlotTable,
}

impl Parser<'_> {
    #[expect(
        clippy::indexing_slicing,
        reason = "the token list ends with `End`, which `bump` never moves past"
    )]
    fn peek(&self) -> &Tok {
        &self.tokens[self.at].0
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the token list ends with `End`, which `bump` never moves past"
    )]
    fn position(&self) -> usize {
        self.tokens[self.at].1
    }

    /// Takes the current token and moves on (the last token, `End`, stays).
    #[expect(
        clippy::indexing_slicing,
        reason = "`at` was a valid position before it moved on"
    )]
    fn bump(&mut self) -> Tok {
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
            core::mem::replace(&mut self.tokens[self.at - 1].0, Tok::End)
        } else {
            Tok::End
        }
    }

    fn error(&self, message: String) -> ParseError {
        ParseError {
            code: Code::BadCondition,
            message,
            position: self.position(),
        }
    }

    /// Consumes `tok`, or fails at the current token.
    fn expect(&mut self, tok: &Tok) -> Result<(), ParseError> {
        if self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!(
                "expected {}, found {}",
                tok.describe(),
                self.peek().describe()
            )))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(ParseError {
                code: Code::ConditionTooDeep,
                message: format!("condition nests deeper than {MAX_CONDITION_DEPTH} levels"),
                position: self.position(),
            });
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.and_expr()?;
        if *self.peek() != Tok::Or {
            return Ok(first);
        }
        let mut parts = vec![first];
        while *self.peek() == Tok::Or {
            self.bump();
            parts.push(self.and_expr()?);
        }
        Ok(Expr::Or(parts))
    }

    fn and_expr(&mut self) -> Result<Expr, ParseError> {
        let first = self.unary()?;
        if *self.peek() != Tok::And {
            return Ok(first);
        }
        let mut parts = vec![first];
        while *self.peek() == Tok::And {
            self.bump();
            parts.push(self.unary()?);
        }
        Ok(Expr::And(parts))
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Tok::Not => {
                self.bump();
                self.enter()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let inner = self.or_expr()?;
                self.depth -= 1;
                self.expect(&Tok::RParen)?;
                Ok(inner)
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.value()?;
        if let Tok::Op(op) = *self.peek() {
            self.bump();
            let right = self.value()?;
            Ok(Expr::Cmp(op, left, right))
        } else {
            Ok(Expr::Truthy(left))
        }
    }

    fn value(&mut self) -> Result<Operand, ParseError> {
        let position = self.position();
        match self.bump() {
            Tok::Lit(v) => Ok(Operand::Lit(Arc::new(v))),
            Tok::Path(p) => self.path(&p).map_err(|message| ParseError {
                code: Code::BadCondition,
                message,
                position,
            }),
            Tok::LBrack => {
                self.enter()?;
                let mut items = Vec::new();
                if *self.peek() != Tok::RBrack {
                    loop {
                        items.push(self.value()?);
                        if *self.peek() == Tok::Comma {
                            self.bump();
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Tok::RBrack)?;
                self.depth -= 1;
                Ok(literal_list(items))
            }
            t => Err(ParseError {
                code: Code::BadCondition,
                message: format!("expected a value, found {}", t.describe()),
                position,
            }),
        }
    }

    #[expect(clippy::indexing_slicing, reason = "`split` gives at least one part")]
    fn path(&mut self, parts: &[String]) -> Result<Operand, String> {
        let rest = &parts[1..];
        let joined = || dotted(parts);
        match (parts[0].as_str(), rest) {
            ("user", [one]) if one == "id" => Ok(Operand::User(UserRef::Id)),
            ("user", [one]) if one == "roles" => Ok(Operand::User(UserRef::Roles)),
            ("user", [one]) if one == "department" => Ok(Operand::User(UserRef::Department)),
            ("user", [one]) if one == "groups" => Ok(Operand::User(UserRef::Groups)),
            ("user", [one]) if one == "org" => Ok(Operand::User(UserRef::Org)),
            ("user", [one]) if one == "reports" => Ok(Operand::User(UserRef::Reports)),
            ("user", [attrs, keys @ ..]) if attrs == "attrs" && !keys.is_empty() => {
                Ok(Operand::User(UserRef::Attr(intern(&mut self.slots.user_attrs, keys))))
            }
            ("user", _) => Err(format!(
                "unknown path `{}`: user paths are user.id, user.roles, user.department, user.groups, user.reports and user.attrs.<name>",
                joined()
            )),
            ("record", keys) if !keys.is_empty() => {
                Ok(Operand::Record(intern(&mut self.slots.record, keys)))
            }
            ("context", keys) if !keys.is_empty() => {
                Ok(Operand::Context(intern(&mut self.slots.context, keys)))
            }
            ("record" | "context", _) => Err(format!("`{}` needs an attribute name", joined())),
            _ => Err(format!(
                "unknown name `{}`: paths start with `user.`, `record.` or `context.`",
                joined()
            )),
        }
    }
}

/// The slot of `keys` in `table`, added when new.
#[expect(
    clippy::cast_possible_truncation,
    reason = "a condition is at most 4096 characters, so it names far fewer than 2^32 paths"
)]
pub(crate) fn intern(table: &mut Vec<AttrPath>, keys: &[String]) -> u32 {
    if let Some(p) = table.iter().find(|p| {
        p.keys
            .iter()
            .map(|k| &**k)
            .eq(keys.iter().map(String::as_str))
    }) {
        return p.slot;
    }
    let slot = table.len() as u32;
    table.push(AttrPath {
        slot,
        keys: keys.iter().map(|k| k.as_str().into()).collect(),
    });
    slot
}
