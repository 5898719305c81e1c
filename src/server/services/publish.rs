//! Publishing and serving policy versions: validate, diff, number, sign, store, make current;
//! signed bundles (whole or minimized for one user) cached until the next publication.
//!
//! The access diff is computed before the store is touched, with a deadline, so a slow diff
//! never holds the database; the store then checks in one transaction that the version the
//! publication was based on is still current, and a publication that lost that race is made
//! again on the new current version (or refused with 409 when the caller named its base).

use crate::admin::words::Lang;
use crate::admin::{diff_people, Diff, Directory, Limits};
use crate::bundle::{sign_checked, Encoding, SecretKey, SignOptions};
use crate::core::{minimize, valid_app_name, Checked, Subject};
use crate::host::sync::{Unpoisoned, UnpoisonedRw};
use crate::server::error::{ApiError, ApiResult, ServerCode};
use crate::server::state::{AppState, BundleKey, Current, Served};
use crate::server::store::{AuditEntry, Lock, NewVersion, PublishError, Reassign, Version};
use axum::http::HeaderValue;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// How many times a publication is made again after losing a race to another one.
const RETRIES: usize = 8;

/// A checked candidate version: its document, compiled policy and diff against the current one.
pub struct Candidate {
    /// The document stamped with its version, and its compiled policy.
    pub checked: Checked,
    /// Against the current version (empty for the first).
    pub diff: Diff,
}

impl Candidate {
    /// The stored summary: counts, one line per effect (in English and Chinese), and a
    /// headline in both: what the admin changed, for the history.
    pub fn summary(&self) -> Value {
        let (en, zh) = (self.diff.impact(Lang::En), self.diff.impact(Lang::Zh));
        let lines = |i: &crate::admin::Impact| -> Vec<String> {
            i.groups
                .iter()
                .flat_map(|g| g.lines.iter().map(|l| l.text.clone()))
                .collect()
        };
        let headline = |i: &crate::admin::Impact, lang: Lang| {
            let causes: Vec<String> = i.groups.iter().map(|g| g.text.clone()).collect();
            let text = if causes.is_empty() {
                lang.pick("No access changes", "权限没有变化").to_string()
            } else {
                causes.join(lang.pick("; ", "；"))
            };
            shorten(&text, HEADLINE_CHARS)
        };
        json!({
            "structural_changes": self.diff.structure.len(),
            "access_changes": self.diff.access.len(),
            "lines": lines(&en),
            "lines_zh": lines(&zh),
            "headline": {"en": headline(&en, Lang::En), "zh-CN": headline(&zh, Lang::Zh)},
        })
    }

    /// The diff as the API shows it: summary lines (with everyone each is about), structure
    /// and access changes.
    pub fn diff_json(&self, lang: Lang) -> Value {
        diff_json(&self.diff, lang)
    }
}

/// How long a version's headline may be, in characters.
const HEADLINE_CHARS: usize = 200;

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// A diff as the API shows it, in `lang`: `impact` (by cause, then by person), `lines` (every
/// group's lines), `summary` (their texts), `flow_changes` (what changed in approval flows, in
/// words), and the structural and access changes they are made from.
pub fn diff_json(d: &Diff, lang: Lang) -> Value {
    let impact = d.impact(lang);
    let lines: Vec<&crate::admin::Line> = impact.groups.iter().flat_map(|g| &g.lines).collect();
    json!({
        "lang": lang.tag(),
        "summary": lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        "lines": lines,
        "impact": impact,
        "flow_changes": d.flow_words(lang),
        "structure": d.structure,
        "access": d.access,
    })
}

/// 422 `bad_app` unless `app` is a usable name.
///
/// # Errors
/// `bad_app`.
pub fn check_app(app: &str) -> ApiResult<()> {
    if valid_app_name(app) {
        Ok(())
    } else {
        Err(ApiError::new(
            ServerCode::BadApp,
            format!("`{app}` is not an app name: use [a-z0-9][a-z0-9-]{{0,63}}"),
        ))
    }
}

