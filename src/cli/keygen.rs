//! `fieldgate keygen --out-dir DIR`.

use super::CliResult;
use crate::bundle::SecretKey;
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
    let key = generate()?;
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

/// A new key from the operating system's randomness.
pub(crate) fn generate() -> Result<SecretKey, String> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("no randomness: {e}"))?;
    Ok(SecretKey::from_seed(&seed))
}
