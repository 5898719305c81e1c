//! The `fieldgate` command-line tool: a thin shell over the core and bundles.

mod admin;
#[cfg(feature = "server")]
mod backup;
mod check;
#[cfg(feature = "server")]
mod credentials;
mod eval;
mod explain;
mod keygen;
mod load;
mod matrix;
mod minimize;
mod review;
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
    /// Structural and access differences between two policies; exit 1 when access changed.
    Diff(admin::DiffArgs),
    /// Export or import a role x field/action permission matrix (CSV or XLSX).
    #[command(subcommand)]
    Matrix(matrix::Command),
    /// Everyone who can do something, and through what (access review).
    WhoCan(admin::WhoCanArgs),
    /// Run a policy test suite; exit 1 when a case fails.
    Test(admin::TestArgs),
    /// Move (or copy) a leaver's roles, grants, denies and limits (all or some) to a successor.
    Transfer(admin::TransferArgs),
    /// Write a periodic access review sheet (who has which sensitive access, and from where),
    /// or apply a reviewed one (`review apply`).
    Review(review::Args),
    /// Warn about likely mistakes, with JSON paths.
    Lint(admin::LintArgs),
    /// Run the reference policy server and the demo pages.
    #[cfg(feature = "server")]
    Serve(Box<crate::server::Options>),
    /// Named admins of a server's data directory: add (prints a token; with a scope, a
    /// restricted admin), remove, list, transfer (the handover of the admin role).
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Admin(credentials::AdminCommand),
    /// Service credentials of a server's data directory (for the decision API): add, remove,
    /// list.
    #[cfg(feature = "server")]
    #[command(subcommand)]
    Service(credentials::Command),
    /// A consistent copy of a server's data directory, safe while it runs.
    #[cfg(feature = "server")]
    Backup(backup::BackupArgs),
    /// Put a backup back into a data directory, after checking it.
    #[cfg(feature = "server")]
    Restore(backup::RestoreArgs),
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
        Command::Review(a) => review::run(a),
        Command::Lint(a) => admin::lint_run(a),
        #[cfg(feature = "server")]
        Command::Serve(o) => crate::server::run(*o).map(|()| ExitCode::SUCCESS),
        #[cfg(feature = "server")]
        Command::Admin(c) => credentials::run_admin(c),
        #[cfg(feature = "server")]
        Command::Service(c) => credentials::run("service", c),
        #[cfg(feature = "server")]
        Command::Backup(a) => backup::backup_run(a),
        #[cfg(feature = "server")]
        Command::Restore(a) => backup::restore_run(a),
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

/// `--at TIME`: when the question is asked (RFC 3339 with an offset), for dated access;
/// without it, now by this machine's clock.
#[derive(clap::Args, Clone, Copy, Default)]
pub(crate) struct AtArg {
    /// Answer at this time (RFC 3339, e.g. 2027-01-31T23:59:59+08:00); default now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<i64>,
}

impl AtArg {
    /// The time asked about, in Unix ms.
    pub(crate) fn ms(self) -> i64 {
        self.at.unwrap_or_else(crate::host::now_ms)
    }
}

/// An RFC 3339 time with an offset, as Unix ms.
fn parse_time(text: &str) -> Result<i64, String> {
    crate::core::time::parse_rfc3339(text).ok_or_else(|| {
        format!("`{text}` is not an RFC 3339 time with an offset (2027-01-31T23:59:59+08:00)")
    })
}
