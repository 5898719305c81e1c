//! The host layer: what the command-line tool and the server both need from the machine they
//! run on, and nothing the pure layers may touch: the clock, randomness and key files, and
//! spreadsheets (CSV in UTF-8 or GBK, XLSX) read and written as tables of cells.
//!
//! Dependencies point inward: `cli` and `server` -> `host` -> `admin`, `bundle`, `core`.

pub mod clock;
pub mod keys;
pub mod sheets;
pub mod sync;
pub mod table;
/// TLS for the server's connections out (only the server makes any).
#[cfg(feature = "server")]
pub mod tls;

pub use clock::{now_ms, Deadline};
