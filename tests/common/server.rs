//! A `fieldgate serve` on a free loopback port with its own data directory, and raw HTTP/1.1
//! requests to it (each on a new connection), for the server tests.

use super::{root, temp_dir};
use fieldgate::bundle::{verify, PublicKey, TrustedKeys, VerifiedBundle, VerifyOptions};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Which store a test server keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// SQLite in the data directory.
    Sqlite,
    /// A database of its own in the PostgreSQL cluster `FIELDGATE_TEST_PG_URL` names.
    Postgres,
}

/// A running server.
pub struct Server {
    /// What it printed before it listened (notes at start).
    pub printed: String,
    /// The last MiB of its log (stderr).
    log: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// The process.
    pub child: Child,
    /// `127.0.0.1:<port>`.
    pub addr: String,
    /// Its data directory (with PostgreSQL: where its keys and admin token are kept).
    pub data: PathBuf,
    /// Its PostgreSQL database, if it has one.
    pub database: Option<String>,
}

impl Server {
    /// A server on a fresh directory.
    pub fn start(name: &str) -> Server {
        Server::start_on(Store::Sqlite, name)
    }

    /// A server on a fresh directory (and, with PostgreSQL, a fresh database).
    pub fn start_on(store: Store, name: &str) -> Server {
        let name = match store {
            Store::Sqlite => name.to_string(),
            Store::Postgres => format!("pg-{name}"),
        };
        Server::start_in_on(store, temp_dir(&name), &[])
    }

    /// A server on `dir/data` with extra arguments.
    pub fn start_in(dir: PathBuf, extra: &[&str]) -> Server {
        Server::start_in_on(Store::Sqlite, dir, extra)
    }

