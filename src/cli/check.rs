//! `fieldgate check POLICY.json`.

use super::{load, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy document.
    policy: PathBuf,
    /// Print the errors as a JSON array instead.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> CliResult {
    match load::policy(&a.policy)? {
        Ok(p) => {
            if a.json {
                println!("[]");
            } else {
                let resources = p.resource_names().count();
                let roles = p.role_names().count();
                println!(
                    "ok: {} version {} ({resources} resources, {roles} roles)",
                    p.app(),
                    p.version()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&errors).map_err(|e| e.to_string())?
                );
            } else {
                println!("{errors}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
