//! The subject: the user a session decides for.

use super::doc::Val;
use super::members::{self, required, Members};
use crate::prelude::*;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// A user as the app knows them. Unknown roles are ignored; the policy adds the roles it assigns.
/// Read from JSON as `{ id, roles?, department?, groups?, org?, attrs?, reports? }` (absent and
/// `null` alike).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Subject {
    /// The user id (`user.id`, matched by `own` scopes and `assignments.users`).
    pub id: String,
    /// Roles the app gives the user.
    pub roles: Vec<String>,
    /// The user's department (`department` scopes and department assignments).
    pub department: Option<String>,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
    /// The outside organisation a partner belongs to (上下游, 互联企业; none for the company's
    /// own staff): a partner holds external roles only, and `org` scopes match it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Free attributes (`user.attrs.*`).
    pub attrs: Map<String, Value>,
    /// Everyone below the user in the reporting line, by id, with their distance (a whole
    /// number from 1; 1: a direct report): what `subordinates` scopes match and conditions read
    /// as `user.reports`. (A JSON object like `attrs`, so the module reads it with the code it
    /// already has.)
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub reports: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Subject, D::Error> {
        members::deserialize(d, Subject::read)
    }
}

impl Subject {
    /// Reads `{ id, roles?, department?, groups?, attrs?, reports? }`; other members are ignored.
    pub(crate) fn read(v: Val<'_>) -> Result<Subject, String> {
        let m = Members::of(v)?;
        let reports = m.object("reports")?.unwrap_or_default();
        if let Some((id, d)) = reports.iter().find(|(_, d)| distance(d).is_none()) {
            return Err(format!("`reports.{id}` must be a distance from 1, not {d}"));
        }
        Ok(Subject {
            id: required("id", m.string("id")?)?,
            roles: m.strings("roles")?.unwrap_or_default(),
            department: m.string("department")?,
            groups: m.strings("groups")?.unwrap_or_default(),
            org: m.string("org")?,
            attrs: m.object("attrs")?.unwrap_or_default(),
            reports,
        })
    }

    /// Whether `other` says the same of the user: the same id, department, attributes and
    /// reporting line, and the same roles and groups in any order.
    pub fn same_as(&self, other: &Subject) -> bool {
        let set = |a: &[String], b: &[String]| {
            a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
        };
        self.id == other.id
            && self.department == other.department
            && self.org == other.org
            && set(&self.roles, &other.roles)
            && set(&self.groups, &other.groups)
            && self.attrs == other.attrs
            && self.reports == other.reports
    }

    /// Whether only the id is given (everything else at its default).
    pub fn only_id(&self) -> bool {
        self.department.is_none()
            && self.org.is_none()
            && self.roles.is_empty()
            && self.groups.is_empty()
            && self.attrs.is_empty()
            && self.reports.is_empty()
    }

    /// A subject with only an id.
    pub fn new(id: impl Into<String>) -> Subject {
        Subject {
            id: id.into(),
            ..Subject::default()
        }
    }
}

/// The ids of `reports` (a subject's) at most `depth` below the user (all with `None`), sorted.
pub(crate) fn reports_within(
    reports: &Map<String, Value>,
    depth: Option<u32>,
) -> impl Iterator<Item = &str> {
    reports
        .iter()
        .filter(move |(_, d)| distance(d).is_some_and(|d| depth.is_none_or(|n| d <= u64::from(n))))
        .map(|(id, _)| id.as_str())
}

/// A distance in the reporting line: a whole number from 1.
fn distance(v: &Value) -> Option<u64> {
    v.as_u64().filter(|d| *d >= 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_subject_with_defaults_and_clear_errors() {
        let s: Subject = serde_json::from_value(json!({"id": "u", "department": null})).unwrap();
        assert_eq!(s, Subject::new("u"));
        let s: Subject = serde_json::from_str(
            r#"{"id": "u", "roles": ["a"], "groups": ["g"], "department": "d", "attrs": {"k": 1}, "extra": 0}"#,
        )
        .unwrap();
        assert_eq!(
            (s.roles, s.groups),
            (vec!["a".to_string()], vec!["g".to_string()])
        );
        assert_eq!(
            (s.department.as_deref(), &s.attrs["k"]),
            (Some("d"), &json!(1))
        );
        for (bad, why) in [
            (json!({}), "`id` is required"),
            (json!({"id": 7}), "`id` must be a string, not 7"),
            (
                json!({"id": "u", "roles": "sales"}),
                "`roles` must be an array, not a string",
            ),
            (
                json!({"id": "u", "attrs": []}),
                "`attrs` must be an object, not an array",
            ),
            (json!("u"), "expected an object, not a string"),
        ] {
            let e = serde_json::from_value::<Subject>(bad)
                .unwrap_err()
                .to_string();
            assert_eq!(e, why);
        }
    }

    /// Found by the `subject` fuzz target: without serde_json's `float_roundtrip` (which `std`
    /// turns on) this 27-digit number read 1 ulp off the value written back.
    #[cfg(feature = "std")]
    #[test]
    fn numbers_survive_being_written_and_read_again() {
        let text = r#"{"id": "u", "attrs": {"x": 222222005124095576030431004}}"#;
        let s: Subject = serde_json::from_str(text).unwrap();
        let again: Subject = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(again, s);
    }
}
