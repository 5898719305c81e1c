//! Throwaway PostgreSQL clusters of a test's own (scripts/pg.sh), for tests that stop and
//! start the database.

use std::process::Command;

/// `scripts/pg.sh <command> <dir>` (with `PG_TLS=1` for a cluster that takes TCP only over
/// TLS); what it printed.
pub fn pg_sh(command: &str, dir: &std::path::Path, tls: bool) -> String {
    let out = Command::new(super::root().join("scripts/pg.sh"))
        .args([command, dir.to_str().unwrap()])
        .env("PG_TLS", if tls { "1" } else { "" })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A cluster of this test's own, so stopping it stops nobody else's database.
pub struct Cluster {
    dir: std::path::PathBuf,
}

impl Cluster {
    pub fn start(dir: &std::path::Path) -> (Cluster, String) {
        Cluster::start_with(dir, false)
    }

    pub fn start_with(dir: &std::path::Path, tls: bool) -> (Cluster, String) {
        let url = pg_sh("start", dir, tls);
        (
            Cluster {
                dir: dir.to_path_buf(),
            },
            url,
        )
    }

    pub fn stop(&self) {
        pg_sh("stop", &self.dir, false);
    }

    pub fn restart(&self) {
        pg_sh("start", &self.dir, false);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
