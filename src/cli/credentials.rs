//! `fieldgate admin add|remove|list` and `fieldgate service add|remove|list`: named admin and
//! service credentials in a data directory (or the shared database of `--database`). A token
//! is printed once; only its hash is kept, and a running server stops honouring a removed one
//! within a second.

use super::CliResult;
use crate::admin::admin_scope::AdminScope;
use crate::server::credentials;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub(crate) enum Command {
    /// Make a credential and print its token.
    Add(Named),
    /// Revoke a credential.
    Remove(Named),
    /// List the credentials.
    List(Data),
}

/// `fieldgate admin …`: service commands, plus an admin's scope and the handover.
#[derive(clap::Subcommand)]
pub(crate) enum AdminCommand {
    /// Make an admin and print their token; with any of --departments, --roles, --resources or
    /// --can-edit-roles a restricted admin (分级管理员), who may change only role assignments of
    /// their departments' people to their roles and, with --can-edit-roles, their roles' grants
    /// on their resources.
    Add(AdminAdd),
    /// Revoke an admin (never the last unrestricted admin of an app: `last_admin`).
    Remove(Named),
    /// List the admins and what each may change.
    List(Data),
    /// Hand the admin role over (管理员角色变更): TO gets everything FROM could do, and FROM's
    /// token stops working. A new TO's token is printed.
    Transfer(Handover),
}

#[derive(clap::Args)]
pub(crate) struct AdminAdd {
    #[command(flatten)]
    named: Named,
    /// The apps they administer (default: every app).
    #[arg(long, num_args = 1..)]
    apps: Option<Vec<String>>,
    /// The departments whose people (and those below) they assign.
    #[arg(long, num_args = 1..)]
    departments: Option<Vec<String>>,
    /// The roles they give and take.
    #[arg(long, num_args = 1..)]
    roles: Option<Vec<String>>,
    /// The resources whose grants they may change (with --can-edit-roles).
    #[arg(long, num_args = 1..)]
    resources: Option<Vec<String>>,
    /// They may change the grants of their roles on their resources.
    #[arg(long)]
    can_edit_roles: bool,
}

#[derive(clap::Args)]
pub(crate) struct Handover {
    /// The admin handing over.
    from: String,
    /// The admin taking over (made when there is none of that name).
    to: String,
    #[command(flatten)]
    data: Data,
}

/// Who changes credentials from the command line, for the audit log.
const CLI: &str = "cli";

/// Runs `fieldgate admin …`.
pub(crate) fn run_admin(c: AdminCommand) -> CliResult {
    match c {
        AdminCommand::Add(a) => {
            let scope = AdminScope {
                apps: a.apps,
                departments: a.departments,
                roles: a.roles,
                resources: a.resources,
                can_edit_roles: a.can_edit_roles,
            };
            added("admin", &a.named, Some(scope))
        }
        AdminCommand::Remove(n) => run("admin", Command::Remove(n)),
        AdminCommand::List(d) => {
            for (name, at, scope) in credentials::list(&d.place(), "admin")? {
                let what = scope.map_or_else(|| "everything".to_string(), |s| scope_words(&s));
                println!("{name}\t{}\t{what}", crate::bundle::format_rfc3339(at));
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Transfer(h) => {
            match credentials::transfer(&h.data.place(), &h.from, &h.to, CLI)? {
                Some(token) => {
                    println!("{token}");
                    eprintln!("admin `{}` made with everything `{}` could do; keep the token: it is not shown again; `{}`'s token no longer works", h.to, h.from, h.from);
                }
                None => eprintln!(
                    "admin `{}` now has everything `{}` could do; `{}`'s token no longer works",
                    h.to, h.from, h.from
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A scope in words, for `admin list`.
fn scope_words(s: &AdminScope) -> String {
    let list =
        |what: &str, v: &Option<Vec<String>>| v.as_ref().map(|v| format!("{what} {}", v.join(",")));
    let parts: Vec<String> = [
        list("apps", &s.apps),
        list("departments", &s.departments),
        list("roles", &s.roles),
        list("resources", &s.resources),
        s.can_edit_roles.then(|| "can edit roles".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if s.restricted() {
        format!("restricted: {}", parts.join("; "))
    } else {
        format!("everything in {}", parts.join("; "))
    }
}

fn added(kind: &str, n: &Named, scope: Option<AdminScope>) -> CliResult {
    let token = credentials::add(&n.data.place(), kind, &n.name, scope)?;
    println!("{token}");
    eprintln!(
        "{kind} `{}` added; keep the token: it is not shown again",
        n.name
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub(crate) struct Named {
    /// Its name.
    name: String,
    #[command(flatten)]
    data: Data,
}

#[derive(clap::Args)]
pub(crate) struct Data {
    /// The server's data directory.
    #[arg(long, default_value = "fieldgate-data")]
    data: PathBuf,
    /// The servers' shared PostgreSQL database instead (`postgres://…`).
    #[arg(long, env = "FIELDGATE_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
}

impl Data {
    fn place(&self) -> credentials::Place<'_> {
        credentials::Place {
            data: &self.data,
            database: self.database.as_deref(),
        }
    }
}

/// Runs a credential command for `kind` (`admin` or `service`).
pub(crate) fn run(kind: &str, c: Command) -> CliResult {
    match c {
        Command::Add(n) => added(kind, &n, None),
        Command::Remove(n) => {
            if credentials::remove(&n.data.place(), kind, &n.name, CLI)? {
                println!("{kind} `{}` removed", n.name);
                Ok(ExitCode::SUCCESS)
            } else {
                println!("no {kind} `{}`", n.name);
                Ok(ExitCode::from(1))
            }
        }
        Command::List(d) => {
            for (name, at, _) in credentials::list(&d.place(), kind)? {
                println!("{name}\t{}", crate::bundle::format_rfc3339(at));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
