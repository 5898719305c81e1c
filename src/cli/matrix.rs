//! `fieldgate matrix export|import`: permission matrices as CSV (UTF-8 with BOM, so Excel reads
//! Chinese labels right), XLSX (dropdowns, frozen header and role column, notes, a legend) or
//! JSON.

use super::admin::print_json;
use super::load::{self, DirectoryArgs};
use super::CliResult;
use crate::admin::matrix::{import, Matrix};
use crate::host::{sheets, table};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Write a resource's role x field/action matrix (and, with --directory, a read-only row
    /// per person).
    Export(ExportArgs),
    /// Apply an edited matrix; changes nothing when any cell is bad or any edit would change
    /// another cell.
    Import(ImportArgs),
}

/// Matrix file formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Csv,
    Xlsx,
    Json,
}

#[derive(clap::Args)]
pub(crate) struct ExportArgs {
    #[arg(long)]
    policy: PathBuf,
    #[arg(long)]
    resource: String,
    /// One role (repeat for several).
    #[arg(long, required_unless_present = "all_roles")]
    role: Vec<String>,
    /// Every role.
    #[arg(long, conflicts_with = "role")]
    all_roles: bool,
    #[command(flatten)]
    directory: DirectoryArgs,
    #[arg(long, default_value = "csv")]
    format: Format,
    /// Where to write (CSV and JSON default to stdout; XLSX needs a file).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The language of the labels and of where each value comes from: en or zh-CN.
    #[arg(long, default_value = "en")]
    lang: crate::admin::words::Lang,
    /// People's rows as they stand at this time (dated access).
    #[command(flatten)]
    at: super::AtArg,
}

#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    #[arg(long)]
    policy: PathBuf,
    #[arg(long)]
    resource: String,
    /// The edited matrix (CSV or XLSX, told apart by content).
    #[arg(long = "in")]
    input: PathBuf,
    /// The CSV's encoding: auto (UTF-8, else GBK), utf-8 or gbk.
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// Where to write the new policy.
    #[arg(long)]
    out: PathBuf,
    /// Report bad cells as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(c: Command) -> CliResult {
    match c {
        Command::Export(a) => export_run(a),
        Command::Import(a) => import_run(a),
    }
}

fn export_run(a: ExportArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let roles = (!a.all_roles).then_some(a.role.as_slice());
    let directory = a.directory.load(Some(&policy))?;
    let people = directory.as_ref().map(|d| d.people()).unwrap_or_default();
    let m = Matrix::build_in(
        &doc,
        &policy,
        &a.resource,
        roles,
        (people, a.at.ms()),
        a.lang,
    )?;
    let bytes = match a.format {
        Format::Csv => table::write_csv(&m.table()),
        Format::Xlsx => sheets::matrix_workbook(&m)?,
        Format::Json => {
            let text = serde_json::to_string_pretty(&m).map_err(|e| e.to_string())?;
            (text + "\n").into_bytes()
        }
    };
    match (a.out, a.format) {
        (Some(p), _) => {
            std::fs::write(&p, bytes).map_err(|e| format!("cannot write `{}`: {e}", p.display()))?
        }
        (None, Format::Xlsx) => return Err("XLSX needs --out".into()),
        (None, _) => print!("{}", String::from_utf8_lossy(&bytes)),
    }
    Ok(ExitCode::SUCCESS)
}

fn import_run(a: ImportArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let bytes = load::read(&a.input)?;
    let sheets = table::read_any(&bytes, a.encoding.parse()?)?;
    let first = sheets.first().ok_or("the file has no sheet")?;
    let sheet = if table::is_xlsx(&bytes) {
        first.name.as_str()
    } else {
        ""
    };
    match import(&doc, &policy, &a.resource, &first.rows, sheet) {
        Ok(out) => {
            let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
            std::fs::write(&a.out, text + "\n")
                .map_err(|e| format!("cannot write `{}`: {e}", a.out.display()))?;
            let changed = out != doc;
            println!(
                "{} `{}`",
                if changed {
                    "imported into"
                } else {
                    "no cell changed; wrote"
                },
                a.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) if a.json => {
            print_json(&errors)?;
            Ok(ExitCode::from(1))
        }
        Err(errors) => {
            for e in &errors {
                let sheet = if e.sheet.is_empty() {
                    String::new()
                } else {
                    format!("sheet {}, ", e.sheet)
                };
                println!("{sheet}row {}, column {}: {}", e.row, e.column, e.message);
            }
            println!("{} bad cells; nothing was changed", errors.len());
            Ok(ExitCode::from(1))
        }
    }
}
