//! `fieldgate verify`: check a bundle and print a one-line summary.

use super::{load, CliResult};
use crate::bundle::{format_rfc3339, VerifyOptions};
use crate::host::now_ms;
use std::path::PathBuf;
use std::process::ExitCode;

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

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    trust: Trust,
    /// The bundle.
    bundle: PathBuf,
}

pub(crate) fn run(a: Args) -> CliResult {
    let keys = load::trusted_keys(&a.trust.trust, a.trust.threshold)?;
    let bytes = load::read(&a.bundle)?;
    let mut opts = VerifyOptions::new(&keys, now_ms());
    opts.app = a.trust.app.as_deref();
    opts.min_version = a.trust.min_version;
    opts.subject = a.trust.user.as_deref();
    match crate::bundle::verify(&bytes, &opts) {
        Ok(b) => {
            let h = b.policy.header();
            println!(
                "ok: app {} version {} key {} expires {}{}",
                h.app,
                h.version,
                b.key_ids.join(","),
                format_rfc3339(b.expires_at_ms),
                h.subject
                    .as_deref()
                    .map(|s| format!(" subject {s}"))
                    .unwrap_or_default(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}
