//! Masks: how a masked field's value is shown.

use crate::core::attrs::scalar_text;
use crate::prelude::*;
use core::str::FromStr;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A mask spec: a preset or `keep(a,b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mask {
    /// Keep the first `a` and last `b` characters, one `*` per other character.
    Keep(u16, u16),
    /// `keep(4,4)` grouped in fours: `6222 **** **** 7890`.
    Bank,
    /// First character of the local part, `***`, then `@` and the domain.
    Email,
    /// `****`, whatever the length.
    Full,
}

const FULL: &str = "****";

impl Mask {
    /// Masks a value. Strings and numbers are masked as text; null stays null; anything else
    /// becomes `****`.
    pub fn apply(self, value: &Value) -> Value {
        if value.is_null() {
            return Value::Null;
        }
        let Some(text) = scalar_text(value).filter(|_| !value.is_boolean()) else {
            return Value::String(FULL.into());
        };
        Value::String(self.apply_str(&text))
    }

    /// Masks a string.
    pub fn apply_str(self, text: &str) -> String {
        match self {
            Mask::Keep(a, b) => keep(text, a.into(), b.into()),
            Mask::Bank => bank(text),
            Mask::Email => match text.split_once('@') {
                Some((local, domain)) if !local.is_empty() => {
                    let first = local.chars().next().map(String::from).unwrap_or_default();
                    format!("{first}***@{domain}")
                }
                _ => FULL.into(),
            },
            Mask::Full => FULL.into(),
        }
    }
}

/// A card or account number as banks print it: the first and last four digits kept, each a
/// group of its own, the hidden middle in groups of four (the last one shorter when the length
/// is not a multiple of four): 19 digits read `6222 **** **** *** 3445`, never a group that
/// splits the visible tail.
fn bank(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let masked = keep(&compact, 4, 4);
    let n = masked.chars().count();
    let mut out = String::with_capacity(masked.len() + n / 4);
    for (i, c) in masked.chars().enumerate() {
        // A space before each group of four, and before the visible tail of a long number.
        let tail = n > 8 && i == n - 4;
        if i > 0 && (tail || (i % 4 == 0 && (n <= 8 || i < n - 4))) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Keeps `a` leading and `b` trailing characters; a value too short to hide anything is masked
/// whole, one `*` per character.
#[expect(
    clippy::indexing_slicing,
    reason = "`a + b < n` is checked first, so both slices are within the `n` characters"
)]
fn keep(text: &str, a: usize, b: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    if n <= a + b {
        return "*".repeat(n);
    }
    let mut out = String::with_capacity(text.len());
    out.extend(&chars[..a]);
    out.extend(core::iter::repeat_n('*', n - a - b));
    out.extend(&chars[n - b..]);
    out
}

impl FromStr for Mask {
    type Err = String;

    /// Parses `phone`, `id`, `name`, `bank`, `email`, `full` or `keep(a,b)`.
    fn from_str(s: &str) -> Result<Mask, String> {
        Ok(match s {
            "phone" => Mask::Keep(3, 4),
            "id" => Mask::Keep(1, 2),
            "name" => Mask::Keep(1, 0),
            "bank" => Mask::Bank,
            "email" => Mask::Email,
            "full" => Mask::Full,
            _ => {
                let inner = s
                    .strip_prefix("keep(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| format!("unknown mask `{s}`: use phone, id, name, bank, email, full or keep(a,b)"))?;
                let (a, b) = inner
                    .split_once(',')
                    .ok_or_else(|| format!("`{s}` needs two numbers"))?;
                let num = |t: &str| {
                    t.trim()
                        .parse::<u16>()
                        .map_err(|_| format!("`{}` is not a count in `{s}`", t.trim()))
                };
                Mask::Keep(num(a)?, num(b)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(spec: &str, v: &str) -> String {
        spec.parse::<Mask>().unwrap().apply_str(v)
    }

    #[test]
    fn presets() {
        assert_eq!(m("phone", "13812345678"), "138****5678");
        assert_eq!(m("id", "110101199001011234"), "1***************34");
        assert_eq!(m("name", "张三丰"), "张**");
        assert_eq!(m("name", "张"), "*");
        assert_eq!(m("bank", "6222 0212 3456 7890"), "6222 **** **** 7890");
        // 19 digits (a common Chinese debit card): the last four stay together.
        assert_eq!(m("bank", "6222020200112233445"), "6222 **** **** *** 3445");
        assert_eq!(m("bank", "62220202001122334"), "6222 **** **** * 2334");
        assert_eq!(m("bank", "1234567890"), "1234 ** 7890");
        assert_eq!(m("bank", "12345678"), "**** ****");
        assert_eq!(m("email", "alice@example.com"), "a***@example.com");
        assert_eq!(m("email", "not-an-email"), "****");
        assert_eq!(m("full", "anything at all"), "****");
        assert_eq!(m("keep(2,1)", "abcdef"), "ab***f");
    }

    #[test]
    fn too_short_is_masked_whole() {
        assert_eq!(m("phone", "1234567"), "*******");
        assert_eq!(m("keep(1,1)", "ab"), "**");
        assert_eq!(m("phone", ""), "");
    }

    #[test]
    fn non_strings() {
        assert_eq!(Mask::Keep(1, 1).apply(&serde_json::json!(12345)), "1***5");
        assert_eq!(Mask::Keep(1, 1).apply(&Value::Null), Value::Null);
        assert_eq!(Mask::Keep(1, 1).apply(&serde_json::json!(true)), FULL);
        assert_eq!(Mask::Keep(1, 1).apply(&serde_json::json!({"a": 1})), FULL);
    }

    #[test]
    fn bad_specs() {
        for bad in ["keep(1)", "keep(a,b)", "keep(1,2", "phones", "keep(-1,2)"] {
            assert!(bad.parse::<Mask>().is_err(), "{bad}");
        }
    }
}
