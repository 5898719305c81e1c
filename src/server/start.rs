//! Starting a server: its store (SQLite in the data directory, or a PostgreSQL database other
//! instances share), its keys, the admin credential, the first start's sample data, and
//! listening for what other instances change.

use crate::bundle::{PublicKey, SecretKey};
use crate::server::services::files;
use crate::server::services::publish;
use crate::server::services::{access_log, limits, peers};
use crate::server::state::{AppState, Shared};
use crate::server::store::{
    self, Lock, PostgresStore, SqliteStore, Store, StoreError, VersionStore,
};
use crate::server::Options;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// A store with the keys that go with it.
struct Opened {
    store: Arc<dyn Store>,
    key: SecretKey,
    cookie_key: Vec<u8>,
    /// Where the admin token is kept when none is given (the data directory's `admin.token`;
    /// none on a shared database: tokens are never made per instance).
    admin_file: Option<PathBuf>,
}

fn fail(e: StoreError) -> String {
    e.to_string()
}

/// Opens the store and loads everything the server needs. Returns the state and lines to
/// print (the admin token on first start).
///
/// # Errors
/// A message when the store or the keys cannot be used, the admin token is empty, or the data
/// directory had data but its database is missing or damaged.
pub fn open(opts: &Options) -> Result<(Shared, Vec<String>), String> {
    if let Some(url) = &opts.alert_webhook {
        access_log::check_webhook(url, opts.alert_webhook_ca.as_deref())
            .map_err(|e| format!("--alert-webhook `{url}`: {e}"))?;
    }
    let mut notes = Vec::new();
    let opened = match &opts.database {
        Some(url) => shared(opts, url)?,
        None => local(opts)?,
    };
    let next_key = files::given_key(
        opts.next_signing_key.as_deref(),
        "FIELDGATE_NEXT_SIGNING_KEY",
    )?
    .map(|t| signing_key(&t))
    .transpose()?;
    // The keys stored versions may carry: this instance's, and those retired by a rotation.
    let mut signed_here: Vec<PublicKey> = [Some(&opened.key), next_key.as_ref()]
        .into_iter()
        .flatten()
        .map(SecretKey::public)
        .collect();
    for file in &opts.retired_key {
        let text = files::given_key(Some(file), "")?.unwrap_or_default();
        let key = PublicKey::from_base64(&text)
            .map_err(|e| format!("the retired key `{}`: {e}", file.display()))?;
        signed_here.push(key);
    }
    for app in opened.store.apps().map_err(fail)? {
        if let Some(v) = opened.store.current(&app).map_err(fail)? {
            publish::check_signed_by(&v, &signed_here)?;
        }
    }
    admin(opts, &opened, &mut notes)?;
    let state = state(opts, opened, next_key);
    let mut seeded = Ok(());
    state
        .store
        .exclusively(Lock::FirstStart, &mut || {
            seeded = crate::server::demo::sample::seed(&state, &mut notes);
        })
        .map_err(fail)?;
    seeded?;
    for app in state.store.apps().map_err(fail)? {
        if let Some(v) = state.store.current(&app).map_err(fail)? {
            let c = publish::compiled_version(&v).map_err(|e| e.message)?;
            publish::install(&state, &app, c.version, c.checked);
        }
    }
    if let Some(pd) = &opts.publish_dir {
        for app in state.store.apps().map_err(fail)? {
            // Newest first: every missing bundle, then `latest.json` once.
            let versions = state.store.versions(&app).map_err(fail)?;
            for v in &versions {
                files::write_bundle(pd, v)?;
            }
            if let Some(newest) = versions.first() {
                files::write_latest(pd, newest)?;
            }
        }
    }
    peers::watch(&state);
    if opts.publish_dir.is_some() {
        // A quarter of a bundle's life between looks: re-signed by half of it, at the latest.
        let every = std::time::Duration::from_millis(
            u64::try_from(state.bundle_ttl_ms / 4)
                .unwrap_or(0)
                .clamp(100, 600_000),
        );
        let s = state.clone();
        std::thread::spawn(move || loop {
            publish::refresh_files(&s, crate::host::now_ms());
            std::thread::sleep(every);
        });
    }
    Ok((state, notes))
}

/// The data directory's SQLite database and keys (made on first start), checked to belong
/// together.
fn local(opts: &Options) -> Result<Opened, String> {
    let dir = &opts.data;
    files::private_dir(dir)?;
    let db = dir.join("fieldgate.db");
    let had_data = dir.join("signing.key").exists() || opts.signing_key.is_some();
    if !had_data && db.exists() {
        let store = SqliteStore::open(&db, false).map_err(fail)?;
        if !store.apps().map_err(fail)?.is_empty() {
            return Err(format!(
                "`{}` holds published versions but no signing key (signing.key): put the key \
                 that signed them back (a restore without --include-keys leaves it out); a \
                 server never makes a new one over existing data",
                dir.display()
            ));
        }
    }
    if had_data && !db.exists() && opts.signing_key.is_none() {
        return Err(format!(
            "`{}` has keys but no database (fieldgate.db is missing): restore it with \
             `fieldgate restore`, or start on an empty directory",
            dir.display()
        ));
    }
    let store = SqliteStore::open(&db, true).map_err(fail)?;
    files::private_file(&db)?;
    if had_data && opts.signing_key.is_none() && store.apps().map_err(fail)?.is_empty() {
        return Err(format!(
            "`{}` has keys but its database holds no published version: it is not the \
             database this directory had; restore it with `fieldgate restore`",
            db.display()
        ));
    }
    check_app_names(&store)?;
    let key = match files::given_key(opts.signing_key.as_deref(), "FIELDGATE_SIGNING_KEY")? {
        Some(text) => signing_key(&text)?,
        None => crate::host::keys::data_dir_key(dir)?,
    };
    let cookie_key = match files::given_key(opts.cookie_key.as_deref(), "FIELDGATE_COOKIE_KEY")? {
        Some(text) => text.into_bytes(),
        None => crate::host::keys::secret(&dir.join("cookie.key"), crate::host::keys::random_hex)?
            .0
            .into_bytes(),
    };
    Ok(Opened {
        store: Arc::new(store),
        key,
        cookie_key,
        admin_file: Some(dir.join("admin.token")),
    })
}

