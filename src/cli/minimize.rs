//! `fieldgate minimize`: the part of a policy that can affect one user.

use super::{load, CliResult};
use crate::core::minimize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    #[command(flatten)]
    subject: load::SubjectArgs,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let subject = a.subject.into_subject();
    let text = serde_json::to_string_pretty(&minimize(&doc, &policy, &subject))
        .map_err(|e| e.to_string())?;
    match a.out {
        Some(p) => std::fs::write(&p, text + "\n")
            .map_err(|e| format!("cannot write `{}`: {e}", p.display()))?,
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
