//! The admin toolkit: access diffs, permission matrices, access review (`who_can`), policy test suites, staff
//! transfer, and lint.
//! Pure library functions over the core; the CLI and the server are thin shells around them.

mod diff;
mod lint;
pub mod matrix;
mod suite;
mod transfer;
mod who_can;

pub use diff::{diff, AccessChange, Diff, StructuralChange};
pub use lint::{lint, Warning};
pub use suite::{run_suite, CaseResult, SuiteReport};
pub use transfer::{transfer, TransferError, TransferReport};
pub use who_can::{who_can, Access, Question, WhoCan};