    /// A server on `dir/data` (and `dir`'s database) with extra arguments.
    pub fn start_in_on(store: Store, dir: PathBuf, extra: &[&str]) -> Server {
        Server::try_start_in_on(store, dir, extra)
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// A server, or what it printed when it refused to start.
    pub fn try_start_in(dir: PathBuf, extra: &[&str]) -> Result<Server, String> {
        Server::try_start_in_on(Store::Sqlite, dir, extra)
    }

    /// A server, or what it printed when it refused to start.
    pub fn try_start_in_on(store: Store, dir: PathBuf, extra: &[&str]) -> Result<Server, String> {
        let (database, store_args) = match store {
            Store::Sqlite => (None, Vec::new()),
            Store::Postgres => {
                let (url, args) = postgres_for(&dir);
                (Some(url), args)
            }
        };
        Server::spawn(dir, &store_args, database, extra, None)
    }

    /// A server on a fresh directory whose open-file limit (soft and hard) is `open_files`.
    pub fn start_limited(name: &str, open_files: u32, extra: &[&str]) -> Server {
        Server::spawn(super::temp_dir(name), &[], None, extra, Some(open_files))
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// A server on `dir/data` whose `extra` arguments name `database` (from `postgres_in`).
    pub fn start_in_with(dir: PathBuf, extra: &[&str], database: &str) -> Server {
        Server::try_start_in_with(dir, extra, database)
            .unwrap_or_else(|e| panic!("server did not start: {e}"))
    }

    /// As `start_in_with`, or what it printed when it refused to start.
    pub fn try_start_in_with(
        dir: PathBuf,
        extra: &[&str],
        database: &str,
    ) -> Result<Server, String> {
        Server::spawn(dir, &[], Some(database.to_string()), extra, None)
    }

    fn spawn(
        dir: PathBuf,
        store_args: &[String],
        database: Option<String>,
        extra: &[&str],
        open_files: Option<u32>,
    ) -> Result<Server, String> {
        let data = dir.join("data");
        // `FIELDGATE_BIN` runs another build (e.g. an older one, to see a regression test fail).
        let bin = std::env::var("FIELDGATE_BIN").unwrap_or(env!("CARGO_BIN_EXE_fieldgate").into());
        let mut command = match open_files {
            None => Command::new(bin),
            Some(n) => {
                let mut c = Command::new("/bin/sh");
                c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), &bin]);
                c
            }
        };
        let mut printed = String::new();
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(&data)
            .args(store_args)
            .args(extra)
            .current_dir(root())
            .env_remove("FIELDGATE_ADMIN_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn fieldgate serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let mut err = String::new();
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
                let _ = child.wait();
                return Err(err);
            }
            if let Some(rest) = line
                .trim()
                .strip_prefix("fieldgate serve: listening on http://")
            {
                break rest.split(' ').next().unwrap().to_string();
            }
            printed.push_str(&line);
        };
        // Keep draining the server's log so it never blocks on a full pipe; the last MiB is
        // kept for tests that read it.
        let mut err = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                let n = err.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                let mut log = kept.lock().unwrap();
                log.extend_from_slice(&chunk[..n]);
                let over = log.len().saturating_sub(1 << 20);
                log.drain(..over);
            }
        });
        Ok(Server {
            child,
            addr,
            data,
            database,
            printed,
            log,
        })
    }

    /// The CLI arguments that name this server's store (`--data DIR` or `--database URL`).
    pub fn place(&self) -> Vec<String> {
        match &self.database {
            Some(url) => vec!["--database".into(), url.clone()],
            None => vec!["--data".into(), self.data.display().to_string()],
        }
    }

    /// The token of the admin `admin`.
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("admin.token"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// The server's public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_base64(&std::fs::read_to_string(self.data.join("signing.pub")).unwrap())
            .unwrap()
    }

    /// The origin pages of this server have.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Any request.
    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(&self.addr, method, path, headers, body)
    }

    /// An anonymous GET.
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], b"")
    }

    /// A ticket for an admin event stream, from this instance.
    pub fn events_ticket(&self) -> String {
        let r = self.admin("POST", "/v1/admin/events-ticket", &Value::Null);
        r.json()["ticket"].as_str().unwrap().to_string()
    }

    /// An open `/v1/events` stream (with a ticket: the admin one), read line by line after
    /// its status line, which must be 200; reads wait up to 20 s.
    pub fn event_stream(&self, ticket: Option<&str>) -> BufReader<TcpStream> {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let query = ticket.map(|t| format!("?ticket={t}")).unwrap_or_default();
        write!(
            stream,
            "GET /v1/events{query} HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut events = BufReader::new(stream);
        let mut status = String::new();
        events.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        events
    }

    /// Puts people into the admin's draft (`PUT /v1/apps/acme-erp/directory`) and, when that
    /// succeeds, publishes the draft, as an admin does in the console; the PUT's answer.
    pub fn publish_people(&self, body: &[u8]) -> Reply {
        let auth = format!("Bearer {}", self.token());
        let r = self.call(
            "PUT",
            "/v1/apps/acme-erp/directory",
            &[("authorization", &auth)],
            body,
        );
        if r.status == 200 {
            let draft = self
                .admin("GET", "/v1/apps/acme-erp/draft", &Value::Null)
                .json();
            let p = self.admin("POST", "/v1/apps/acme-erp/policy", &draft["document"]);
            assert_eq!(p.status, 201, "{}", p.text());
            let gone = self.admin("DELETE", "/v1/apps/acme-erp/draft", &Value::Null);
            assert_eq!(gone.status, 204);
        }
        r
    }

    /// A request as the admin `admin` (a JSON body unless `null`).
    pub fn admin(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.admin_as(&self.token(), method, path, body)
    }

    /// A request with a bearer token (a JSON body unless `null`).
    pub fn admin_as(&self, token: &str, method: &str, path: &str, body: &Value) -> Reply {
        let auth = format!("Bearer {token}");
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut h = vec![("authorization", auth.as_str())];
        if !body.is_null() {
            h.push(("content-type", "application/json"));
        }
        self.call(method, path, &h, text.as_bytes())
    }

    /// A request as a logged-in person, from the server's own pages (a JSON body unless
    /// `null`).
    pub fn user(&self, cookie: &str, method: &str, path: &str, body: &Value) -> Reply {
        let origin = self.origin();
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut h = vec![("cookie", cookie), ("origin", origin.as_str())];
        if !body.is_null() {
            h.push(("content-type", "application/json"));
        }
        self.call(method, path, &h, text.as_bytes())
    }

    /// Logs in and returns the cookie header value.
    pub fn login(&self, user: &str) -> String {
        let r = self.call(
            "POST",
            "/v1/login",
            &[
                ("content-type", "application/json"),
                ("origin", &self.origin()),
            ],
            json!({"user": user}).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let set = r.header("set-cookie").unwrap();
        set.split(';').next().unwrap().to_string()
    }

    /// Verifies a bundle this server signed.
    pub fn verify(&self, bytes: &[u8], user: Option<&str>) -> VerifiedBundle {
        let keys = TrustedKeys::new(vec![self.public_key()]);
        let mut opts = VerifyOptions::new(&keys, now_ms());
        opts.app = Some("acme-erp");
        opts.subject = user;
        verify(bytes, &opts).expect("a bundle the server signed verifies")
    }

    /// The resident memory of the server process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Server {
    /// The last MiB of what it logged.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// Kills the process with SIGKILL (no chance to finish anything), from any thread.
    pub fn kill_hard(&self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-9", &pid]).status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|| panic!("no HTTP answer from {addr} to {method} {path}"))
}

/// As `request`, or `None` when no whole answer came (refused, reset, timed out): for tests
/// that kill servers on purpose.
pub fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    // A server may answer (413) and close before the whole body is sent: read what came.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    raw.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| parse_reply(&raw))
}

/// Parses a raw HTTP/1.1 answer.
pub fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 4 + n..];
    }
}

