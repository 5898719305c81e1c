//! `fieldgate minimize`: the part of a policy that can affect one user.

use super::{load, CliResult};
use crate::core::{minimize, Subject};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    /// The user id.
    #[arg(long)]
    user: String,
    /// Roles the app gives the user (comma-separated).
    #[arg(long, value_delimiter = ',')]
    roles: Vec<String>,
    /// The user's department.
    #[arg(long)]
    department: Option<String>,
    /// The user's groups (comma-separated).
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub(crate) fn run(a: Args) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let subject = Subject {
        id: a.user,
        roles: a.roles,
        department: a.department,
        groups: a.groups,
        attrs: Default::default(),
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
