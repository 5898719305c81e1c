//! Reading policies from files for the subcommands.

use crate::core::{Policy, PolicyErrors};
use std::path::Path;
use std::sync::Arc;

/// Reads a file, with the path in the error.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// Reads and compiles a policy; a compile failure is returned as the errors.
pub(crate) fn policy(path: &Path) -> Result<Result<Arc<Policy>, PolicyErrors>, String> {
    Ok(Policy::from_slice(&read(path)?).map(Arc::new))
}

/// Reads and compiles a policy, turning compile errors into one message.
pub(crate) fn valid_policy(path: &Path) -> Result<Arc<Policy>, String> {
    policy(path)?.map_err(|e| format!("`{}` is not a valid policy:\n{e}", path.display()))
}
