//! What other instances sharing the database change, applied here: their publications become
//! current in this instance too (and are announced on its event streams), their directory
//! changes drop the cached directory, and their alerts reach this instance's admin streams.
//! The store tells (PostgreSQL `LISTEN`); after a reconnection everything is looked at again,
//! so a missed announcement only delays (a missed alert is in the stored list the page reads).

use crate::host::sync::UnpoisonedRw;
use crate::server::services::publish;
use crate::server::state::Shared;
use crate::server::store::Change;
use std::sync::Arc;
use std::time::Duration;

/// Starts applying the changes the store announces.
pub fn watch(state: &Shared) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    state.store.watch(Arc::new(move |c| {
        let _ = tx.send(c);
    }));
    let state = state.clone();
    tokio::spawn(async move {
        while let Some(change) = rx.recv().await {
            match change {
                Change::Published { app, .. } => catch_up(&state, Some(app)).await,
                Change::Directory { app } => state.forget_directory(&app),
                Change::Alert { at, user, .. } => show_alert(&state, at, user).await,
                Change::Resync => {
                    catch_up(&state, None).await;
                    state.directories.writing().clear();
                }
            }
        }
    });
}

/// Makes the stored current version of `app` (or of every app) current here, if it is newer
/// than what this instance has, and announces it. Retried for a while when the database
/// does not answer.
async fn catch_up(state: &Shared, app: Option<String>) {
    for attempt in 0..20 {
        let s = state.clone();
        let a = app.clone();
        let done = crate::server::blocking(move || {
            let apps = match a {
                Some(a) => vec![a],
                None => s.store.apps()?,
            };
            for app in apps {
                let Some(v) = s.store.current(&app)? else {
                    continue;
                };
                if s.current(&app).is_some_and(|c| c.version >= v.version) {
                    continue;
                }
                let c = publish::compiled_version(&v)?;
                publish::install(&s, &app, c.version, c.checked);
                let event =
                    serde_json::json!({"type": "published", "app": app, "version": v.version});
                let _ = s.events.send(event.to_string());
            }
            Ok(())
        })
        .await;
        match done {
            Ok(()) => return,
            Err(e) if attempt == 0 => {
                tracing::warn!(target: "fieldgate::peers", "catching up with other instances: {}", e.message)
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Pushes the stored alert raised on another instance at `at` for `user` to this instance's
/// admin event streams.
async fn show_alert(state: &Shared, at: i64, user: String) {
    let s = state.clone();
    match crate::server::blocking(move || Ok(s.store.alerts(at, 100)?)).await {
        Ok(alerts) => {
            for a in alerts.iter().filter(|a| a.at == at && a.user == user) {
                let _ = state
                    .admin_events
                    .send(crate::server::services::access_log::alert_event(a));
            }
        }
        Err(e) => {
            tracing::warn!(target: "fieldgate::peers", "alerts of other instances: {}", e.message)
        }
    }
}