/// The diff between two versions for the app's people (`people`: as they are, and as they
/// will be), within the server's limits.
///
/// # Errors
/// 422 `diff_too_large`.
pub fn access_diff(
    state: &AppState,
    old: &Current,
    new: &Checked,
    people: [Option<&Directory>; 2],
) -> ApiResult<Diff> {
    let deadline = crate::host::Deadline::after(state.options.diff_deadline.into());
    let limits = Limits {
        max_changes: state.options.diff_max_changes,
        expired: &|| deadline.passed(),
        at: Some(crate::host::now_ms()),
    };
    diff_people(&old.checked, new, people, &limits)
        .map_err(|e| ApiError::new(ServerCode::DiffTooLarge, e.message))
}

/// Validates `doc` as version `n` of `app` and diffs it against `current`.
///
/// # Errors
/// 422 `bad_policy` with every mistake's JSON path; 422 `wrong_app`, `wrong_type`,
/// `diff_too_large`.
pub fn check(
    state: &AppState,
    app: &str,
    mut doc: Value,
    n: u64,
    current: Option<&Current>,
    people: [Option<&Directory>; 2],
) -> ApiResult<Candidate> {
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| ApiError::new(ServerCode::WrongType, "the policy must be a JSON object"))?;
    if let Some(other) = obj.get("app").and_then(Value::as_str).filter(|a| *a != app) {
        return Err(ApiError::new(
            ServerCode::WrongApp,
            format!("the policy is for app `{other}`, not `{app}`"),
        ));
    }
    obj.insert("version".into(), Value::from(n));
    let checked = Checked::from_value(doc).map_err(|e| ApiError::bad_policy(&e))?;
    let diff = match current {
        Some(c) => access_diff(state, c, &checked, people)?,
        None => Diff::default(),
    };
    Ok(Candidate { checked, diff })
}

/// What to publish.
pub struct Publication {
    /// The policy document.
    pub doc: Value,
    /// Who publishes.
    pub by: String,
    /// The version it was made from: with `Some`, publishing fails with 409 `conflict` when
    /// the current version is another (`If-Match`); with `None`, it is made on whatever is
    /// current.
    pub base: Option<u64>,
    /// Records to move with it.
    pub reassign: Option<Reassign>,
    /// What else to know, e.g. `rollback to 3`.
    pub note: Option<String>,
    /// The people to publish with it, when they change (a directory waiting in the draft, or
    /// the one a rollback returns to).
    pub directory: Option<Arc<Directory>>,
    /// For the audit log: its kind (`publish`, `rollback`) and the request.
    pub kind: &'static str,
    /// The request that published, e.g. `POST /v1/apps/acme-erp/policy`.
    pub endpoint: String,
}

/// Publishes the next version of `app`: checked and diffed off the store's lock, stored in one
/// transaction, then made current in memory, written to `--publish-dir` and announced.
///
/// # Errors
/// What [`check`] reports, 409 `conflict` when the named base is not current, or 500/503 when
/// the store fails (nothing is published then).
pub fn publish(
    state: &AppState,
    app: &str,
    p: Publication,
    directory: Option<&Directory>,
    now_ms: i64,
) -> ApiResult<Version> {
    check_app(app)?;
    // One publication at a time in this process, and of this app across the instances sharing
    // the store (which still checks the base); data reads never wait on it.
    let _one = state.publishing.locked();
    let mut result = None;
    state.store.exclusively(Lock::Publishing(app), &mut || {
        result = Some(publish_now(state, app, &p, directory, now_ms));
    })?;
    let done = result.unwrap_or_else(|| Err(ApiError::internal("the publication did not run")));
    if done.is_ok() {
        crate::server::services::metrics::published();
    }
    done
}

