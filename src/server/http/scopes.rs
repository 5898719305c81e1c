//! Restricted admins (分级管理员) at the server: a change of a policy or a directory is compared
//! with what its admin may change before anything is kept or shown as checked; what lies outside
//! is refused with `out_of_admin_scope`, naming each part and why, and the refusal is audited.
//! Nothing is half-applied: the whole change goes, or none of it.

use crate::admin::admin_scope::{AdminScope, OutOfScope};
use crate::admin::Directory;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::audit;
use crate::server::state::Shared;
use serde_json::{json, Value};

/// What `admin` may change (`None`: everything).
pub async fn scope_of(state: &Shared, admin: &str) -> ApiResult<Option<AdminScope>> {
    let (s, a) = (state.clone(), admin.to_string());
    blocking(move || s.credentials.scope_of(&*s.store, &a)).await
}

/// Refuses `admin` on an app they do not administer.
pub async fn check_app(state: &Shared, admin: &str, app: &str) -> ApiResult<()> {
    match scope_of(state, admin).await? {
        Some(s) if !s.has_app(app) => {
            let changes = [OutOfScope {
                path: format!("apps.{app}"),
                reason: "this admin does not administer the app".into(),
            }];
            refuse(state, admin, app, "app", &changes).await
        }
        _ => Ok(()),
    }
}

/// Refuses a policy document for `app` that changes, from the version in force, what `admin`
/// may not change (`what`: the endpoint, for the audit log).
pub async fn check_policy(
    state: &Shared,
    admin: &str,
    app: &str,
    new: &Value,
    what: &str,
) -> ApiResult<()> {
    let Some((scope, doc)) = restricted(state, admin, app).await? else {
        return Ok(());
    };
    let directory = state.directory(app).await?;
    let people = (!directory.is_empty()).then_some(&*directory);
    let changes = scope.out_of_scope(&doc, new, people);
    refuse(state, admin, app, what, &changes).await
}

/// Refuses a directory for `app` that adds, removes or changes people `admin` may not.
pub async fn check_people(
    state: &Shared,
    admin: &str,
    app: &str,
    new: &Directory,
    what: &str,
) -> ApiResult<()> {
    let Some((scope, doc)) = restricted(state, admin, app).await? else {
        return Ok(());
    };
    let old = state.directory(app).await?;
    let changes = scope.people_out_of_scope(Some(&old), new, &doc);
    refuse(state, admin, app, what, &changes).await
}

/// Refuses moving records between people (`ids`) a restricted admin does not assign: the
/// leaver's records go to the successor only within their departments.
pub async fn check_persons(
    state: &Shared,
    admin: &str,
    app: &str,
    ids: &[&str],
    what: &str,
) -> ApiResult<()> {
    let Some((scope, doc)) = restricted(state, admin, app).await? else {
        return Ok(());
    };
    let directory = state.directory(app).await?;
    let reach = scope.department_reach(&doc);
    let changes: Vec<OutOfScope> = ids
        .iter()
        .filter(|id| {
            let dept = directory.get(id).and_then(|p| p.department.clone());
            reach
                .as_ref()
                .is_some_and(|r| !dept.is_some_and(|d| r.contains(&d)))
        })
        .map(|id| OutOfScope {
            path: format!("records of {id}"),
            reason: "the person is not in this admin's departments".into(),
        })
        .collect();
    refuse(state, admin, app, what, &changes).await
}

/// A restricted admin's scope and the document in force for `app` (`null` before the first
/// version); `None` for an admin who may change everything there. An app they do not
/// administer is refused.
async fn restricted(
    state: &Shared,
    admin: &str,
    app: &str,
) -> ApiResult<Option<(AdminScope, Value)>> {
    check_app(state, admin, app).await?;
    let Some(scope) = scope_of(state, admin).await?.filter(AdminScope::restricted) else {
        return Ok(None);
    };
    let doc = state
        .current(app)
        .map(|c| c.checked.doc().clone())
        .unwrap_or(Value::Null);
    Ok(Some((scope, doc)))
}

/// The audited refusal of `changes` (nothing to refuse: fine).
async fn refuse(
    state: &Shared,
    admin: &str,
    app: &str,
    what: &str,
    changes: &[OutOfScope],
) -> ApiResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let detail = json!({ "changes": changes });
    let e = audit::entry(
        admin,
        "refused",
        what.to_string(),
        Some(app),
        detail.clone(),
    );
    audit::record(state, e).await?;
    let first = changes
        .first()
        .map(|c| format!("{}: {}", c.path, c.reason))
        .unwrap_or_default();
    let more = if changes.len() > 1 {
        format!(" (and {} more)", changes.len() - 1)
    } else {
        String::new()
    };
    Err(ApiError::new(
        ServerCode::OutOfAdminScope,
        format!("this change is not yours to make: {first}{more}; nothing was changed"),
    )
    .with_detail(detail))
}
