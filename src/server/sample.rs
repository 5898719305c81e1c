//! The sample data shipped with the binary (`examples/acme-erp.data.json`): the demo app's
//! people, loaded as its directory, and its records, loaded into a new data directory on
//! first start.

use crate::admin::{Directory, Person};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The sample file.
pub const SAMPLE_DATA: &str = include_str!("../../examples/acme-erp.data.json");

/// One person as the sample file lists them.
#[derive(Deserialize)]
struct SamplePerson {
    id: String,
    name: String,
    title: String,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// The direct manager's id.
    #[serde(default)]
    manager: Option<String>,
}

/// The sample file: people and records per resource.
#[derive(Deserialize)]
struct SampleFile {
    users: Vec<SamplePerson>,
    records: Map<String, Value>,
}

/// The sample's directory (titles as the attribute `title`) and records per resource.
///
/// # Errors
/// A message when the embedded file is malformed (a build defect, caught by tests).
pub fn sample() -> Result<(Directory, Map<String, Value>), String> {
    let f: SampleFile = serde_json::from_str(SAMPLE_DATA)
        .map_err(|e| format!("examples/acme-erp.data.json: {e}"))?;
    let people = f
        .users
        .into_iter()
        .map(|u| Person {
            id: u.id,
            name: Some(u.name),
            department: u.department,
            groups: u.groups,
            roles: u.roles,
            attrs: [("title".to_string(), Value::from(u.title))]
                .into_iter()
                .collect(),
            manager: u.manager,
            reports: Default::default(),
        })
        .collect();
    let d = Directory::new(people, None, 1)
        .map_err(|e| format!("examples/acme-erp.data.json: {e:?}"))?;
    Ok((d, f.records))
}
