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

    /// The mode a form for `action` is in: `create` and `edit` have their own, every other
    /// action shows the record (`view`).
    pub fn of_action(action: &str) -> Mode {
        match action {
            "create" => Mode::Create,
            "edit" => Mode::Edit,
            _ => Mode::View,
        }
    }

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

/// Serialises state vectors as runs, one byte each: the state code in the top two bits, the run
/// length less one in the low six. A grant's vector is mostly its `*` state with a few fields set
/// apart, so a 60-field form takes a few bytes instead of 60. Every byte is a valid run.
pub(crate) mod codes {
    use super::FieldState;
    use crate::prelude::*;
    use alloc::sync::Arc;
    use serde::{Deserialize, Deserializer, Serializer};

    /// The longest run one byte holds.
    const MAX_RUN: usize = 64;

    #[expect(
        clippy::cast_possible_truncation,
        clippy::indexing_slicing,
        reason = "a state's discriminant is its position in `FieldState::ALL`; narrowing: there are four states"
    )]
    pub fn serialize<S: Serializer>(states: &[FieldState], s: S) -> Result<S::Ok, S::Error> {
        let mut runs = Vec::new();
        for chunk in states.chunk_by(|a, b| a == b) {
            let code = (chunk[0] as u8) << 6;
            runs.extend(chunk.chunks(MAX_RUN).map(|c| code | (c.len() - 1) as u8));
        }
        s.serialize_bytes(&runs)
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "the code is checked below four first"
    )]
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[FieldState]>, D::Error> {
        let runs: &[u8] = <&[u8]>::deserialize(d)?;
        let len = runs.iter().map(|&r| usize::from(r & 0x3f) + 1).sum();
        let mut states = Vec::with_capacity(len);
        for &r in runs {
            let state = FieldState::ALL[usize::from(r >> 6)];
            states.resize(states.len() + usize::from(r & 0x3f) + 1, state);
        }
        Ok(states.into())
    }
}

#[cfg(test)]
mod tests {
    use super::FieldState::{self, *};
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    struct Wrap(#[serde(with = "super::codes")] alloc::sync::Arc<[FieldState]>);

    fn round_trip(states: Vec<FieldState>) -> usize {
        let bytes = postcard::to_allocvec(&Wrap(states.clone().into())).unwrap();
        let back: Wrap = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(&*back.0, &states[..]);
        bytes.len()
    }

    #[test]
    fn state_vectors_travel_as_runs() {
        assert_eq!(round_trip(vec![]), 1);
        // A typical grant: two read-only fields, then the `*` state: two runs.
        let mut form = vec![Readonly; 2];
        form.extend([Editable; 58]);
        assert_eq!(round_trip(form), 3);
        // Runs longer than one byte holds are split.
        assert_eq!(round_trip(vec![Masked; 64]), 2);
        assert_eq!(round_trip(vec![Masked; 65]), 3);
        assert_eq!(round_trip(vec![Hidden; 200]), 5);
        // Alternating states: one byte per field, every state code kept.
        let mixed: Vec<_> = (0..40).map(|i| FieldState::ALL[i % 4]).collect();
        assert_eq!(round_trip(mixed), 41);
    }

    #[test]
    #[expect(clippy::cast_possible_truncation, reason = "there are four states")]
    fn state_codes_are_the_states_positions() {
        for (code, state) in FieldState::ALL.into_iter().enumerate() {
            assert_eq!(state as usize, code);
            assert_eq!(FieldState::from_code(code as u8), Some(state));
        }
        assert_eq!(FieldState::from_code(4), None);
    }
}
