//! `fieldgate matrix export|import`: permission matrices as CSV (UTF-8 with BOM, so Excel reads
//! Chinese labels right) or XLSX.

use super::{load, CliResult};
use crate::admin::matrix::{export, import};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Write a resource's role x field/action matrix.
    Export(ExportArgs),
    /// Apply an edited matrix; changes nothing when any cell is bad.
    Import(ImportArgs),
}

/// Spreadsheet formats.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Csv,
    Xlsx,
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
    #[arg(long, default_value = "csv")]
    format: Format,
    /// Where to write (CSV defaults to stdout; XLSX needs a file).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
pub(crate) struct ImportArgs {
    #[arg(long)]
    policy: PathBuf,
    #[arg(long)]
    resource: String,
    /// The edited matrix.
    #[arg(long = "in")]
    input: PathBuf,
    /// Default: from the file name (`.xlsx`, else CSV).
    #[arg(long)]
    format: Option<Format>,
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
    let table = labelled_table(&doc, &policy, &a.resource, roles)?;
    let bytes = match a.format {
        Format::Csv => to_csv(&table)?,
        Format::Xlsx => to_xlsx(&table, &a.resource)?,
    };
    match (a.out, a.format) {
        (Some(p), _) => {
            std::fs::write(&p, bytes).map_err(|e| format!("cannot write `{}`: {e}", p.display()))?
        }
        (None, Format::Csv) => print!("{}", String::from_utf8_lossy(&bytes)),
        (None, Format::Xlsx) => return Err("XLSX needs --out".into()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The matrix with a `#label` row under the header (what both the CLI and the server export).
pub(crate) fn labelled_table(
    doc: &serde_json::Value,
    policy: &crate::core::Policy,
    resource: &str,
    roles: Option<&[String]>,
) -> Result<Vec<Vec<String>>, String> {
    let mut table = export(doc, policy, resource, roles)?;
    let labels: Vec<String> = std::iter::once("#label".to_string())
        .chain(table[0].iter().skip(1).map(|h| label(doc, resource, h)))
        .collect();
    table.insert(1, labels);
    Ok(table)
}

/// The label of a `field:` column (or the header itself).
fn label(doc: &serde_json::Value, resource: &str, header: &str) -> String {
    header
        .strip_prefix("field:")
        .and_then(|f| {
            doc.get("resources")?
                .get(resource)?
                .get("fields")?
                .get(f)?
                .get("label")?
                .as_str()
        })
        .unwrap_or(header)
        .to_string()
}

fn import_run(a: ImportArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let doc: serde_json::Value =
        serde_json::from_slice(&load::read(&a.policy)?).map_err(|e| e.to_string())?;
    let bytes = load::read(&a.input)?;
    let xlsx = a.format.map_or_else(
        || {
            a.input
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
        },
        |f| f == Format::Xlsx,
    );
    let table = if xlsx {
        from_xlsx(&bytes)?
    } else {
        from_csv(&bytes)?
    };
    match import(&doc, &policy, &a.resource, &table) {
        Ok(out) => {
            let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
            std::fs::write(&a.out, text + "\n")
                .map_err(|e| format!("cannot write `{}`: {e}", a.out.display()))?;
            println!(
                "imported {} rows into `{}`",
                table
                    .iter()
                    .skip(1)
                    .filter(|r| !r.first().is_some_and(|c| c.starts_with('#')))
                    .count(),
                a.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) if a.json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&errors).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::from(1))
        }
        Err(errors) => {
            for e in &errors {
                println!("row {}, column {}: {}", e.row, e.column, e.message);
            }
            println!("{} bad cells; nothing was changed", errors.len());
            Ok(ExitCode::from(1))
        }
    }
}

pub(crate) fn to_csv(table: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in table {
        w.write_record(row).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

pub(crate) fn from_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    r.records()
        .map(|rec| {
            rec.map(|r| r.iter().map(String::from).collect())
                .map_err(|e| format!("bad CSV: {e}"))
        })
        .collect()
}

fn to_xlsx(table: &[Vec<String>], sheet: &str) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet.chars().take(31).collect::<String>())
        .map_err(|e| e.to_string())?;
    for (r, row) in table.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, cell)
                .map_err(|e| e.to_string())?;
        }
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

fn from_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, String> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec()))
            .map_err(|e| format!("bad XLSX: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| format!("bad XLSX: {e}"))?;
    Ok(range
        .rows()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect())
}
