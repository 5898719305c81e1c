//! The admin subcommands: `who-can`, `test`, `transfer`, `lint`. Human output by default,
//! `--json` for tools.

use super::{load, CliResult};
use crate::admin::{lint, run_suite, transfer, who_can, Question};
use crate::core::{FieldState, Mode};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

fn print_json(v: &impl Serialize) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Value, String> {
    serde_json::from_slice(&load::read(path)?)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))
}

/// `fieldgate who-can`: the users and roles that can, for access review.
#[derive(clap::Args)]
pub(crate) struct WhoCanArgs {
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    /// The resource.
    #[arg(long)]
    resource: String,
    /// An action to ask about.
    #[arg(long, conflicts_with_all = ["field", "state"], required_unless_present = "field")]
    action: Option<String>,
    /// A field to ask about (with --state).
    #[arg(long, requires = "state")]
    field: Option<String>,
    /// The lowest state that counts: masked, readonly or editable.
    #[arg(long)]
    state: Option<String>,
    /// The form mode for --field (default: view for readonly and below, else edit).
    #[arg(long)]
    mode: Option<String>,
    /// Print CSV (`kind,name,access`).
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn who_can_run(a: WhoCanArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let q = match (a.action, a.field, a.state) {
        (Some(action), _, _) => Question::Action(action),
        (None, Some(field), Some(state)) => {
            let state: FieldState = state
                .parse()
                .map_err(|()| format!("bad --state `{state}`"))?;
            let default = if state > FieldState::Readonly {
                Mode::Edit
            } else {
                Mode::View
            };
            let mode = a.mode.map_or(Ok(default), |m| {
                m.parse().map_err(|()| format!("bad --mode `{m}`"))
            })?;
            Question::Field { field, state, mode }
        }
        _ => return Err("give --action, or --field with --state".into()),
    };
    let rows = who_can(&policy, &a.resource, &q).map_err(|e| e.to_string())?;
    if a.json {
        print_json(&rows)?;
    } else if a.csv {
        println!("kind,name,access");
        for r in &rows {
            println!(
                "{},{},{}",
                r.kind,
                csv_field(&r.name),
                serde_json::to_value(r.access)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default()
            );
        }
    } else {
        for r in &rows {
            let access = match r.access {
                crate::admin::Access::All => "all records",
                crate::admin::Access::Some => "some records",
            };
            println!("{:4}  {:24}  {access}", r.kind, r.name);
        }
        println!("{} can", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Quotes a CSV field when it needs it.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `fieldgate test POLICY TESTS.json`.
#[derive(clap::Args)]
pub(crate) struct TestArgs {
    /// The policy document.
    policy: PathBuf,
    /// The test suite.
    tests: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn test_run(a: TestArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let report = run_suite(&policy, &read_json(&a.tests)?)?;
    if a.json {
        print_json(&report)?;
    } else {
        for c in &report.cases {
            if c.failures.is_empty() {
                println!("ok    {}", c.name);
            } else {
                println!("FAIL  {}", c.name);
                for f in &c.failures {
                    println!("        {f}");
                }
            }
        }
        println!("{} passed, {} failed", report.passed(), report.failed());
    }
    Ok(if report.failed() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `fieldgate transfer`: move or copy one user's roles, grants and denies to another.
#[derive(clap::Args)]
pub(crate) struct TransferArgs {
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    /// The leaver.
    #[arg(long)]
    from: String,
    /// The successor.
    #[arg(long)]
    to: String,
    /// Copy instead of move: the leaver keeps everything.
    #[arg(long)]
    copy: bool,
    /// Allow a successor not yet in `assignments.users`.
    #[arg(long)]
    new_user: bool,
    /// Where to write the new policy.
    #[arg(long)]
    out: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn transfer_run(a: TransferArgs) -> CliResult {
    let doc = read_json(&a.policy)?;
    match transfer(&doc, &a.from, &a.to, a.copy, a.new_user) {
        Ok((out, report)) => {
            let text = serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?;
            std::fs::write(&a.out, text + "\n")
                .map_err(|e| format!("cannot write `{}`: {e}", a.out.display()))?;
            if a.json {
                print_json(&report)?;
            } else {
                let verb = if a.copy { "copied" } else { "moved" };
                println!("{verb} from {} to {}:", report.from, report.to);
                println!(
                    "  roles:  {}",
                    if report.roles.is_empty() {
                        "(none)".into()
                    } else {
                        report.roles.join(", ")
                    }
                );
                println!("  grants: {}", report.grants.len());
                println!("  denies: {}", report.denies.len());
                println!("  already held by {}: {}", report.to, report.already_had);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("{e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `fieldgate lint POLICY`.
#[derive(clap::Args)]
pub(crate) struct LintArgs {
    /// The policy document.
    policy: PathBuf,
    /// Print the warnings as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn lint_run(a: LintArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let warnings = lint(&read_json(&a.policy)?, &policy);
    if a.json {
        print_json(&warnings)?;
    } else {
        for w in &warnings {
            println!("{}: {}: {}", w.path, w.code, w.message);
        }
        let n = warnings.len();
        println!("{n} warning{}", if n == 1 { "" } else { "s" });
    }
    Ok(ExitCode::SUCCESS)
}

/// `fieldgate diff OLD NEW`: structural changes and access impact. Exit 0 when access is
/// unchanged, 1 when it changed, 2 on error.
#[derive(clap::Args)]
pub(crate) struct DiffArgs {
    /// The old policy or JSON bundle.
    old: PathBuf,
    /// The new policy or JSON bundle.
    new: PathBuf,
    /// Verify bundles against these keys (without it a bundle's payload is read unverified).
    #[arg(long)]
    trust: Vec<String>,
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
}

/// A policy document from a policy file or a JSON bundle's payload.
fn policy_document(
    path: &std::path::Path,
    trust: &[String],
) -> Result<(serde_json::Value, std::sync::Arc<crate::core::Policy>), String> {
    use base64::Engine as _;
    let bytes = load::read(path)?;
    if bytes.starts_with(crate::bundle::MAGIC) {
        return Err(format!(
            "`{}` is a binary bundle; diff reads policies and JSON bundles",
            path.display()
        ));
    }
    let doc = read_json(path)?;
    let doc = match serde_json::from_value::<crate::bundle::Envelope>(doc.clone()) {
        Ok(env) => {
            if !trust.is_empty() {
                let keys = load::trusted_keys(trust, 1)?;
                let opts = crate::bundle::VerifyOptions::new(&keys, super::now_ms());
                crate::bundle::verify(&bytes, &opts)
                    .map_err(|e| format!("`{}` refused: {e}", path.display()))?;
            }
            let payload = base64::engine::general_purpose::STANDARD
                .decode(&env.payload)
                .map_err(|_| format!("`{}`: payload is not base64", path.display()))?;
            serde_json::from_slice(&payload)
                .map_err(|e| format!("`{}`: payload is not JSON: {e}", path.display()))?
        }
        Err(_) => doc,
    };
    let policy = crate::core::Policy::from_value(&doc)
        .map_err(|e| format!("`{}` is not a valid policy:\n{e}", path.display()))?;
    Ok((doc, std::sync::Arc::new(policy)))
}

pub(crate) fn diff_run(a: DiffArgs) -> CliResult {
    let (old_doc, old) = policy_document(&a.old, &a.trust)?;
    let (new_doc, new) = policy_document(&a.new, &a.trust)?;
    let d = crate::admin::diff(&old_doc, &old, &new_doc, &new);
    if a.json {
        print_json(&d)?;
    } else {
        for c in &d.structure {
            let mark = match c.change {
                "added" => '+',
                "removed" => '-',
                _ => '~',
            };
            println!("{mark} {} {}", c.kind.replace('_', " "), c.name);
        }
        for line in grouped_access(&d.access) {
            println!("{line}");
        }
        println!(
            "{} structural changes, {} access changes",
            d.structure.len(),
            d.access.len()
        );
    }
    Ok(if d.access.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Access changes for a person: one line per distinct change (resource, action or field, from,
/// to, modes, record kinds), naming every subject it applies to.
fn grouped_access(changes: &[crate::admin::AccessChange]) -> Vec<String> {
    // First per subject: which modes and record kinds each change covers.
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);
    let mut per_subject: Vec<(Key<'_>, Vec<&str>, Vec<&str>, bool)> = Vec::new();
    for c in changes {
        let (what, mode) = match c.what.rsplit_once(" (") {
            Some((w, m)) => (w, m.trim_end_matches(')')),
            None => (c.what.as_str(), ""),
        };
        let key = (
            c.subject.as_str(),
            c.resource.as_str(),
            what,
            c.from.as_str(),
            c.to.as_str(),
        );
        let at = per_subject
            .iter()
            .position(|g| g.0 == key)
            .unwrap_or_else(|| {
                per_subject.push((key, vec![], vec![], c.direction == "gained"));
                per_subject.len() - 1
            });
        let g = &mut per_subject[at];
        if !mode.is_empty() && !g.1.contains(&mode) {
            g.1.push(mode);
        }
        if !g.2.contains(&c.records) {
            g.2.push(c.records);
        }
    }
    // Then subjects with the very same change share a line.
    let mut lines: Vec<(String, Vec<&str>, bool)> = Vec::new();
    for ((subject, resource, what, from, to), modes, records, gained) in &per_subject {
        let modes = if modes.is_empty() {
            String::new()
        } else {
            format!(" ({})", modes.join(", "))
        };
        let text = format!(
            "{what}{modes} on {resource}: {from} -> {to} [{} records]",
            records.join("/")
        );
        match lines.iter_mut().find(|l| l.0 == text) {
            Some(l) => l.1.push(subject),
            None => lines.push((text, vec![subject], *gained)),
        }
    }
    lines
        .into_iter()
        .map(|(text, subjects, gained)| {
            let verb = match (gained, subjects.len()) {
                (true, 1) => "gains",
                (true, _) => "gain",
                (false, 1) => "loses",
                (false, _) => "lose",
            };
            format!("{} {verb} {text}", subjects.join(", "))
        })
        .collect()
}