/// A PostgreSQL database other instances share: its keys must be given, the same to every
/// instance; an instance never makes its own.
fn shared(opts: &Options, url: &str) -> Result<Opened, String> {
    let missing = |what: &str, flag: &str, env: &str| {
        format!(
            "no {what}: with --database every instance needs the same one, from {flag} FILE or \
             {env}; an instance never makes its own on a shared database"
        )
    };
    let key_text = files::given_key(opts.signing_key.as_deref(), "FIELDGATE_SIGNING_KEY")?
        .ok_or_else(|| missing("signing key", "--signing-key", "FIELDGATE_SIGNING_KEY"))?;
    let cookie = files::given_key(opts.cookie_key.as_deref(), "FIELDGATE_COOKIE_KEY")?
        .ok_or_else(|| missing("cookie key", "--cookie-key", "FIELDGATE_COOKIE_KEY"))?;
    let store = PostgresStore::connect(url).map_err(fail)?;
    check_app_names(&store)?;
    Ok(Opened {
        store: Arc::new(store),
        key: signing_key(&key_text)?,
        cookie_key: cookie.into_bytes(),
        admin_file: None,
    })
}

fn signing_key(text: &str) -> Result<SecretKey, String> {
    SecretKey::from_base64(text).map_err(|e| format!("the signing key: {e}"))
}

fn check_app_names(store: &dyn Store) -> Result<(), String> {
    let apps = store.apps().map_err(fail)?;
    let bad: Vec<&String> = apps
        .iter()
        .filter(|a| !crate::core::valid_app_name(a))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the database holds apps whose names are not [a-z0-9][a-z0-9-]{{0,63}}: {bad:?}"
        ))
    }
}

/// The admin `admin`: `--admin-token` (or `FIELDGATE_ADMIN_TOKEN`), else the data
/// directory's `admin.token` (made and printed on first start). On a shared database with
/// neither, the admins already stored are the only ones.
fn admin(opts: &Options, opened: &Opened, notes: &mut Vec<String>) -> Result<(), String> {
    let token = match (&opts.admin_token, &opened.admin_file) {
        (Some(t), _) => t.trim().to_string(),
        (None, Some(path)) => {
            let (token, created) = crate::host::keys::secret(path, crate::host::keys::random_hex)?;
            if created {
                notes.push(format!("admin token (also in {}): {token}", path.display()));
            }
            token
        }
        (None, None) => {
            let admins = opened.store.credentials().map_err(fail)?;
            if !admins.iter().any(|c| c.kind == "admin") {
                notes.push(
                    "no admin yet: start with --admin-token, or add one with \
                     `fieldgate admin add NAME --database URL`"
                        .into(),
                );
            }
            return Ok(());
        }
    };
    if token.is_empty() {
        return Err(
            "the admin token is empty: give a non-empty --admin-token (or remove the empty \
             admin.token file to have one made)"
                .into(),
        );
    }
    opened
        .store
        .put_credential(&store::Credential {
            name: "admin".into(),
            kind: "admin".into(),
            token_hash: crate::server::services::credentials::token_hash(&token),
            created_at: crate::host::now_ms(),
            scope: None,
        })
        .map_err(fail)
}

fn state(opts: &Options, o: Opened, next_key: Option<SecretKey>) -> Shared {
    let (tx, _) = tokio::sync::broadcast::channel(64);
    let (admin_tx, _) = tokio::sync::broadcast::channel(64);
    let ms = |d: humantime::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
    let rules = access_log::AlertRules {
        refusals: opts.alert_refusals.max(1),
        window_ms: ms(opts.alert_window),
        webhook: opts.alert_webhook.clone(),
        webhook_ca: opts.alert_webhook_ca.clone(),
    };
    let access = access_log::AccessLog::start(
        o.store.clone(),
        access_log::Retention {
            access_ms: ms(opts.access_retention),
            decisions_ms: ms(opts.decision_retention),
        },
        rules,
    );
    Arc::new(AppState {
        store: o.store,
        access,
        admin_events: admin_tx,
        key: o.key,
        next_key,
        cookie_key: o.cookie_key,
        options: opts.clone(),
        bundle_ttl_ms: ms(opts.bundle_ttl),
        current: RwLock::new(HashMap::new()),
        bundles: RwLock::new(HashMap::new()),
        directories: RwLock::new(HashMap::new()),
        credentials: crate::server::services::credentials::Credentials::default(),
        streams: Arc::new(limits::Counter::default()),
        decision_rate: limits::RateLimiter::new(opts.decision_rate, opts.decision_burst),
        publish_files: Mutex::new(()),
        publishing: Mutex::new(()),
        events: tx,
        pinned: Mutex::new(Vec::new()),
        tickets: Mutex::new(HashMap::new()),
        stopping: tokio::sync::watch::Sender::new(false),
    })
}
