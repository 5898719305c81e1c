//! Reading policies from files for the subcommands.

use crate::admin::Directory;
use crate::core::{Policy, PolicyErrors};
use std::path::{Path, PathBuf};
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

/// A policy file compiled once, with its document (what the admin toolkit reads).
pub(crate) fn checked_policy(path: &Path) -> Result<crate::core::Checked, String> {
    crate::core::Checked::from_slice(&read(path)?)
        .map_err(|e| format!("`{}` is not a valid policy:\n{e}", path.display()))
}

/// Trusted keys from `--trust` values: `signing.pub` files or base64 keys.
pub(crate) fn trusted_keys(
    values: &[String],
    threshold: usize,
) -> Result<crate::bundle::TrustedKeys, String> {
    if values.is_empty() {
        return Err("give at least one --trust key".into());
    }
    let mut keys = Vec::new();
    for v in values {
        keys.push(crate::host::keys::read_public(v)?);
    }
    Ok(crate::bundle::TrustedKeys::new(keys).with_threshold(threshold))
}

/// A verified bundle's policy, or the verification error as a message.
pub(crate) fn verified_policy(path: &Path, t: &Trust) -> Result<Arc<Policy>, String> {
    let keys = trusted_keys(&t.trust, t.threshold)?;
    let mut opts = crate::bundle::VerifyOptions::new(&keys, crate::host::now_ms());
    opts.app = t.app.as_deref();
    opts.min_version = t.min_version;
    opts.subject = t.user.as_deref();
    let b = crate::bundle::verify(&read(path)?, &opts)
        .map_err(|e| format!("`{}` refused: {e}", path.display()))?;
    Ok(Arc::new(b.policy))
}

/// Who a command asks about: `--user`, `--roles`, `--department`, `--groups`.
#[derive(clap::Args)]
pub(crate) struct SubjectArgs {
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// Roles the app gives the user (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,
    /// The user's department.
    #[arg(long)]
    pub department: Option<String>,
    /// The user's groups (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub groups: Vec<String>,
}

impl SubjectArgs {
    /// The subject these arguments describe.
    pub(crate) fn into_subject(self) -> crate::core::Subject {
        crate::core::Subject {
            id: self.user,
            roles: self.roles,
            department: self.department,
            groups: self.groups,
            org: None,
            attrs: Default::default(),
            reports: Default::default(),
        }
    }
}

/// `--directory FILE` (CSV, XLSX or JSON) and `--encoding` for CSV.
#[derive(clap::Args, Default)]
pub(crate) struct DirectoryArgs {
    /// The people of the app: CSV or XLSX (`id,name,department,groups,roles`) or JSON.
    #[arg(long)]
    pub directory: Option<PathBuf>,
    /// The CSV directory's encoding: auto (UTF-8, else GBK), utf-8 or gbk.
    #[arg(long, default_value = "auto")]
    pub encoding: String,
}

impl DirectoryArgs {
    /// The directory, checked against `policy`, if one is given.
    pub(crate) fn load(&self, policy: Option<&Policy>) -> Result<Option<Directory>, String> {
        self.load_from(self.directory.as_deref(), policy)
    }

    /// The directory at `path` (in this encoding), checked against `policy`, if one is given.
    pub(crate) fn load_from(
        &self,
        path: Option<&std::path::Path>,
        policy: Option<&Policy>,
    ) -> Result<Option<Directory>, String> {
        let Some(path) = path else {
            return Ok(None);
        };
        let encoding = self.encoding.parse()?;
        let org = crate::admin::directory::Org::of(policy);
        crate::host::sheets::read_directory(&read(path)?, encoding, org)
            .map(Some)
            .map_err(|e| format!("`{}`: {e}", path.display()))
    }
}

/// Trust options shared by `verify` and `eval --bundle`.
#[derive(clap::Args)]
pub(crate) struct Trust {
    /// A trusted public key: a `signing.pub` file or the base64 key itself. Repeat for several.
    #[arg(long)]
    pub trust: Vec<String>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value_t = 1)]
    pub threshold: usize,
    /// The app the bundle must be for.
    #[arg(long)]
    pub app: Option<String>,
    /// The lowest acceptable version.
    #[arg(long, default_value_t = 0)]
    pub min_version: u64,
    /// The current user: a bundle bound to another user is refused.
    #[arg(long)]
    pub user: Option<String>,
}
