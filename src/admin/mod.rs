//! The admin toolkit: the directory of people, access diffs, permission matrices, access
//! review (`who_can`, `review`), policy test suites, staff transfer, and lint.
//! Pure library functions over the core; the CLI and the server are thin shells around them.
//! Every answer they show comes from the core's sessions, never from reading grants anew.

pub mod admin_scope;
pub mod codes;
mod diff;
pub mod directory;
pub(crate) mod entries;
mod flow_place;
mod lint;
pub mod matrix;
mod probe;
pub mod review;
pub mod subjects;
mod suite;
mod transfer;
mod who_can;
pub mod words;

pub use codes::{AdminCode, LintCode};
pub use diff::{
    diff, diff_people, directory_changes, AccessChange, Diff, DiffError, Group, Impact, Limits,
    Line, PersonRef, StructuralChange,
};
pub use directory::{Directory, DirectoryError, Person};
pub use flow_place::flow_place;
pub use lint::{lint, Horizon, Warning};
pub use suite::{run_suite, CaseResult, SuiteReport};
pub use transfer::{transfer, Selection, Transfer, TransferError, TransferReport};
pub use who_can::{who_can, Access, Question, Source, WhoCan};
