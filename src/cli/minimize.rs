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
    /// The user as this directory has them (department, groups, roles, reporting line), as
    /// the server resolves a `?for=me` bundle's person.
    #[command(flatten)]
    directory: load::DirectoryArgs,
}

pub(crate) fn run(a: Args) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let directory = a.directory.load(Some(&policy))?;
    let given = a.subject.into_subject();
    let subject = match directory.as_ref().and_then(|d| d.get(&given.id)) {
        Some(person) if given.only_id() => person.subject(),
        _ => given,
    };
    let text = serde_json::to_string_pretty(&minimize(&doc, &policy, &subject))
        .map_err(|e| e.to_string())?;
    match a.out {
        Some(p) => std::fs::write(&p, text + "\n")
            .map_err(|e| format!("cannot write `{}`: {e}", p.display()))?,
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
