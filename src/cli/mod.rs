//! The `fieldgate` command-line tool: a thin shell over the core and bundles.

mod check;
mod eval;
mod explain;
mod keygen;
mod load;
mod minimize;
mod sign;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Field- and action-level permissions for low-code forms.
#[derive(Parser)]
#[command(name = "fieldgate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a policy; print every error as `path: code: message`.
    Check(check::Args),
    /// Answer JSON Lines requests from stdin, one JSON line each.
    Eval(eval::Args),
    /// Explain one request in words.
    Explain(explain::Args),
    /// Make a signing key pair.
    Keygen(keygen::Args),
    /// Check a policy and sign it into a bundle.
    Sign(sign::Args),
    /// Verify a bundle and print a one-line summary.
    Verify(verify::Args),
    /// Cut a policy down to what can affect one user.
    Minimize(minimize::Args),
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Keygen(a) => keygen::run(a),
        Command::Sign(a) => sign::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Minimize(a) => minimize::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// A CLI failure: the message printed before exiting with status 2.
pub(crate) type CliResult = Result<ExitCode, String>;

/// The current time in Unix milliseconds (the CLI is a shell: it may read the clock).
pub(crate) fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
