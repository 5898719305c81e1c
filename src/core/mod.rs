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
#[cfg(feature = "compile")]
mod checked;
#[cfg(feature = "compile")]
mod compile;
pub mod condition;
mod dated;
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
pub mod time;
mod window;
pub mod workflow;

pub use attrs::{AttrPath, Attrs, NoAttrs, Slots};
#[cfg(feature = "compile")]
pub use checked::{Checked, Stamp};
#[cfg(feature = "compile")]
pub use compile::{FORMAT, MAX_POLICY_BYTES};
pub use dated::DatedEntry;
pub use error::{Code, PolicyError, PolicyErrors, RequestError};
pub use explain::{Explanation, FieldTrace, GrantTrace, Reason, RuleCap, RuleTrace};
pub use filter::ScopeFilter;
pub use mask::Mask;
pub use minimize::minimize;
pub use policy::{valid_app_name, Header, Policy, Scope, MAX_VERSION};
pub use request::{Answer, Ask, Want};
pub use session::{
    export_cells, transitions_json, ActionId, ExportColumns, FieldStates, FlowReason, Input,
    ResourceId, RoleSource, RoleVia, Session, StepAnswer, TransitionAnswer,
};
pub use state::{FieldState, Mode};
pub use subject::Subject;
pub use window::{At, Window};
