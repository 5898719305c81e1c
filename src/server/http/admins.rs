//! The admins themselves, from the console: who is signed in and what they may change, and, for
//! an unrestricted admin, adding an admin with a scope (分级管理员), removing one and handing the
//! admin role over (管理员角色变更). An app always keeps an unrestricted admin (`last_admin`).

use crate::admin::admin_scope::AdminScope;
use crate::server::blocking;
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::http::auth::Admin;
use crate::server::http::body::{Json as Body, SMALL};
use crate::server::http::scopes::scope_of;
use crate::server::services::credentials;
use crate::server::state::Shared;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// `?app=`: the app whose departments a restricted admin's reach is worked out in.
#[derive(Deserialize)]
pub struct MeQuery {
    app: Option<String>,
}

/// `GET /v1/admins/me?app=` (admin): the signed-in admin, what they may change and, with
/// `app`, the departments they reach there (those below theirs included; `null`: all), so the
/// console shows them only what is theirs. The server still checks every change.
pub async fn me(
    Admin(name): Admin,
    State(state): State<Shared>,
    Query(q): Query<MeQuery>,
) -> ApiResult<Json<Value>> {
    let scope = scope_of(&state, &name).await?;
    let restricted = scope.as_ref().is_some_and(AdminScope::restricted);
    let reach = match (&scope, q.app.as_deref().and_then(|a| state.current(a))) {
        (Some(s), Some(c)) => json!(s.department_reach(c.checked.doc())),
        _ => Value::Null,
    };
    let everything = scope.as_ref().is_none_or(AdminScope::is_everything);
    Ok(Json(
        json!({"name": name, "scope": scope, "restricted": restricted, "everything": everything, "departments": reach}),
    ))
}

/// Refuses anyone but an admin of everything: admins are theirs to manage.
async fn unrestricted(state: &Shared, name: &str) -> ApiResult<()> {
    match scope_of(state, name).await? {
        Some(s) if !s.is_everything() => Err(ApiError::new(
            ServerCode::OutOfAdminScope,
            "only an admin of everything manages admins",
        )),
        _ => Ok(()),
    }
}

/// `GET /v1/admins` (unrestricted admin): every admin and what each may change.
pub async fn list(Admin(name): Admin, State(state): State<Shared>) -> ApiResult<Json<Value>> {
    unrestricted(&state, &name).await?;
    let s = state.clone();
    let all = blocking(move || Ok(s.store.credentials()?)).await?;
    let admins: Vec<Value> = all
        .into_iter()
        .filter(|c| c.kind == "admin")
        .map(|c| json!({"name": c.name, "created_at": c.created_at, "scope": c.scope}))
        .collect();
    Ok(Json(json!({ "admins": admins })))
}

/// A new admin.
#[derive(Deserialize)]
pub struct NewAdmin {
    name: String,
    #[serde(default)]
    scope: Option<AdminScope>,
}

/// `POST /v1/admins` (unrestricted admin): a new admin (with a scope: a restricted one); 201
/// with the token, shown once. A name already taken is 409 `conflict`.
pub async fn add(
    Admin(by): Admin,
    State(state): State<Shared>,
    Body(b): Body<NewAdmin, SMALL>,
) -> ApiResult<Response> {
    unrestricted(&state, &by).await?;
    let s = state.clone();
    let token = blocking(move || {
        let taken = s
            .store
            .credentials()?
            .iter()
            .any(|c| c.kind == "admin" && c.name == b.name);
        if taken {
            return Err(ApiError::new(
                ServerCode::Conflict,
                format!("there is an admin `{}` already", b.name),
            ));
        }
        let token = credentials::put(&*s.store, "admin", &b.name, b.scope.clone())
            .map_err(ApiError::bad_request)?;
        s.credentials.forget();
        let detail = json!({"name": b.name, "scope": b.scope});
        let e = crate::server::http::audit::entry(
            &by,
            "admin_add",
            "POST /v1/admins".into(),
            None,
            detail,
        );
        s.store.add_audit(&e)?;
        Ok(json!({"name": b.name, "token": token}))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(token)).into_response())
}

/// `DELETE /v1/admins/{name}` (unrestricted admin): revokes an admin; 409 `last_admin` when it
/// would leave an app without an unrestricted admin.
pub async fn remove(
    Admin(by): Admin,
    State(state): State<Shared>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    unrestricted(&state, &by).await?;
    let s = state.clone();
    let n = name.clone();
    let removed =
        blocking(move || credentials::remove_in(&*s.store, "admin", &n, &by).map_err(refused))
            .await?;
    state.credentials.forget();
    if !removed {
        return Err(ApiError::not_found(format!("no admin `{name}`")));
    }
    Ok(Json(json!({ "removed": name })))
}

/// A handover.
#[derive(Deserialize)]
pub struct Handover {
    from: String,
    to: String,
}

/// `POST /v1/admins/transfer` (unrestricted admin): `to` gets everything `from` could do and
/// `from`'s token stops working; a new `to`'s token is in the answer, shown once.
pub async fn transfer(
    Admin(by): Admin,
    State(state): State<Shared>,
    Body(h): Body<Handover, SMALL>,
) -> ApiResult<Json<Value>> {
    unrestricted(&state, &by).await?;
    let s = state.clone();
    let (from, to) = (h.from.clone(), h.to.clone());
    let token =
        blocking(move || credentials::transfer_in(&*s.store, &from, &to, &by).map_err(refused))
            .await?;
    state.credentials.forget();
    Ok(Json(json!({"from": h.from, "to": h.to, "token": token})))
}

/// A credential service's refusal as an API error: `last_admin` (409) by its code, else 400.
fn refused(message: String) -> ApiError {
    match message.strip_prefix("last_admin: ") {
        Some(m) => ApiError::new(ServerCode::LastAdmin, m),
        None => ApiError::bad_request(message),
    }
}
