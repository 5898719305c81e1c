//! A policy checked once: its document and its compiled form, made together from one input
//! and kept together, so the tools and the server that need both never compile twice.

use crate::core::error::{Code, PolicyError, PolicyErrors};
use crate::core::Policy;
use crate::core::MAX_VERSION;
use crate::prelude::*;
use alloc::sync::Arc;
use serde_json::Value;

/// A valid policy document with its compiled [`Policy`].
#[derive(Debug, Clone)]
pub struct Checked {
    doc: Value,
    policy: Arc<Policy>,
}

impl Checked {
    /// Compiles JSON bytes once, keeping the document they hold.
    ///
    /// # Errors
    /// What [`Policy::from_slice`] reports.
    pub fn from_slice(bytes: &[u8]) -> Result<Checked, PolicyErrors> {
        let policy = Policy::from_slice(bytes)?;
        let doc = serde_json::from_slice(bytes).map_err(crate::core::compile::json_error)?;
        Ok(Checked {
            doc,
            policy: Arc::new(policy),
        })
    }

    /// Compiles a document already read (the compiler reads its own form of the text, so the
    /// document is written out once for it).
    ///
    /// # Errors
    /// What [`Policy::from_slice`] reports.
    pub fn from_value(doc: Value) -> Result<Checked, PolicyErrors> {
        let policy = Policy::from_slice(doc.to_string().as_bytes())?;
        Ok(Checked {
            doc,
            policy: Arc::new(policy),
        })
    }

    /// The document.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The compiled policy.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// Both, taken apart.
    pub fn into_parts(self) -> (Value, Arc<Policy>) {
        (self.doc, self.policy)
    }

    /// The same policy with its header's members set as the document's would be (`None`
    /// removes one): `version`, `issued_at`, `expires_at`, `subject`. What the compiler
    /// checks of them is checked here, so the result is what compiling the changed document
    /// would give.
    ///
    /// # Errors
    /// `bad_version` past [`MAX_VERSION`]; `wrong_type` when the document is not an object.
    pub fn stamped(&self, stamp: &Stamp) -> Result<Checked, PolicyErrors> {
        let mut doc = self.doc.clone();
        let Some(obj) = doc.as_object_mut() else {
            return Err(one(
                Code::WrongType,
                "",
                "the policy is not a JSON object".into(),
            ));
        };
        let mut policy = Policy::clone(&self.policy);
        if let Some(v) = stamp.version {
            if v > MAX_VERSION {
                let msg = format!("version must be an integer from 0 to {MAX_VERSION}, not `{v}`");
                return Err(one(Code::BadVersion, "version", msg));
            }
            obj.insert("version".into(), Value::from(v));
            policy.header.version = v;
        }
        let mut text = |key: &str, value: &Option<String>| -> Option<String> {
            match value {
                Some(v) => obj.insert(key.into(), Value::String(v.clone())),
                None => obj.remove(key),
            };
            value.clone()
        };
        policy.header.issued_at = text("issued_at", &stamp.issued_at);
        policy.header.expires_at = text("expires_at", &stamp.expires_at);
        policy.header.subject = text("subject", &stamp.subject);
        Ok(Checked {
            doc,
            policy: Arc::new(policy),
        })
    }
}

/// What signing sets in a policy's header.
#[derive(Debug, Clone, Default)]
pub struct Stamp {
    /// `version`, when set (else the document's stays).
    pub version: Option<u64>,
    /// `issued_at` (RFC 3339).
    pub issued_at: Option<String>,
    /// `expires_at` (RFC 3339).
    pub expires_at: Option<String>,
    /// `subject`.
    pub subject: Option<String>,
}

fn one(code: Code, path: &str, message: String) -> PolicyErrors {
    PolicyErrors(vec![PolicyError {
        path: path.into(),
        code,
        message,
        position: None,
    }])
}
