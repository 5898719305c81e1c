//! `fieldgate keygen --out-dir DIR`.

use super::CliResult;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
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
    let secret_path = a.out_dir.join("signing.key");
    let public_path = a.out_dir.join("signing.pub");
    if secret_path.exists() || public_path.exists() {
        return Err(format!(
            "`{}` already holds a key; refusing to overwrite it",
            a.out_dir.display()
        ));
    }
    let key = crate::host::keys::generate()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&secret_path)
        .map_err(|e| format!("cannot create `{}`: {e}", secret_path.display()))?;
    writeln!(file, "{}", key.to_base64()).map_err(|e| e.to_string())?;
    let public = key.public();
    std::fs::write(&public_path, format!("{}\n", public.to_base64())).map_err(|e| e.to_string())?;
    println!("{}", public.id());
    Ok(ExitCode::SUCCESS)
}
