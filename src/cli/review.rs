//! `fieldgate review`: the periodic access review sheet, and `fieldgate review apply`, which
//! turns its revocations into a policy change.

use super::admin::print_json;
use super::load::{self, DirectoryArgs};
use super::CliResult;
use crate::admin::review::{self, Coverage, Line, COLUMNS};
use crate::host::table::{self, Sheet};
use std::path::PathBuf;
use std::process::ExitCode;

/// `fieldgate review --policy P --directory D ... --out F`, or `fieldgate review apply`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct Args {
    #[command(subcommand)]
    apply: Option<Command>,
    #[command(flatten)]
    write: WriteArgs,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Turn the lines marked `revoke` into the smallest policy change that removes exactly
    /// that access; refuse lines that cannot be removed without affecting other people.
    Apply(ApplyArgs),
}

/// Review sheet formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Csv,
    Xlsx,
    Json,
}

#[derive(clap::Args)]
struct WriteArgs {
    /// The policy document.
    #[arg(long, required = true)]
    policy: Option<PathBuf>,
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Review one resource (default: every resource).
    #[arg(long)]
    resource: Option<String>,
    /// The fields to review (default: every field with a mask).
    #[arg(long, num_args = 1..)]
    sensitive: Vec<String>,
    /// An action to review (repeat; default: the export-like ones).
    #[arg(long)]
    action: Vec<String>,
    /// The sheet's format.
    #[arg(long, default_value = "csv")]
    format: Format,
    /// Where to write the sheet.
    #[arg(long, required = true)]
    out: Option<PathBuf>,
    #[command(flatten)]
    at: super::AtArg,
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// The policy the review was made of.
    #[arg(long)]
    policy: PathBuf,
    /// The reviewed sheet (CSV, XLSX or JSON).
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the changed policy.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: Args) -> CliResult {
    match a.apply {
        Some(Command::Apply(x)) => apply_run(x),
        None => write_run(a.write),
    }
}

#[expect(
    clippy::cast_possible_truncation,
    reason = "`decision` is a position in the eleven COLUMNS"
)]
fn write_run(a: WriteArgs) -> CliResult {
    let (Some(path), Some(out)) = (a.policy, a.out) else {
        return Err("give --policy, --directory and --out".into());
    };
    let checked = load::checked_policy(&path)?;
    let directory = a
        .directory
        .load(Some(checked.policy()))?
        .ok_or("a review needs --directory (the people to review)")?;
    let coverage = Coverage {
        resource: a.resource,
        sensitive: a.sensitive,
        actions: a.action,
        at: a.at.ms(),
    };
    let lines = review::review(&checked, &directory, &coverage)?;
    let mut rows = vec![COLUMNS.iter().map(|c| c.to_string()).collect::<Vec<_>>()];
    rows.extend(lines.iter().map(Line::cells));
    let bytes = match a.format {
        Format::Csv => table::write_csv(&rows),
        Format::Json => serde_json::to_vec_pretty(&lines).map_err(|e| e.to_string())?,
        Format::Xlsx => {
            let n = rows.len().saturating_sub(1) as u32;
            let decision = COLUMNS.iter().position(|c| *c == "decision").unwrap_or(9) as u16;
            table::write_xlsx(&[Sheet {
                name: "review".into(),
                rows,
                freeze: (1, 1),
                lists: if n > 0 {
                    vec![(
                        1,
                        decision,
                        n,
                        decision,
                        vec!["keep".into(), "revoke".into()],
                    )]
                } else {
                    Vec::new()
                },
                widths: vec![
                    12.0, 14.0, 14.0, 14.0, 20.0, 12.0, 12.0, 40.0, 30.0, 10.0, 30.0,
                ],
                ..Sheet::default()
            }])?
        }
    };
    std::fs::write(&out, bytes).map_err(|e| format!("cannot write `{}`: {e}", out.display()))?;
    println!(
        "{} lines for {} people in `{}`",
        lines.len(),
        directory.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn apply_run(a: ApplyArgs) -> CliResult {
    let checked = load::checked_policy(&a.policy)?;
    let directory = a.directory.load(Some(checked.policy()))?;
    let bytes = load::read(&a.input)?;
    let lines: Vec<Line> = if bytes.trim_ascii_start().starts_with(b"[") {
        let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let rows: Vec<Vec<String>> =
            std::iter::once(COLUMNS.iter().map(|c| c.to_string()).collect())
                .chain(v.as_array().into_iter().flatten().map(|l| {
                    COLUMNS
                        .iter()
                        .map(|c| {
                            l.get(c)
                                .and_then(|x| x.as_str())
                                .unwrap_or_default()
                                .to_string()
                        })
                        .collect()
                }))
                .collect();
        review::lines_from_table(&rows)?
    } else {
        let sheets = table::read_any(&bytes, table::Encoding::Auto)?;
        review::lines_from_table(&sheets.first().ok_or("the file has no sheet")?.rows)?
    };
    match review::apply(&checked, &lines, directory.as_ref()) {
        Ok((out, applied)) => {
            let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
            std::fs::write(&a.out, text + "\n")
                .map_err(|e| format!("cannot write `{}`: {e}", a.out.display()))?;
            if a.json {
                print_json(&applied)?;
            } else {
                for c in &applied.changes {
                    println!("{c}");
                }
                println!("{} revoked, {} kept", applied.revoked, applied.kept);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(refusals) => {
            if a.json {
                print_json(&refusals)?;
            } else {
                for r in &refusals {
                    println!("line {} ({} {}): {}", r.line, r.person, r.item, r.message);
                }
                println!("{} lines refused; nothing was changed", refusals.len());
            }
            Ok(ExitCode::from(1))
        }
    }
}
