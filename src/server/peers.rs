//! What other instances sharing the database change, applied here: their publications become
//! current in this instance too (and are announced on its event streams), their directory
//! changes drop the cached directory. The store tells (PostgreSQL `LISTEN`); after a
//! reconnection everything is looked at again, so a missed announcement only delays.

use super::publish;
use super::state::Shared;
use super::store::Change;
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
                Change::Resync => {
                    catch_up(&state, None).await;
                    state
                        .directories
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .clear();
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
        let done = super::blocking(move || {
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
                publish::install(&s, &app, c.version, c.doc, c.policy);
                let event =
                    serde_json::json!({"type": "published", "app": app, "version": v.version});
                let _ = s.events.send(event.to_string());
            }
            Ok(())
        })
        .await;
        match done {
            Ok(()) => return,
            Err(e) if attempt == 0 => eprintln!("catching up with other instances: {}", e.message),
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
