//! The `fieldgate` command-line tool: a thin shell over the core and bundles.

mod check;
mod eval;
mod explain;
mod load;

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
}

/// Runs the CLI with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(a) => check::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Explain(a) => explain::run(a),
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
