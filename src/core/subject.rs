//! The subject: the user a session decides for.

use crate::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A user as the app knows them. Unknown roles are ignored; the policy adds the roles it assigns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// The user id (`user.id`, matched by `own` scopes and `assignments.users`).
    pub id: String,
    /// Roles the app gives the user.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user's department (`department` scopes and department assignments).
    #[serde(default)]
    pub department: Option<String>,
    /// Groups the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Free attributes (`user.attrs.*`).
    #[serde(default)]
    pub attrs: Map<String, Value>,
}

impl Subject {
    /// A subject with only an id.
    pub fn new(id: impl Into<String>) -> Subject {
        Subject {
            id: id.into(),
            ..Subject::default()
        }
    }
}
