//! Field states and form modes.

use core::fmt;
use core::str::FromStr;
use serde::{Deserialize, Serialize};

/// What a user may do with one field, ordered `Hidden < Masked < Readonly < Editable`.
///
/// The numeric value is the state code used by the fast paths (`fieldStates` in JS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum FieldState {
    /// Not shown and not delivered.
    Hidden = 0,
    /// Shown with its mask applied; never sent back.
    Masked = 1,
    /// Shown as is; not editable.
    Readonly = 2,
    /// Shown and editable.
    Editable = 3,
}

impl FieldState {
    /// All states, lowest first.
    pub const ALL: [FieldState; 4] = [
        FieldState::Hidden,
        FieldState::Masked,
        FieldState::Readonly,
        FieldState::Editable,
    ];

    /// The policy-document spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldState::Hidden => "hidden",
            FieldState::Masked => "masked",
            FieldState::Readonly => "readonly",
            FieldState::Editable => "editable",
        }
    }

    /// The state for a state code; codes above 3 are not states.
    pub fn from_code(code: u8) -> Option<FieldState> {
        FieldState::ALL.get(usize::from(code)).copied()
    }
}

impl fmt::Display for FieldState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        FieldState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or(())
    }
}

/// The form a user is looking at; `Create` and `Edit` name the action that makes fields editable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Reading a record: at most readonly.
    View,
    /// A new record: fields are editable under grants that list `create`.
    Create,
    /// An existing record: fields are editable under grants that list `edit`.
    Edit,
}

impl Mode {
    /// All modes.
    pub const ALL: [Mode; 3] = [Mode::View, Mode::Create, Mode::Edit];

    /// The spelling used in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::View => "view",
            Mode::Create => "create",
            Mode::Edit => "edit",
        }
    }

    /// The action that makes fields editable in this mode (`None` for view).
    pub fn action(self) -> Option<&'static str> {
        match self {
            Mode::View => None,
            Mode::Create => Some("create"),
            Mode::Edit => Some("edit"),
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// Serialises state vectors as their byte codes (compact and fast in binary formats).
pub(crate) mod codes {
    use super::FieldState;
    use crate::prelude::*;
    use alloc::sync::Arc;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(states: &[FieldState], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = states.iter().map(|&st| st as u8).collect();
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[FieldState]>, D::Error> {
        let bytes: &[u8] = <&[u8]>::deserialize(d)?;
        bytes
            .iter()
            .map(|&b| FieldState::from_code(b).ok_or_else(|| D::Error::custom("bad state code")))
            .collect()
    }
}
