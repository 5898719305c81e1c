//! `fieldgate backup` and `fieldgate restore`: a consistent copy of a server's data directory,
//! taken while it runs, and putting one back (see `server::backup`).

use super::CliResult;
use crate::server::backup;
use std::path::PathBuf;
use std::process::ExitCode;

/// `fieldgate backup --data DIR --out FILE`.
#[derive(clap::Args)]
pub(crate) struct BackupArgs {
    /// The server's data directory.
    #[arg(long, default_value = "fieldgate-data")]
    data: PathBuf,
    /// The backup file to write (it must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Also put the signing key in the backup (keep the file as secret as the directory).
    #[arg(long)]
    include_keys: bool,
}

/// `fieldgate restore --in FILE --data DIR`.
#[derive(clap::Args)]
pub(crate) struct RestoreArgs {
    /// The backup file.
    #[arg(long = "in")]
    input: PathBuf,
    /// The data directory to restore into (empty, unless --force).
    #[arg(long, default_value = "fieldgate-data")]
    data: PathBuf,
    /// Replace what the directory holds.
    #[arg(long)]
    force: bool,
    /// Take the admin and service tokens from the backup. Without it, the directory keeps
    /// the tokens it has (a token added to a backup, or one revoked since it was taken, does
    /// not come back).
    #[arg(long)]
    include_credentials: bool,
}

fn report(what: &str, s: &backup::Summary) {
    let current: Vec<String> = s.current.iter().map(|(a, v)| format!("{a} v{v}")).collect();
    println!(
        "{what}: {} published version(s); current: {}; signing key {}",
        s.versions,
        if current.is_empty() {
            "none".into()
        } else {
            current.join(", ")
        },
        if s.keys { "included" } else { "not included" }
    );
}

pub(crate) fn backup_run(a: BackupArgs) -> CliResult {
    if a.include_keys {
        eprintln!(
            "warning: the backup holds the signing key: keep it as secret as the data directory"
        );
    }
    let s = backup::backup(&a.data, &a.out, a.include_keys)?;
    report(&format!("backed up to {}", a.out.display()), &s);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn restore_run(a: RestoreArgs) -> CliResult {
    let s = backup::restore(&a.input, &a.data, a.force, a.include_credentials)?;
    report(&format!("restored into {}", a.data.display()), &s);
    match s.credentials {
        Some((backup::Credentials::Backup, n)) => {
            println!("credentials: {n} from the backup (--include-credentials)");
        }
        Some((backup::Credentials::Kept, n)) => {
            println!("credentials: the directory's own {n} kept; none taken from the backup");
        }
        None => println!(
            "credentials: none (not taken from the backup without --include-credentials); \
             create them with `fieldgate credentials`"
        ),
    }
    if !s.keys && !a.data.join("signing.key").exists() {
        eprintln!(
            "note: the backup has no signing key; put the old signing.key into {} before \
             starting the server (it refuses to start without it)",
            a.data.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