/// The sample policy.
pub fn sample_policy() -> Value {
    serde_json::from_slice(&std::fs::read(root().join("examples/acme-erp.policy.json")).unwrap())
        .unwrap()
}

/// The sample with salespeople allowed to edit `credit_limit` on their own customers.
pub fn more_access() -> Value {
    let mut p = sample_policy();
    p["templates"]["customer_owner"][0]["fields"]["credit_limit"] = json!("editable");
    p
}

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// The PostgreSQL cluster of the test run.
pub fn postgres_url() -> String {
    std::env::var("FIELDGATE_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "FIELDGATE_TEST_PG_URL is not set: run `export FIELDGATE_TEST_PG_URL=$(scripts/pg.sh \
             start target/pg)` (scripts/test.sh does)"
        )
    })
}

/// A database for the server of `dir` (made afresh with the directory, kept across its
/// restarts) and the arguments that give the server it, its keys and its admin token, which
/// are written into `dir/data` as a SQLite server would keep them.
pub fn postgres_for(dir: &std::path::Path) -> (String, Vec<String>) {
    postgres_in(&postgres_url(), dir)
}

/// As `postgres_for`, in the cluster at `base` (a URL naming any database of it).
pub fn postgres_in(base: &str, dir: &std::path::Path) -> (String, Vec<String>) {
    use std::hash::{Hash, Hasher};
    let data = dir.join("data");
    let fresh = !data.join("signing.key").exists();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    let name = format!("fg_{:016x}", h.finish());
    let mut admin =
        postgres::Client::connect(base, postgres::NoTls).unwrap_or_else(|e| panic!("{base}: {e}"));
    if fresh {
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        std::fs::create_dir_all(&data).unwrap();
        let key = fieldgate::host::keys::generate().unwrap();
        std::fs::write(data.join("signing.key"), key.to_base64()).unwrap();
        std::fs::write(data.join("signing.pub"), key.public().to_base64()).unwrap();
        std::fs::write(
            data.join("cookie.key"),
            fieldgate::host::keys::random_hex().unwrap(),
        )
        .unwrap();
        std::fs::write(
            data.join("admin.token"),
            fieldgate::host::keys::random_hex().unwrap(),
        )
        .unwrap();
    }
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("FIELDGATE_TEST_PG_URL has no database part: {base}"),
    };
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let args = vec![
        "--database".to_string(),
        url.clone(),
        "--signing-key".to_string(),
        data.join("signing.key").display().to_string(),
        "--cookie-key".to_string(),
        data.join("cookie.key").display().to_string(),
        "--admin-token".to_string(),
        token.trim().to_string(),
    ];
    (url, args)
}
