//! The `fieldgate` command-line tool: a thin shell over the core and bundles.

mod admin;
mod check;
mod eval;
mod explain;
mod keygen;
mod load;
mod matrix;
mod minimize;
mod sign;
mod verify;

pub(crate) use keygen::generate as generate_key;
pub(crate) use matrix::{from_csv, labelled_table as matrix_table, to_csv};

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
    /// Structural and access differences between two policies; exit 1 when access changed.
    Diff(admin::DiffArgs),
    /// Export or import a role x field/action permission matrix (CSV or XLSX).
    #[command(subcommand)]
    Matrix(matrix::Command),
    /// The users and roles that can do something (access review).
    WhoCan(admin::WhoCanArgs),
    /// Run a policy test suite; exit 1 when a case fails.
    Test(admin::TestArgs),
    /// Move (or copy) one user's roles, grants and denies to another.
    Transfer(admin::TransferArgs),
    /// Warn about likely mistakes, with JSON paths.
    Lint(admin::LintArgs),
    /// Run the reference policy server and the demo pages.
    #[cfg(feature = "server")]
    Serve(crate::server::Options),
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
        Command::Diff(a) => admin::diff_run(a),
        Command::Matrix(c) => matrix::run(c),
        Command::WhoCan(a) => admin::who_can_run(a),
        Command::Test(a) => admin::test_run(a),
        Command::Transfer(a) => admin::transfer_run(a),
        Command::Lint(a) => admin::lint_run(a),
        #[cfg(feature = "server")]
        Command::Serve(o) => crate::server::run(o).map(|()| ExitCode::SUCCESS),
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
