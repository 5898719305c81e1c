//! `fieldgate keygen --out-dir DIR`.

use super::CliResult;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Where to write `signing.key` (secret, mode 0600) and `signing.pub`.
    #[arg(long)]
    out_dir: PathBuf,
}

pub(crate) fn run(a: Args) -> CliResult {
    std::fs::create_dir_all(&a.out_dir)
        .map_err(|e| format!("cannot create `{}`: {e}", a.out_dir.display()))?;
    let public = crate::host::keys::write_pair(&a.out_dir)?;
    println!("{}", public.id());
    Ok(ExitCode::SUCCESS)
}
