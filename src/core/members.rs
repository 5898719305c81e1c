//! Typed reads of a JSON object's members, for the small documents handed to the engine (a
//! subject, the package's load options, a bundle's envelope), with messages naming the member.
//!
//! serde's derived readers would do the same job, but through serde_json they bring its
//! "invalid type" messages, and with them float and string formatting, into the npm package's
//! module (about 15 KB gzipped of a module users download), and they read into a map first.
//! Here the document is read once into a [`Doc`] and the members are taken from it.

use super::doc::{Children, Doc, Obj, Val};
use crate::prelude::*;
use serde::de::{self, Deserializer};
use serde_json::{Map, Value};

/// Reads a value with `read` from any deserializer, through a [`Doc`]: how the types above
/// implement `Deserialize`. `read`'s message becomes the deserializer's error.
pub(crate) fn deserialize<'de, D, T>(
    d: D,
    read: impl FnOnce(Val<'_>) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let doc = Doc::build(d, 16)?;
    read(doc.root()).map_err(de::Error::custom)
}

/// The members of one JSON object, taken out by name. An absent member and `null` read alike;
/// a member written twice is refused.
pub(crate) struct Members<'d>(Obj<'d>);

impl<'d> Members<'d> {
    /// The members of `value`, which must be an object.
    pub fn of(value: Val<'d>) -> Result<Members<'d>, String> {
        match value.as_object() {
            Some(obj) => Ok(Members(obj)),
            None => Err(format!("expected an object, not {}", value.kind_name())),
        }
    }

    fn take(&self, key: &str) -> Result<Option<Val<'d>>, String> {
        match self.0.get_once(key) {
            Ok(v) => Ok(v.filter(|v| !v.is_null())),
            Err(()) => Err(format!("`{key}` is given more than once")),
        }
    }

    fn read<T>(
        &self,
        key: &str,
        want: &str,
        get: impl FnOnce(Val<'d>) -> Option<T>,
    ) -> Result<Option<T>, String> {
        self.take(key)?
            .map(|v| get(v).ok_or_else(|| wrong(key, want, v)))
            .transpose()
    }

    /// A string member.
    pub fn string(&self, key: &str) -> Result<Option<String>, String> {
        self.read(key, "a string", |v| v.as_str().map(str::to_string))
    }

    /// An array of strings.
    pub fn strings(&self, key: &str) -> Result<Option<Vec<String>>, String> {
        self.array(key)?
            .map(|items| {
                items
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| wrong(key, "an array of strings", v))
                    })
                    .collect()
            })
            .transpose()
    }

    /// An array.
    pub fn array(&self, key: &str) -> Result<Option<Children<'d>>, String> {
        self.read(key, "an array", |v| v.as_array())
    }

    /// An object, copied out as JSON values.
    pub fn object(&self, key: &str) -> Result<Option<Map<String, Value>>, String> {
        self.read(key, "an object", |v| v.as_object().map(Obj::to_map))
    }

    /// A whole number >= 0.
    #[cfg(any(feature = "wasm", test))]
    pub fn u64(&self, key: &str) -> Result<Option<u64>, String> {
        self.read(key, "a whole number >= 0", |v| v.as_u64())
    }

    /// Any number.
    #[cfg(any(feature = "wasm", test))]
    pub fn f64(&self, key: &str) -> Result<Option<f64>, String> {
        self.read(key, "a number", |v| v.as_f64())
    }

    /// Refuses members other than the `known` ones (the bundle envelope's readers).
    #[cfg(any(feature = "bundle", test))]
    pub fn only(&self, known: &[&str]) -> Result<(), String> {
        match self.0.keys().find(|k| !known.contains(k)) {
            Some(k) => Err(format!("unknown member `{k}`")),
            None => Ok(()),
        }
    }
}

/// A member that must be there.
pub(crate) fn required<T>(key: &str, value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| format!("`{key}` is required"))
}

fn wrong(key: &str, want: &str, got: Val<'_>) -> String {
    match got.kind_name() {
        "a number" | "a boolean" => format!("`{key}` must be {want}, not {got}"),
        kind => format!("`{key}` must be {want}, not {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(text: &str, f: impl FnOnce(Members<'_>) -> T) -> T {
        let doc = Doc::parse(text).unwrap();
        f(Members::of(doc.root()).unwrap())
    }

    #[test]
    fn reads_typed_members_and_treats_null_as_absent() {
        let text = r#"{"s": "x", "l": ["a", "b"], "o": {"k": 1}, "n": 3, "f": -1.5, "z": null}"#;
        with(text, |m| {
            assert_eq!(m.string("s").unwrap().as_deref(), Some("x"));
            assert_eq!(m.strings("l").unwrap(), Some(vec!["a".into(), "b".into()]));
            assert_eq!(m.object("o").unwrap().unwrap()["k"], 1);
            assert_eq!(m.u64("n").unwrap(), Some(3));
            assert_eq!(m.f64("f").unwrap(), Some(-1.5));
            assert_eq!(m.string("z").unwrap(), None);
            assert_eq!(m.string("absent").unwrap(), None);
            assert_eq!(m.only(&["s", "l", "o", "n", "f", "z"]), Ok(()));
        });
        assert_eq!(
            required("absent", None::<u8>).unwrap_err(),
            "`absent` is required"
        );
    }

    #[test]
    fn names_the_member_and_what_was_found() {
        let text = r#"{"s": 1, "l": ["a", true], "n": 1.5, "o": [], "t": {}}"#;
        with(text, |m| {
            assert_eq!(m.string("s").unwrap_err(), "`s` must be a string, not 1");
            let l = m.strings("l").unwrap_err();
            assert_eq!(l, "`l` must be an array of strings, not true");
            let n = m.u64("n").unwrap_err();
            assert_eq!(n, "`n` must be a whole number >= 0, not 1.5");
            assert_eq!(
                m.object("o").unwrap_err(),
                "`o` must be an object, not an array"
            );
            let known = ["s", "l", "n", "o"];
            assert_eq!(m.only(&known), Err("unknown member `t`".to_string()));
        });
        with(r#"{"a": 1, "a": 2}"#, |m| {
            assert_eq!(m.u64("a").unwrap_err(), "`a` is given more than once");
        });
        let doc = Doc::parse("[1]").unwrap();
        let e = Members::of(doc.root()).err().unwrap();
        assert_eq!(e, "expected an object, not an array");
    }
}
