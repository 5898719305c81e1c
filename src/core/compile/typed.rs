//! Typed reads of the document's values, each mistake reported with its path and code.

use super::*;

impl Compiler {
    pub(super) fn error(&mut self, path: &JsonPath, code: Code, message: String) {
        self.errors.push(PolicyError {
            path: path.render(),
            code,
            message,
            position: None,
        });
    }

    pub(super) fn wrong_type(&mut self, v: Val<'_>, expected: &str, path: &JsonPath) {
        let found = v.kind_name();
        self.error(
            path,
            Code::WrongType,
            format!("expected {expected}, found {found}"),
        );
    }

    pub(super) fn object<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Option<Obj<'v>> {
        let m = v.as_object();
        if m.is_none() {
            self.wrong_type(v, "an object", path);
        }
        m
    }

    /// A `label` (for the tools, never decided on): a text, or texts by language tag
    /// (`{"zh-CN": "客户", "en": "Customer"}`).
    pub(super) fn label(&mut self, m: Obj<'_>, path: &JsonPath) {
        let Some(l) = m.get("label") else { return };
        let p = path.key("label");
        match l.as_object() {
            Some(texts) => {
                for k in texts.keys() {
                    if let Some(t) = texts.get(k) {
                        self.string(t, &p.key(k));
                    }
                }
            }
            None => {
                self.string(l, &p);
            }
        }
    }

    pub(super) fn string<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Option<&'v str> {
        let s = v.as_str();
        if s.is_none() {
            self.wrong_type(v, "a string", path);
        }
        s
    }

    /// The elements of an optional array (empty when absent or mistyped).
    pub(super) fn array<'v>(&mut self, v: Option<Val<'v>>, path: &JsonPath) -> Children<'v> {
        let Some(v) = v else {
            return Children::default();
        };
        v.as_array().unwrap_or_else(|| {
            self.wrong_type(v, "an array", path);
            Children::default()
        })
    }

    /// The string elements of an array with their indexes; other elements are errors.
    pub(super) fn strings<'v>(&mut self, v: Val<'v>, path: &JsonPath) -> Vec<(usize, &'v str)> {
        let mut out = Vec::new();
        for (i, item) in self.array(Some(v), path).enumerate() {
            if let Some(s) = self.string(item, &path.index(i)) {
                out.push((i, s));
            }
        }
        out
    }

    /// The members of an optional object (empty when absent or mistyped); a key given twice is
    /// an error (`duplicate`), and only its first value counts.
    pub(super) fn entries<'v>(
        &mut self,
        v: Option<Val<'v>>,
        path: &JsonPath,
    ) -> Vec<(&'v str, Val<'v>)> {
        let Some(m) = v.and_then(|v| self.object(v, path)) else {
            return Vec::new();
        };
        // Small objects are checked for repeated keys by a scan, large ones through a set.
        let large = m.len() > 16;
        // (Keyed as the compiler's other name maps are: one map type in the module, not two.)
        let mut seen: FxHashMap<String, u32> = FxHashMap::with_capacity_and_hasher(
            if large { m.len() } else { 0 },
            Default::default(),
        );
        let mut out: Vec<(&str, Val<'_>)> = Vec::with_capacity(m.len());
        for (k, v) in m.iter() {
            let new = if large {
                seen.insert(k.to_string(), 0).is_none()
            } else {
                !out.iter().any(|(o, _)| *o == k)
            };
            if new {
                out.push((k, v));
            } else {
                self.error(
                    &path.key(k),
                    Code::Duplicate,
                    format!("key `{k}` appears twice"),
                );
            }
        }
        out
    }

    pub(super) fn required<'v>(
        &mut self,
        m: Obj<'v>,
        key: &str,
        path: &JsonPath,
    ) -> Option<Val<'v>> {
        let v = m.get(key);
        if v.is_none() {
            self.error(path, Code::MissingKey, format!("`{key}` is required"));
        }
        v
    }

    pub(super) fn known_keys(&mut self, m: Obj<'_>, allowed: &[&str], path: &JsonPath) {
        for (i, key) in m.keys().enumerate() {
            if m.keys().take(i).any(|k| k == key) {
                self.error(
                    &path.key(key),
                    Code::Duplicate,
                    format!("key `{key}` appears twice"),
                );
            } else if !allowed.contains(&key) && !key.starts_with("x-") {
                let msg = format!("unknown key `{key}` (extensions start with `x-`)");
                self.error(&path.key(key), Code::UnknownKey, msg);
            }
        }
    }

    pub(super) fn not_for(&mut self, m: Obj<'_>, key: &str, effect: &str, path: &JsonPath) {
        if m.contains_key(key) {
            let msg = format!("`{key}` belongs to {effect} rules");
            self.error(&path.key(key), Code::UnknownKey, msg);
        }
    }
}
