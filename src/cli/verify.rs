//! `fieldgate verify`: check a bundle and print a one-line summary.

use super::{load, CliResult};
use crate::bundle::{format_rfc3339, VerifyOptions};
use crate::host::now_ms;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    trust: load::Trust,
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
