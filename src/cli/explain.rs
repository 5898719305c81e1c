//! `fieldgate explain`: one request, explained for a person.

use super::{load, CliResult};
use crate::core::{Explanation, Input};
use serde_json::Value;
use std::fmt::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The policy document.
    #[arg(long)]
    policy: PathBuf,
    #[command(flatten)]
    subject: load::SubjectArgs,
    /// The action.
    #[arg(long)]
    action: String,
    /// The resource.
    #[arg(long)]
    resource: String,
    /// The record, as JSON.
    #[arg(long)]
    record: Option<String>,
    /// The context, as JSON.
    #[arg(long)]
    context: Option<String>,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
    /// The language of the words: en or zh-CN.
    #[arg(long, default_value = "en")]
    lang: crate::admin::words::Lang,
    #[command(flatten)]
    at: super::AtArg,
}

pub(crate) fn run(a: Args) -> CliResult {
    let checked = load::checked_policy(&a.policy)?;
    let policy = checked.policy();
    let parse = |s: &Option<String>, what: &str| -> Result<Option<Value>, String> {
        s.as_deref()
            .map(|t| serde_json::from_str(t).map_err(|e| format!("bad {what} JSON: {e}")))
            .transpose()
    };
    let record = parse(&a.record, "record")?;
    let context = parse(&a.context, "context")?;
    let subject = a.subject.into_subject();
    let session = policy.session_at(&subject, a.at.ms());
    let e = session
        .explain(
            &a.action,
            &a.resource,
            Input::json(record.as_ref(), context.as_ref()),
        )
        .map_err(|e| e.to_string())?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&e).map_err(|e| e.to_string())?
        );
    } else {
        print!(
            "{}",
            render(&subject.id, &session.roles(), &e, record.is_some())
        );
        // A transition or a step of the record's flow: where the person stands, in words.
        let flow = policy.workflow(&a.resource);
        let name = a.action.split(':').next().unwrap_or_default();
        if let (Some(w), Some(r)) = (flow, &record) {
            let answers = session
                .transitions(&a.resource, r, context.as_ref())
                .map_err(|e| e.to_string())?;
            if let Some(t) = answers.iter().find(|t| t.transition == name) {
                let doc = checked.doc();
                let labels = crate::admin::words::Labels::new(a.lang, doc, doc, []);
                println!("flow: {}", labels.transition(&a.resource, t, w.state(r)));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The explanation as text for a person.
pub(crate) fn render(user: &str, roles: &[&str], e: &Explanation, has_record: bool) -> String {
    let mut s = String::new();
    let target = if has_record {
        "this record"
    } else {
        "some record"
    };
    let verdict = match e.reason {
        crate::core::Reason::Allowed => "ALLOWED".to_string(),
        crate::core::Reason::NoGrant => "DENIED: no grant gives this action".to_string(),
        crate::core::Reason::DeniedByRule => {
            format!("DENIED: forbidden by rule {}", e.denied_by.join(", "))
        }
        crate::core::Reason::Stale => "DENIED: the policy is stale (only view)".to_string(),
    };
    let _ = writeln!(
        s,
        "{user} {} {} on {target}: {verdict}",
        e.action, e.resource
    );
    let _ = writeln!(
        s,
        "effective roles: {}",
        if roles.is_empty() {
            "(none)".into()
        } else {
            roles.join(", ")
        }
    );
    let _ = writeln!(s, "grants:");
    if e.grants.is_empty() {
        let _ = writeln!(s, "  (none on {})", e.resource);
    }
    for g in &e.grants {
        let via = if g.via_roles.is_empty() {
            String::new()
        } else {
            format!(" via {}", g.via_roles.join(", "))
        };
        let applies = if g.applies {
            "applies"
        } else {
            "does not apply"
        };
        let lists = if g.lists_action {
            "lists"
        } else {
            "does not list"
        };
        let _ = writeln!(
            s,
            "  {} ({} {}{via}{}): {applies}, {lists} {}",
            g.id,
            g.source,
            g.name,
            until(g.until.as_deref()),
            e.action
        );
    }
    let _ = writeln!(s, "rules:");
    if e.rules.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for r in &e.rules {
        let applies = if r.applies {
            "applies"
        } else {
            "does not apply"
        };
        let _ = writeln!(
            s,
            "  {} ({}{}): {applies}",
            r.id,
            r.effect,
            until(r.until.as_deref())
        );
    }
    let _ = writeln!(s, "fields ({}):", e.mode.as_str());
    let width = e.fields.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &e.fields {
        let set = f
            .set_by
            .as_deref()
            .map_or("no grant".to_string(), |g| format!("set by {g}"));
        let cap = f.capped_by.as_deref().map_or(String::new(), |r| {
            format!(", capped from {} by {r}", f.granted)
        });
        let _ = writeln!(s, "  {:width$}  {:8}  {set}{cap}", f.name, f.state.as_str());
    }
    s
}

/// ", until 2027-01-31" for a dated entry (the day of its last moment, UTC).
fn until(time: Option<&str>) -> String {
    time.map_or(String::new(), |t| {
        format!(", until {}", t.get(..10).unwrap_or(t))
    })
}
