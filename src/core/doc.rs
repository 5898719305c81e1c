//! A parsed JSON document held in one flat arena, strings borrowed from the input.
//!
//! The compiler walks a policy once; building a tree of separately allocated objects and
//! arrays for that walk cost more than the walk itself. Here every value is one [`Node`] in a
//! single vector, in document order: a container is followed by its members, and each node
//! knows where its subtree ends, so siblings are one step apart. serde_json does the parsing
//! (and enforces its nesting limit); object members keep their order and repeated keys.

use crate::prelude::*;
use alloc::borrow::Cow;
use core::fmt;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A whole document.
pub(crate) struct Doc<'a> {
    nodes: Vec<Node<'a>>,
}

struct Node<'a> {
    /// The member name under which this node sits in its object (empty elsewhere).
    key: Cow<'a, str>,
    kind: Kind<'a>,
    /// The index just past this node's subtree: its next sibling.
    end: u32,
    /// Members of an object or elements of an array.
    len: u32,
}

enum Kind<'a> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(Cow<'a, str>),
    Array,
    Object,
}

impl<'a> Doc<'a> {
    /// Parses JSON text, borrowing every string without escapes.
    ///
    /// # Errors
    /// serde_json's syntax errors, including its nesting limit.
    pub fn parse(text: &'a str) -> Result<Doc<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let doc = Doc::build(&mut de, text.len() / 24)?;
        de.end()?;
        Ok(doc)
    }

    /// Reads one value from any deserializer (`capacity`: the nodes to make room for).
    pub fn build<D: de::Deserializer<'a>>(d: D, capacity: usize) -> Result<Doc<'a>, D::Error> {
        let mut nodes = Vec::with_capacity(capacity);
        Builder {
            nodes: &mut nodes,
            key: Cow::Borrowed(""),
        }
        .deserialize(d)?;
        Ok(Doc { nodes })
    }

    /// The top-level value.
    pub fn root(&self) -> Val<'_> {
        Val {
            nodes: &self.nodes,
            at: 0,
        }
    }
}

/// Parses JSON text into a `serde_json::Value`, through a [`Doc`]: the wasm module then carries
/// one JSON reader, not also serde_json's own `Value` reader (repeated keys: the last one wins,
/// as there).
///
/// # Errors
/// serde_json's syntax errors, including its nesting limit.
pub(crate) fn parse_value(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    Doc::parse(text).map(|d| d.root().to_value())
}

/// One value of a [`Doc`].
#[derive(Clone, Copy)]
pub(crate) struct Val<'d> {
    nodes: &'d [Node<'d>],
    at: usize,
}

impl<'d> Val<'d> {
    #[expect(
        clippy::indexing_slicing,
        reason = "the reader never moves past the node list the builder made"
    )]
    fn node(&self) -> &'d Node<'d> {
        &self.nodes[self.at]
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&'d str> {
        match &self.node().kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    #[cfg(feature = "compile")]
    pub fn as_bool(&self) -> Option<bool> {
        match self.node().kind {
            Kind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, if this is an integer >= 0.
    pub fn as_u64(&self) -> Option<u64> {
        match self.node().kind {
            Kind::Unsigned(n) => Some(n),
            Kind::Signed(n) => u64::try_from(n).ok(),
            _ => None,
        }
    }

    /// The number, if this is one.
    #[cfg(any(feature = "wasm", test))]
    pub fn as_f64(&self) -> Option<f64> {
        match self.node().kind {
            Kind::Unsigned(n) => Some(n as f64),
            Kind::Signed(n) => Some(n as f64),
            Kind::Float(n) => Some(n),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.node().kind, Kind::Null)
    }

    /// The value as a `serde_json::Value` (a copy; for repeated keys the last one wins).
    pub fn to_value(self) -> serde_json::Value {
        use serde_json::Value;
        match &self.node().kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Unsigned(n) => Value::from(*n),
            Kind::Signed(n) => Value::from(*n),
            Kind::Float(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Kind::Str(t) => Value::String(t.to_string()),
            Kind::Array => Value::Array(self.children().map(|v| v.to_value()).collect()),
            Kind::Object => Value::Object(Obj(self).to_map()),
        }
    }

    /// The members, if this is an object.
    pub fn as_object(&self) -> Option<Obj<'d>> {
        matches!(self.node().kind, Kind::Object).then_some(Obj(*self))
    }

    /// The elements, if this is an array.
    pub fn as_array(&self) -> Option<Children<'d>> {
        matches!(self.node().kind, Kind::Array).then(|| self.children())
    }

    /// What kind of value this is, in words: `null`, `a string`, `an object`...
    pub fn kind_name(&self) -> &'static str {
        match self.node().kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Unsigned(_) | Kind::Signed(_) | Kind::Float(_) => "a number",
            Kind::Str(_) => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }

    fn children(&self) -> Children<'d> {
        let node = self.node();
        Children {
            nodes: self.nodes,
            next: self.at + 1,
            left: node.len as usize,
        }
    }
}

