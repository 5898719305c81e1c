//! `fieldgate sign`: check a policy, stamp it, sign it.

use super::{load, CliResult};
use crate::bundle::{sign, Encoding, SecretKey, SignOptions};
use crate::host::now_ms;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Signing key file(s); give two during a key rotation.
    #[arg(long, required = true)]
    key: Vec<PathBuf>,
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    /// Where to write the bundle.
    #[arg(long)]
    out: PathBuf,
    /// The bundle version (default: the policy's own).
    #[arg(long)]
    version: Option<u64>,
    /// How long the bundle stays valid, e.g. `30d`, `12h`.
    #[arg(long, default_value = "30d")]
    expires_in: String,
    /// `json` (a DSSE envelope) or `binary` (compact, compiled).
    #[arg(long, default_value = "json")]
    format: Format,
    /// Bind the bundle to one user (for minimized bundles).
    #[arg(long)]
    subject: Option<String>,
}

/// The bundle encodings, as spelled on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    Json,
    Binary,
}

pub(crate) fn run(a: Args) -> CliResult {
    let keys = a
        .key
        .iter()
        .map(|p| crate::host::keys::read_secret(p))
        .collect::<Result<Vec<_>, _>>()?;
    let policy = load::read(&a.policy)?;
    let lifetime = humantime::parse_duration(&a.expires_in)
        .map_err(|e| format!("bad --expires-in `{}`: {e}", a.expires_in))?;
    let now = now_ms();
    let opts = SignOptions {
        version: a.version,
        issued_at_ms: now,
        expires_at_ms: now + i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX / 2),
        subject: a.subject,
        encoding: match a.format {
            Format::Json => Encoding::Json,
            Format::Binary => Encoding::Binary,
        },
    };
    let refs: Vec<&SecretKey> = keys.iter().collect();
    match sign(&policy, &refs, &opts) {
        Ok(bundle) => {
            std::fs::write(&a.out, bundle)
                .map_err(|e| format!("cannot write `{}`: {e}", a.out.display()))?;
            let ids: Vec<String> = keys.iter().map(|k| k.public().id().to_string()).collect();
            println!("signed `{}` with {}", a.out.display(), ids.join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}
