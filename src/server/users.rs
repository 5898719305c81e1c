//! The demo users and sample records (`examples/acme-erp.data.json`), loaded into a new data
//! directory on first start.

use crate::core::Subject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The sample data shipped with the binary.
pub const SAMPLE_DATA: &str = include_str!("../../examples/acme-erp.data.json");

/// A user the demo can log in as.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    /// The user id (matches `assignments.users` in the sample policy).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What they do, for the user switcher.
    pub title: String,
    /// Their department.
    #[serde(default)]
    pub department: Option<String>,
    /// Their groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl DemoUser {
    /// The subject the engine decides for.
    pub fn subject(&self) -> Subject {
        Subject {
            id: self.id.clone(),
            roles: Vec::new(),
            department: self.department.clone(),
            groups: self.groups.clone(),
            attrs: Map::new(),
        }
    }
}

/// The sample file: users and records per resource.
#[derive(Deserialize)]
pub struct SampleData {
    /// The demo users.
    pub users: Vec<DemoUser>,
    /// Records per resource.
    pub records: Map<String, Value>,
}

/// Parses the shipped sample data.
///
/// # Errors
/// A message when the embedded file is malformed (a build defect, caught by tests).
pub fn sample() -> Result<SampleData, String> {
    serde_json::from_str(SAMPLE_DATA).map_err(|e| format!("examples/acme-erp.data.json: {e}"))
}
