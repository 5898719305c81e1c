//! `fieldgate admin add|remove|list` and `fieldgate service add|remove|list`: named admin and
//! service credentials in a data directory (or the shared database of `--database`). A token
//! is printed once; only its hash is kept, and a running server stops honouring a removed one
//! within a second.

use super::CliResult;
use crate::server::credentials;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Make a credential and print its token.
    Add(Named),
    /// Revoke a credential.
    Remove(Named),
    /// List the credentials.
    List(Data),
}

#[derive(clap::Args)]
pub(crate) struct Named {
    /// Its name.
    name: String,
    #[command(flatten)]
    data: Data,
}

#[derive(clap::Args)]
pub(crate) struct Data {
    /// The server's data directory.
    #[arg(long, default_value = "fieldgate-data")]
    data: PathBuf,
    /// The servers' shared PostgreSQL database instead (`postgres://…`).
    #[arg(long, env = "FIELDGATE_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

impl Data {
    fn place(&self) -> credentials::Place<'_> {
        credentials::Place {
            data: &self.data,
            database: self.database.as_deref(),
        }
    }
}

/// Runs a credential command for `kind` (`admin` or `service`).
pub(crate) fn run(kind: &str, c: Command) -> CliResult {
    match c {
        Command::Add(n) => {
            let token = credentials::add(&n.data.place(), kind, &n.name)?;
            println!("{token}");
            eprintln!(
                "{kind} `{}` added; keep the token: it is not shown again",
                n.name
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Remove(n) => {
            if credentials::remove(&n.data.place(), kind, &n.name)? {
                println!("{kind} `{}` removed", n.name);
                Ok(ExitCode::SUCCESS)
            } else {
                println!("no {kind} `{}`", n.name);
                Ok(ExitCode::from(1))
            }
        }
        Command::List(d) => {
            for (name, at) in credentials::list(&d.place(), kind)? {
                println!("{name}\t{}", crate::bundle::format_rfc3339(at));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