/// `publish` holding the locks.
fn publish_now(
    state: &AppState,
    app: &str,
    p: &Publication,
    directory: Option<&Directory>,
    now_ms: i64,
) -> ApiResult<Version> {
    for _ in 0..RETRIES {
        let stored = state.store.current(app)?;
        // The version installed in memory is the stored one, compiled: it is compiled again
        // only when another instance's publication has not reached this one yet.
        let current = match (&stored, state.current(app)) {
            (Some(v), Some(c)) if c.version == v.version => Some(c),
            (Some(v), _) => Some(Arc::new(compiled_version(v)?)),
            (None, _) => None,
        };
        let base = current.as_ref().map(|c| c.version);
        if let Some(want) = p.base.filter(|b| Some(*b) != base) {
            return Err(conflict(want, base));
        }
        let n = state.store.last_version(app)?.map_or(1, |v| v + 1);
        let people = [directory, p.directory.as_deref().or(directory)];
        let c = check(state, app, p.doc.clone(), n, current.as_deref(), people)?;
        // Who moved where, for the audit log: the directory's changes.
        let moved: Vec<&crate::admin::StructuralChange> = c
            .diff
            .structure
            .iter()
            .filter(|s| s.kind == "directory")
            .collect();
        let bundle = sign_doc(state, &c.checked, None, Encoding::Json, now_ms)?;
        // The summary in both languages, made once for the version and its audit entry.
        let summary = c.summary();
        let new = NewVersion {
            version: n,
            document: c.checked.doc().to_string(),
            bundle: String::from_utf8(bundle).map_err(ApiError::internal)?,
            summary: summary.clone(),
            by: p.by.clone(),
            at: now_ms,
            reassign: p.reassign.clone(),
            note: p.note.clone(),
            directory: p.directory.as_ref().map(|d| d.to_json()),
            audit: AuditEntry {
                id: 0,
                at: now_ms,
                actor: p.by.clone(),
                kind: p.kind.to_string(),
                endpoint: p.endpoint.clone(),
                app: Some(app.to_string()),
                detail: json!({"note": p.note, "summary": summary, "directory": moved}),
            },
        };
        match state.store.publish(app, base, new) {
            Ok(version) => {
                if version.directory_changed {
                    state.forget_directory(app);
                }
                install(state, app, version.version, c.checked);
                write_files(state, &version);
                let event = json!({"type": "published", "app": app, "version": version.version});
                let _ = state.events.send(event.to_string());
                return Ok(version);
            }
            Err(PublishError::Moved { current }) => {
                if let Some(want) = p.base {
                    return Err(conflict(want, current));
                }
            }
            Err(PublishError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        ServerCode::Conflict,
        "other publications kept landing first; try again",
    ))
}

fn conflict(base: u64, current: Option<u64>) -> ApiError {
    ApiError::new(
        ServerCode::Conflict,
        format!(
            "the draft was made from version {base}, but version {} is current now: review \
             their changes and rebase",
            current.map_or("none".to_string(), |c| c.to_string())
        ),
    )
    .with_detail(json!({"base": base, "current": current}))
}

/// Writes a new version's bundle to `--publish-dir`, one writer at a time, so `latest.json`
/// only ever moves forward.
fn write_files(state: &AppState, v: &Version) {
    let Some(dir) = &state.options.publish_dir else {
        return;
    };
    let _one = state.publish_files.locked();
    if let Err(e) = crate::server::services::files::write_version(dir, v) {
        tracing::warn!(target: "fieldgate::publish", "publish-dir: {e} (repaired at next start)");
    }
}

/// Signs each app's current version again, into `--publish-dir`, once half its bundle's life
/// has passed (any instance may: the pointer only moves to a later signing).
pub fn refresh_files(state: &AppState, now_ms: i64) {
    let Some(dir) = &state.options.publish_dir else {
        return;
    };
    let current: Vec<(String, Arc<Current>)> = {
        let map = state.current.reading();
        map.iter().map(|(a, c)| (a.clone(), c.clone())).collect()
    };
    for (app, c) in current {
        let fresh = crate::server::services::files::latest_issued(dir, &app)
            .is_some_and(|(v, at)| v > c.version || now_ms - at < state.bundle_ttl_ms / 2);
        if fresh {
            continue;
        }
        let _one = state.publish_files.locked();
        let written = sign_doc(state, &c.checked, None, Encoding::Json, now_ms)
            .map_err(|e| e.message)
            .and_then(|b| {
                crate::server::services::files::write_resigned(dir, &app, c.version, now_ms, &b)
                    .map_err(String::from)
            });
        if let Err(e) = written {
            tracing::warn!(target: "fieldgate::publish", "publish-dir: re-signing {app} v{}: {e}", c.version);
        }
    }
}

/// A stored version, compiled.
///
/// # Errors
/// 500 when the stored document does not compile (the store was tampered with).
pub fn compiled_version(v: &Version) -> ApiResult<Current> {
    let checked = Checked::from_slice(v.document.as_bytes()).map_err(ApiError::internal)?;
    Ok(Current {
        version: v.version,
        checked,
    })
}

/// Checks that a stored version's bundle was signed by one of `keys`: a server given a key
/// that is not the one its database's bundles were signed with is refused at start.
///
/// # Errors
/// A message naming the key ids.
pub fn check_signed_by(v: &Version, keys: &[crate::bundle::PublicKey]) -> Result<(), String> {
    let trusted = crate::bundle::TrustedKeys::new(keys.to_vec());
    let mut opts = crate::bundle::VerifyOptions::new(&trusted, crate::host::now_ms());
    opts.skew_ms = i64::MAX / 4;
    crate::bundle::verify(v.bundle.as_bytes(), &opts)
        .map(|_| ())
        .map_err(|e| {
            let ids: Vec<&str> = keys.iter().map(|k| k.id()).collect();
            format!(
                "{} v{}: its stored bundle does not verify with this server's keys (key ids \
                 {}): {e}; the signing key is not the one that signed it (after a rotation, \
                 name the old public key with --retired-key)",
                v.app,
                v.version,
                ids.join(", ")
            )
        })
}

/// Makes a compiled version current in memory (unless a newer one already is) and drops
/// bundles signed for older ones.
pub fn install(state: &AppState, app: &str, version: u64, checked: Checked) {
    let mut current = state.current.writing();
    if current.get(app).is_some_and(|c| c.version > version) {
        return;
    }
    current.insert(app.to_string(), Arc::new(Current { version, checked }));
    drop(current);
    state.bundles.writing().retain(|(a, _, _), _| a != app);
}

/// The current bundle of `app` (minimized for `subject` when given), signed on first request
/// and again when half its lifetime has passed.
///
/// # Errors
/// 404 `unknown_app`, or 500 when signing fails.
pub fn bundle(
    state: &AppState,
    app: &str,
    subject: Option<&Subject>,
    encoding: Encoding,
    now_ms: i64,
) -> ApiResult<Arc<Served>> {
    let current = state.current(app).ok_or_else(|| unknown_app(app))?;
    let key: BundleKey = (app.to_string(), subject.map(|s| s.id.clone()), encoding);
    if let Some(s) = state.bundles.reading().get(&key).filter(|s| {
        s.version == current.version && now_ms < s.refresh_at_ms && s.subject.as_ref() == subject
    }) {
        return Ok(s.clone());
    }
    let minimized;
    // A person's bundle expires by their first dated entry to end (signing sees to it), so
    // the copy kept here is made again by then too.
    let refresh_at_ms = subject
        .and_then(|s| current.policy().earliest_until(s, now_ms))
        .map_or(now_ms + state.bundle_ttl_ms / 2, |u| {
            u.min(now_ms + state.bundle_ttl_ms / 2)
        });
    let checked = match subject {
        Some(s) => {
            let doc = minimize(current.doc(), current.policy(), s);
            minimized = Checked::from_value(doc).map_err(ApiError::internal)?;
            &minimized
        }
        None => &current.checked,
    };
    let bytes = sign_doc(
        state,
        checked,
        subject.map(|s| s.id.clone()),
        encoding,
        now_ms,
    )?;
    let served = Arc::new(Served {
        version: current.version,
        etag: etag(&bytes),
        bytes: bytes.into(),
        refresh_at_ms,
        subject: subject.cloned(),
    });
    state.bundles.writing().insert(key, served.clone());
    Ok(served)
}

/// 404 `unknown_app`.
pub fn unknown_app(app: &str) -> ApiError {
    ApiError::new(
        ServerCode::UnknownApp,
        format!("no policy is published for app `{app}`"),
    )
}

/// A strong ETag: a hash of the bytes.
pub fn etag(bytes: &[u8]) -> HeaderValue {
    let hex = crate::host::keys::hex(&Sha256::digest(bytes)[..16]);
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

fn sign_doc(
    state: &AppState,
    checked: &Checked,
    subject: Option<String>,
    encoding: Encoding,
    now_ms: i64,
) -> ApiResult<Vec<u8>> {
    let opts = SignOptions {
        version: None,
        issued_at_ms: now_ms,
        expires_at_ms: now_ms + state.bundle_ttl_ms,
        subject,
        encoding,
    };
    let keys: Vec<&SecretKey> = std::iter::once(&state.key).chain(&state.next_key).collect();
    sign_checked(checked, &keys, &opts).map_err(ApiError::internal)
}
