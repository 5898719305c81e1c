//! The pure evaluator core: policy model, compiler, sessions, decisions, masks.
//!
//! Architecture invariant: nothing here does I/O, reads a clock, or knows about JavaScript.

// No panics in the evaluator's paths: each justified exception says why (`#[expect(…, reason = …)]`).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod attrs;
mod checked;
mod compile;
pub mod condition;
pub(crate) mod doc;
pub mod error;
mod explain;
mod filter;
mod integrity;
pub mod mask;
pub(crate) mod members;
mod minimize;
pub(crate) mod names;
mod path;
pub mod policy;
pub mod request;
mod session;
#[cfg(feature = "std")]
pub mod sql;
pub mod state;
pub mod subject;
pub mod workflow;

pub use attrs::{AttrPath, Attrs, NoAttrs, Slots};
pub use checked::{Checked, Stamp};
pub use compile::{valid_app_name, FORMAT, MAX_POLICY_BYTES, MAX_VERSION};
pub use error::{Code, PolicyError, PolicyErrors, RequestError};
pub use explain::{Explanation, FieldTrace, GrantTrace, Reason, RuleCap, RuleTrace};
pub use filter::ScopeFilter;
pub use mask::Mask;
pub use minimize::minimize;
pub use policy::{Header, Policy, Scope};
pub use request::{Answer, Ask, Want};
pub use session::{
    export_cells, transitions_json, ActionId, ExportColumns, FieldStates, FlowReason, Input,
    ResourceId, RoleSource, RoleVia, Session, StepAnswer, TransitionAnswer,
};
pub use state::{FieldState, Mode};
pub use subject::Subject;
