//! What the handlers ask for, below HTTP: publishing (check, sign, store, install), the access
//! log writer and its alerts, credentials, limits, metrics, the publish directory's files,
//! other instances' changes, and backups. Each reads and writes through the store; `publish`
//! and `peers` also keep the app state's caches current.

pub mod access_log;
pub mod backup;
pub mod credentials;
pub mod files;
pub mod limits;
pub mod metrics;
pub mod peers;
pub mod publish;