/// The elements of an array or members of an object, in order (none by default).
#[derive(Clone, Default)]
pub(crate) struct Children<'d> {
    nodes: &'d [Node<'d>],
    next: usize,
    left: usize,
}

impl<'d> Iterator for Children<'d> {
    type Item = Val<'d>;

    #[expect(
        clippy::indexing_slicing,
        reason = "`at` is a node position the builder made"
    )]
    fn next(&mut self) -> Option<Val<'d>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let at = self.next;
        self.next = self.nodes[at].end as usize;
        Some(Val {
            nodes: self.nodes,
            at,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// An object's members, in document order (a repeated key appears each time).
#[derive(Clone, Copy)]
pub(crate) struct Obj<'d>(Val<'d>);

impl<'d> Obj<'d> {
    /// How many members, counting repeats.
    pub fn len(&self) -> usize {
        self.0.node().len as usize
    }

    /// Each member's name and value.
    pub fn iter(&self) -> impl Iterator<Item = (&'d str, Val<'d>)> + Clone {
        self.0.children().map(|v| (&*v.node().key, v))
    }

    /// Each member's name.
    pub fn keys(&self) -> impl Iterator<Item = &'d str> + Clone {
        self.iter().map(|(k, _)| k)
    }

    #[cfg(feature = "compile")]
    /// The first member called `key`.
    pub fn get(&self, key: &str) -> Option<Val<'d>> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The members as a `serde_json` map (a copy; for repeated keys the last one wins).
    pub fn to_map(self) -> serde_json::Map<String, serde_json::Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }

    /// The member called `key`, or `Err(())` when more than one is.
    pub fn get_once(&self, key: &str) -> Result<Option<Val<'d>>, ()> {
        let mut found = None;
        for v in self.0.children() {
            if *v.node().key == *key {
                if found.is_some() {
                    return Err(());
                }
                found = Some(v);
            }
        }
        Ok(found)
    }

    #[cfg(feature = "compile")]
    /// Whether a member is called `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.node().kind {
            Kind::Null => s.serialize_unit(),
            Kind::Bool(b) => s.serialize_bool(*b),
            Kind::Unsigned(n) => s.serialize_u64(*n),
            Kind::Signed(n) => s.serialize_i64(*n),
            Kind::Float(n) => s.serialize_f64(*n),
            Kind::Str(t) => s.serialize_str(t),
            Kind::Array => {
                let mut seq = s.serialize_seq(Some(self.node().len as usize))?;
                for v in self.children() {
                    seq.serialize_element(&v)?;
                }
                seq.end()
            }
            Kind::Object => {
                let obj = Obj(*self);
                let mut map = s.serialize_map(Some(obj.len()))?;
                for (k, v) in obj.iter() {
                    map.serialize_entry(k, &v)?;
                }
                map.end()
            }
        }
    }
}

/// Renders the value as compact JSON (for error messages).
impl fmt::Display for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&serde_json::to_string(self).map_err(|_| fmt::Error)?)
    }
}

/// Appends one value (and its subtree) to the arena.
struct Builder<'s, 'a> {
    nodes: &'s mut Vec<Node<'a>>,
    key: Cow<'a, str>,
}

