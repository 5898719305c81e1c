//! Records that follow their parent (a customer's contacts): a `parent` scope decides on the
//! parent record, which the engine reads under the parent resource's name (`record.customer`).
//! The store keeps each record alone; this joins the parent in for decisions, up the chain.
//! What is shown of the parent is the core's `redact`: the parent as viewing it would show it,
//! and only to someone who may view it (its fields answer to its own decisions, never to the
//! child's).

use crate::core::Policy;
use crate::server::store::{Store, StoreError};
use serde_json::Value;
use std::collections::HashMap;

/// The parent records a resource's decisions read, by resource and id, loaded once.
pub(super) struct Parents {
    /// `(resource, parent resource, via)` for each level above the resource, nearest first.
    chain: Vec<(String, String, String)>,
    tables: HashMap<String, HashMap<String, Value>>,
}

impl Parents {
    /// Loads every parent table above `resource` (none for a resource without a parent).
    ///
    /// # Errors
    /// The store's.
    pub(super) fn load(
        store: &dyn Store,
        policy: &Policy,
        resource: &str,
    ) -> Result<Parents, StoreError> {
        let mut chain = Vec::new();
        let mut at = resource.to_string();
        while let Some((up, via)) = policy.parent_of(&at) {
            chain.push((at.clone(), up.to_string(), via.to_string()));
            at = up.to_string();
        }
        let mut tables = HashMap::new();
        for (_, up, _) in &chain {
            if tables.contains_key(up) {
                continue;
            }
            let by_id = store
                .records(up)?
                .into_iter()
                .filter_map(|r| Some((r.body.get("id")?.as_str()?.to_string(), r.body)))
                .collect();
            tables.insert(up.clone(), by_id);
        }
        Ok(Parents { chain, tables })
    }

    /// The record with its parent record under the parent resource's name, and that one's
    /// parent under its own, up the chain (a missing parent is left out: the scope then
    /// denies).
    pub(super) fn join(&self, record: &Value) -> Value {
        self.join_from(0, record)
    }

    fn join_from(&self, level: usize, record: &Value) -> Value {
        let Some((_, up, via)) = self.chain.get(level) else {
            return record.clone();
        };
        let mut out = record.clone();
        let id = crate::core::attrs::scalar_text(attr(record, via));
        let parent = id.and_then(|id| self.tables.get(up)?.get(id.as_ref()));
        if let (Some(p), Some(m)) = (parent, out.as_object_mut()) {
            m.insert(up.clone(), self.join_from(level + 1, p));
        }
        out
    }
}

/// The value at a dotted path (null when missing).
fn attr<'v>(v: &'v Value, dotted: &str) -> &'v Value {
    dotted
        .split('.')
        .try_fold(v, |v, k| v.as_object()?.get(k))
        .unwrap_or(&Value::Null)
}
