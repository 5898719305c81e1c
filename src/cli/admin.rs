//! The admin subcommands: `diff`, `who-can`, `test`, `transfer`, `lint`. Human output by
//! default, `--json` for tools.

use super::load::{self, DirectoryArgs};
use super::CliResult;
use crate::admin::{lint, run_suite, transfer, who_can, Limits, Question, Selection, Transfer};
use crate::core::{FieldState, Mode};
use crate::host::table;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) fn print_json(v: &impl Serialize) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).map_err(|e| e.to_string())?
    );
    Ok(())
}

pub(crate) fn read_json(path: &std::path::Path) -> Result<serde_json::Value, String> {
    serde_json::from_slice(&load::read(path)?)
        .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))
}

/// `fieldgate who-can`: everyone who can, and through what, for access review.
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
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Print CSV (`kind,name,access,via`).
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// The language of the words (a flow's transition or step said in its place): en or zh-CN.
    #[arg(long, default_value = "en")]
    lang: crate::admin::words::Lang,
    #[command(flatten)]
    at: super::AtArg,
}

pub(crate) fn who_can_run(a: WhoCanArgs) -> CliResult {
    let checked = load::checked_policy(&a.policy)?;
    let policy = checked.policy().clone();
    let directory = a.directory.load(Some(&policy))?;
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
    let rows = who_can(&policy, &a.resource, &q, directory.as_ref(), a.at.ms())
        .map_err(|e| e.to_string())?;
    if a.json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let via = |r: &crate::admin::WhoCan| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in r.via.iter().map(|s| source_text(s, r.kind == "role")) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    };
    let access = |r: &crate::admin::WhoCan| match r.access {
        crate::admin::Access::All => "all",
        crate::admin::Access::Some => "some",
    };
    if a.csv {
        let mut t = vec![vec![
            "kind".into(),
            "name".into(),
            "access".into(),
            "via".into(),
        ]];
        for r in &rows {
            t.push(vec![
                r.kind.into(),
                r.name.clone(),
                access(r).into(),
                via(r).join("; "),
            ]);
        }
        let bytes = table::write_csv(&t);
        print!(
            "{}",
            String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
        );
    } else {
        if let Question::Action(action) = &q {
            let doc = checked.doc();
            let labels = crate::admin::words::Labels::new(a.lang, doc, doc, []);
            if let Some(place) = crate::admin::flow_place(doc, &labels, &a.resource, action) {
                println!("flow: {place}");
            }
        }
        for r in &rows {
            let records = format!("{} records", access(r));
            println!(
                "{:10}  {:24}  {records:12}  {}",
                r.kind,
                r.name,
                via(r).join("; ")
            );
        }
        println!("{} can", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// A source in words: `template customer_owner in role sales (department sales-east) [own]`; a
/// role stand-in holds its role by definition, so how is left out.
fn source_text(s: &crate::admin::Source, stand_in: bool) -> String {
    use crate::core::RoleVia;
    let scope = s.scope.as_str();
    // A dated way of having it says when it ends (the day, UTC).
    let until = s.until.as_deref().map_or(String::new(), |u| {
        format!(" until {}", u.get(..10).unwrap_or(u))
    });
    let holder = match s.holder {
        "template" => format!("template {} in ", s.name),
        "user" => return format!("personal grant [{scope}]{until}"),
        _ => String::new(),
    };
    let how = match &s.through {
        Some(RoleVia::Department(d)) => format!(" (department {d})"),
        Some(RoleVia::Group(g)) => format!(" (group {g})"),
        Some(RoleVia::Inherited(by)) => format!(" (inherited by {by})"),
        Some(RoleVia::Subject) if !stand_in => " (from the directory)".into(),
        Some(RoleVia::Subject | RoleVia::User) | None => String::new(),
    };
    format!(
        "{holder}role {}{how} [{scope}]{until}",
        s.role.as_deref().unwrap_or("?")
    )
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
    /// Subjects given by id alone are these people (with their reporting line).
    #[command(flatten)]
    directory: DirectoryArgs,
    /// The time of every case without its own `"now"`.
    #[command(flatten)]
    at: super::AtArg,
}

pub(crate) fn test_run(a: TestArgs) -> CliResult {
    let policy = load::valid_policy(&a.policy)?;
    let directory = a.directory.load(Some(&policy))?;
    let report = run_suite(
        &policy,
        &read_json(&a.tests)?,
        directory.as_ref(),
        a.at.ms(),
    )?;
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

/// `fieldgate transfer`: move or copy a leaver's roles, grants, denies and limits (all, or a
/// chosen part) to a successor.
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
    /// With --copy: the stand-in holds what is copied until this time (RFC 3339, e.g.
    /// 2027-01-31T23:59:59+08:00).
    #[arg(long, requires = "copy")]
    until: Option<String>,
    /// Allow a successor in neither `assignments.users` nor the directory.
    #[arg(long)]
    new_user: bool,
    /// Move only these roles (names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    roles: Option<Vec<String>>,
    /// Move only these personal grants (positions from 0, or ids).
    #[arg(long, value_delimiter = ',')]
    grants: Option<Vec<String>>,
    /// Move only these personal denies (positions from 0, or ids).
    #[arg(long, value_delimiter = ',')]
    denies: Option<Vec<String>>,
    /// Move only these personal field limits (positions from 0, or ids).
    #[arg(long, value_delimiter = ',')]
    limits: Option<Vec<String>>,
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Where to write the new policy.
    #[arg(long)]
    out: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn transfer_run(a: TransferArgs) -> CliResult {
    let doc = read_json(&a.policy)?;
    let policy = crate::core::Policy::from_value(&doc).ok();
    let directory = a.directory.load(policy.as_ref())?;
    // Choosing some lists moves only what is chosen; lists not named then stay.
    let partial =
        a.roles.is_some() || a.grants.is_some() || a.denies.is_some() || a.limits.is_some();
    let pick = |v: Option<Vec<String>>| {
        if partial {
            Some(v.unwrap_or_default())
        } else {
            None
        }
    };
    let t = Transfer {
        from: a.from.clone(),
        to: a.to.clone(),
        copy: a.copy,
        until: a.until.clone(),
        new_successor: a.new_user,
        selection: Selection {
            roles: pick(a.roles),
            grants: pick(a.grants),
            denies: pick(a.denies),
            limits: pick(a.limits),
        },
    };
    match transfer(&doc, &t, directory.as_ref()) {
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
                println!("  limits: {}", report.limits.len());
                println!("  already held by {}: {}", report.to, report.already_had);
                if report.kept > 0 {
                    println!("  not chosen, kept by {}: {}", report.from, report.kept);
                }
                for n in &report.not_moved {
                    println!("  not moved (held through the organisation): {n}");
                }
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
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Judge dated access at this time.
    #[command(flatten)]
    at: super::AtArg,
    /// How far ahead an end counts as soon (`expires_soon`), e.g. 14d, 30d.
    #[arg(long, default_value = "14d")]
    within: humantime::Duration,
}

pub(crate) fn lint_run(a: LintArgs) -> CliResult {
    let checked = load::checked_policy(&a.policy)?;
    let directory = a.directory.load(Some(checked.policy()))?;
    let within_ms = i64::try_from(a.within.as_millis()).map_err(|_| "--within is too long")?;
    let horizon = crate::admin::Horizon {
        now: a.at.ms(),
        within_ms,
    };
    let warnings = lint(&checked, directory.as_ref(), horizon);
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
    #[command(flatten)]
    directory: DirectoryArgs,
    /// Give up after this many seconds (`diff_too_large`).
    #[arg(long, default_value_t = 60)]
    deadline: u64,
    /// Give up past this many access changes (`diff_too_large`).
    #[arg(long, default_value_t = 200_000)]
    max_changes: usize,
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
    /// The language of the summary: zh-CN or en.
    #[arg(long, default_value = "en")]
    lang: crate::admin::words::Lang,
    /// The directory after the change (`--directory` is the one before): people moved,
    /// added, removed or given roles are diffed with the policy change.
    #[arg(long)]
    new_directory: Option<PathBuf>,
    /// Compare access at this time: dated entries count inside their dates.
    #[command(flatten)]
    at: super::AtArg,
}

/// A policy document from a policy file or a JSON bundle's payload.
fn policy_document(
    path: &std::path::Path,
    trust: &[String],
) -> Result<crate::core::Checked, String> {
    let bytes = load::read(path)?;
    if bytes.starts_with(crate::bundle::MAGIC) {
        return Err(format!(
            "`{}` is a binary bundle; diff reads policies and JSON bundles",
            path.display()
        ));
    }
    let doc = read_json(path)?;
    let doc = match serde_json::from_value::<crate::bundle::Envelope>(doc.clone()) {
        Ok(_) => {
            if !trust.is_empty() {
                let keys = load::trusted_keys(trust, 1)?;
                let opts = crate::bundle::VerifyOptions::new(&keys, crate::host::now_ms());
                crate::bundle::verify(&bytes, &opts)
                    .map_err(|e| format!("`{}` refused: {e}", path.display()))?;
            }
            let payload = crate::bundle::unverified_body(&bytes)
                .map_err(|e| format!("`{}`: {e}", path.display()))?;
            serde_json::from_slice(&payload)
                .map_err(|e| format!("`{}`: payload is not JSON: {e}", path.display()))?
        }
        Err(_) => doc,
    };
    crate::core::Checked::from_value(doc)
        .map_err(|e| format!("`{}` is not a valid policy:\n{e}", path.display()))
}

pub(crate) fn diff_run(a: DiffArgs) -> CliResult {
    let old = policy_document(&a.old, &a.trust)?;
    let new = policy_document(&a.new, &a.trust)?;
    let directory = a.directory.load(Some(new.policy()))?;
    let after = match &a.new_directory {
        Some(path) => a.directory.load_from(Some(path), Some(new.policy()))?,
        None => directory.clone(),
    };
    let deadline = crate::host::Deadline::after(std::time::Duration::from_secs(a.deadline));
    let limits = Limits {
        max_changes: a.max_changes,
        expired: &|| deadline.passed(),
        at: Some(a.at.ms()),
    };
    let people = [directory.as_ref(), after.as_ref()];
    let d = crate::admin::diff_people(&old, &new, people, &limits).map_err(|e| e.to_string())?;
    let impact = d.impact(a.lang);
    if a.json {
        print_json(&serde_json::json!({
            "structure": d.structure,
            "access": d.access,
            "impact": impact,
        }))?;
    } else {
        let l = a.lang;
        for c in &d.structure {
            let mark = match c.change {
                "added" => '+',
                "removed" => '-',
                _ => '~',
            };
            println!(
                "{mark} {} {}",
                crate::admin::words::entry_kind(c.kind, l),
                c.name
            );
        }
        for line in d.flow_words(l) {
            println!("  {line}");
        }
        for g in &impact.groups {
            println!("{} ({})", g.text, g.counts);
            for line in &g.lines {
                println!("  {}", line.text);
            }
        }
        match l {
            crate::admin::words::Lang::En => println!(
                "{} structural changes, {} access changes",
                d.structure.len(),
                d.access.len()
            ),
            crate::admin::words::Lang::Zh => println!(
                "{} 处结构变化，{} 条访问变化",
                d.structure.len(),
                d.access.len()
            ),
        }
    }
    Ok(if d.access.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