impl<'s, 'a> Builder<'s, 'a> {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a document is at most 8 MiB, so it has fewer than 2^32 nodes"
    )]
    fn leaf(self, kind: Kind<'a>) {
        let end = self.nodes.len() as u32 + 1;
        self.nodes.push(Node {
            key: self.key,
            kind,
            end,
            len: 0,
        });
    }

    /// Pushes a container, returning its index and the arena for its members.
    fn open(self, kind: Kind<'a>) -> (usize, &'s mut Vec<Node<'a>>) {
        let at = self.nodes.len();
        self.nodes.push(Node {
            key: self.key,
            kind,
            end: 0,
            len: 0,
        });
        (at, self.nodes)
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "`at` is the position the matching `open` pushed; narrowing: a document is at most 8 MiB, so it has fewer than 2^32 nodes"
)]
fn close(nodes: &mut [Node<'_>], at: usize, len: u32) {
    let end = nodes.len() as u32;
    let node = &mut nodes[at];
    node.end = end;
    node.len = len;
}

impl<'de> DeserializeSeed<'de> for Builder<'_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Builder<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf(Kind::Null);
        Ok(())
    }

    fn visit_bool<E>(self, b: bool) -> Result<(), E> {
        self.leaf(Kind::Bool(b));
        Ok(())
    }

    fn visit_u64<E>(self, n: u64) -> Result<(), E> {
        self.leaf(Kind::Unsigned(n));
        Ok(())
    }

    fn visit_i64<E>(self, n: i64) -> Result<(), E> {
        self.leaf(Kind::Signed(n));
        Ok(())
    }

    fn visit_f64<E>(self, n: f64) -> Result<(), E> {
        self.leaf(Kind::Float(n));
        Ok(())
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<(), E> {
        self.leaf(Kind::Str(Cow::Borrowed(s)));
        Ok(())
    }

    fn visit_str<E>(self, s: &str) -> Result<(), E> {
        self.leaf(Kind::Str(Cow::Owned(s.to_owned())));
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (at, nodes) = self.open(Kind::Array);
        let mut len = 0;
        while seq
            .next_element_seed(Builder {
                nodes: &mut *nodes,
                key: Cow::Borrowed(""),
            })?
            .is_some()
        {
            len += 1;
        }
        close(nodes, at, len);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (at, nodes) = self.open(Kind::Object);
        let mut len = 0;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            map.next_value_seed(Builder {
                nodes: &mut *nodes,
                key,
            })?;
            len += 1;
        }
        close(nodes, at, len);
        Ok(())
    }
}

/// A member name, borrowed unless it had escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Doc;

    #[test]
    fn walks_members_in_order_with_repeats_and_escapes() {
        let doc =
            Doc::parse(r#"{"a": [1, -2, 2.5, {"x": null}], "b\n": "t\"", "a": true}"#).unwrap();
        let top = doc.root().as_object().unwrap();
        assert_eq!(top.len(), 3);
        assert_eq!(top.keys().collect::<Vec<_>>(), ["a", "b\n", "a"]);
        let a: Vec<_> = top.get("a").unwrap().as_array().unwrap().collect();
        assert_eq!(a.len(), 4);
        assert_eq!(a[0].as_u64(), Some(1));
        assert_eq!(a[1].as_u64(), None);
        assert_eq!(
            a[3].as_object().unwrap().get("x").unwrap().kind_name(),
            "null"
        );
        assert_eq!(top.get("b\n").unwrap().as_str(), Some("t\""));
        assert!(!top.contains_key("c"));
        assert_eq!(
            doc.root().to_string(),
            r#"{"a":[1,-2,2.5,{"x":null}],"b\n":"t\"","a":true}"#
        );
    }

    #[test]
    fn parses_values_as_serde_json_does() {
        for text in [
            r#"{"a": [1, -2, 2.5, 1e300, {"x": null}], "b\n": "t\"", "a": true, "c": {}}"#,
            r#"[18446744073709551615, -9223372036854775808, 0.1, "", [], false]"#,
            "7",
        ] {
            let want: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(super::parse_value(text).unwrap(), want, "{text}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(super::parse_value(&deep).is_err());
        assert!(super::parse_value("{\"a\": 1} x").is_err());
    }

    #[test]
    fn rejects_bad_json_and_trailing_text() {
        assert!(Doc::parse("{").is_err());
        assert!(Doc::parse("{} x").is_err());
        let deep = "[".repeat(200) + &"]".repeat(200);
        let Err(e) = Doc::parse(&deep) else {
            panic!("200 levels parsed")
        };
        assert!(e.to_string().contains("recursion limit"));
    }
}
