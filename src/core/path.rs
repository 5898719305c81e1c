//! JSON paths for error messages, built without allocating until an error needs one.

use crate::prelude::*;
use core::fmt::Write;

/// A location in a JSON document: a chain of keys and indexes back to the root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonPath<'a> {
    parent: Option<&'a JsonPath<'a>>,
    seg: Seg<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> JsonPath<'a> {
    /// The document root.
    pub const ROOT: JsonPath<'static> = JsonPath {
        parent: None,
        seg: Seg::Root,
    };

    /// The member `key` of this object.
    pub fn key(&'a self, key: &'a str) -> JsonPath<'a> {
        JsonPath {
            parent: Some(self),
            seg: Seg::Key(key),
        }
    }

    /// The element `i` of this array.
    pub fn index(&'a self, i: usize) -> JsonPath<'a> {
        JsonPath {
            parent: Some(self),
            seg: Seg::Index(i),
        }
    }

    /// Renders as `roles.sales.grants[0]`; keys that are not plain names are quoted:
    /// `assignments.users["a.b"]`.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64);
        self.render_into(&mut out);
        out
    }

    /// Appends the rendering of the parents, then of this segment (no allocation of its own:
    /// paths are short chains, and grants render theirs once each while compiling).
    fn render_into(&self, out: &mut String) {
        if let Some(parent) = self.parent {
            parent.render_into(out);
        }
        match self.seg {
            Seg::Root => {}
            Seg::Key(k) if is_plain(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push('[');
                out.push_str(&serde_json::Value::String(k.to_string()).to_string());
                out.push(']');
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

fn is_plain(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '*')
}

#[cfg(test)]
mod tests {
    use super::JsonPath;

    #[test]
    fn renders_keys_and_indexes() {
        let root = JsonPath::ROOT;
        let roles = root.key("roles");
        let sales = roles.key("sales");
        let grants = sales.key("grants");
        let g0 = grants.index(0);
        assert_eq!(g0.render(), "roles.sales.grants[0]");
        let odd = roles.key("a.b");
        assert_eq!(odd.render(), "roles[\"a.b\"]");
        assert_eq!(root.render(), "");
    }
}
