//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    reason = "each test crate uses a part of the shared helpers"
)]

pub mod cluster;
pub mod gen;
pub mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary directory under the target dir, removed and recreated.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = root().join("target").join("test-tmp").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `fieldgate` binary with `args` and `stdin`.
pub fn fieldgate(args: &[&str], stdin: &str) -> Output {
    // `FIELDGATE_BIN` runs another build (e.g. an older one, to see a regression test fail).
    let bin = std::env::var("FIELDGATE_BIN").unwrap_or(env!("CARGO_BIN_EXE_fieldgate").into());
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn fieldgate");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The sample policy's path.
pub fn sample_policy() -> PathBuf {
    root().join("examples/acme-erp.policy.json")
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A workbook of one sheet with text cells at `(row, col)`, written sparsely (what a crafted
/// upload looks like).
pub fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (r, c, text) in cells {
        ws.write_string(*r, *c, *text).unwrap();
    }
    book.save_to_buffer().unwrap()
}
