//! The sample data shipped with the binary (`examples/acme-erp.data.json`): the demo app's
//! people, loaded as its directory, and its records, loaded into a new data directory on
//! first start.

use crate::admin::{Directory, Person};
use crate::server::services::publish::{self, Publication};
use crate::server::state::AppState;
use crate::server::SAMPLE_APP;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The sample file.
pub const SAMPLE_DATA: &str = include_str!("../../../examples/acme-erp.data.json");

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
    /// A partner's organisation (the dealer's people).
    #[serde(default)]
    org: Option<String>,
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
            org: u.org,
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

/// The sample policy, published on first start.
const SAMPLE_POLICY: &str = include_str!("../../../examples/acme-erp.policy.json");

/// On an empty store, the demo's records and directory and the sample policy, once (other
/// instances starting at the same time wait for this one: `Store::exclusively`).
pub fn seed(state: &AppState, notes: &mut Vec<String>) -> Result<(), String> {
    let (directory, records) = sample()?;
    if !state.store.has_records().map_err(|e| e.to_string())? {
        for (resource, list) in &records {
            let list = list.as_array().cloned().unwrap_or_default();
            state
                .store
                .seed_records(resource, &list)
                .map_err(|e| e.to_string())?;
        }
    }
    if state
        .store
        .directory(SAMPLE_APP)
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let now = crate::host::now_ms();
        state
            .store
            .put_directory(SAMPLE_APP, &directory.to_json(), "fieldgate (sample)", now)
            .map_err(|e| e.to_string())?;
    }
    if state
        .store
        .current(SAMPLE_APP)
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let doc = serde_json::from_str(SAMPLE_POLICY).map_err(|e| e.to_string())?;
        let p = Publication {
            doc,
            by: "fieldgate".into(),
            base: None,
            reassign: None,
            note: Some("the sample policy".into()),
            directory: None,
            kind: "publish",
            endpoint: "fieldgate serve (first start)".into(),
        };
        let v = publish::publish(
            state,
            SAMPLE_APP,
            p,
            Some(&directory),
            crate::host::now_ms(),
        )
        .map_err(|e| e.message)?;
        notes.push(format!(
            "published the sample policy as {SAMPLE_APP} v{}",
            v.version
        ));
    }
    Ok(())
}
