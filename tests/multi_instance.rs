//! Two `fieldgate serve` instances on one PostgreSQL database: a publication on one reaches the
//! other's bundle endpoint and event stream within a second; concurrent publishers on both get
//! consecutive versions with nothing lost and `latest.json` never moving backwards; an
//! instance killed while publishing loses nothing acknowledged; and with the database stopped
//! the instances answer 503 with a JSON error, keep serving their current bundle, and recover
//! by themselves.

mod common;

use common::cluster::Cluster;
use common::server::{more_access, request, Server, Store};
use common::temp_dir;
use serde_json::{json, Value};
use std::io::Read;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Two instances on the database of `dir`, both with `extra`.
fn pair(dir: &std::path::Path, extra: &[&str]) -> (Server, Server) {
    let a = Server::start_in_on(Store::Postgres, dir.to_path_buf(), extra);
    let b = Server::start_in_on(Store::Postgres, dir.to_path_buf(), extra);
    (a, b)
}

fn publish(s: &Server, tag: &str) -> common::server::Reply {
    let mut p = more_access();
    p["x-tag"] = json!(tag);
    s.admin("POST", "/v1/apps/acme-erp/policy", &p)
}

fn served_version(s: &Server) -> Option<u64> {
    s.admin("GET", "/v1/apps/acme-erp/bundle", &Value::Null)
        .header("x-fieldgate-version")
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_publication_on_one_instance_reaches_the_other_within_a_second() {
    let dir = temp_dir("multi-visible");
    let (a, b) = pair(&dir, &[]);
    assert_eq!(served_version(&b), Some(1));
    // B's event stream, open before the publication.
    let mut stream = TcpStream::connect(&b.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    std::io::Write::write_all(
        &mut stream,
        b"GET /v1/events HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let published = Instant::now();
    assert_eq!(publish(&a, "on-a").status, 201);
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("\"version\":2") {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "B's stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let on_stream = published.elapsed();
    loop {
        if served_version(&b) == Some(2) {
            break;
        }
        assert!(
            published.elapsed() < Duration::from_secs(1),
            "B still serves an older bundle"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        on_stream < Duration::from_secs(1),
        "B announced it after {on_stream:?}"
    );
    // Directory changes too (published with a version): B forgets its cached directory.
    let csv = "id,name,department,groups,roles\nu-new,New Person,sales,,sales\n";
    let put = a.publish_people(csv.as_bytes());
    assert_eq!(put.status, 200, "{}", put.text());
    let start = Instant::now();
    loop {
        let check = b.admin(
            "POST",
            "/v1/apps/acme-erp/check",
            &json!({"subject": {"id": "u-new"}, "requests": [{"action": "view", "resource": "customer"}]}),
        );
        if check.status == 200 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "B never saw u-new: {}",
            check.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `alert` events a stream shows within `wait` of the last one, as their data lines.
fn alerts_on(events: &mut std::io::BufReader<TcpStream>, wait: Duration) -> Vec<String> {
    use std::io::BufRead;
    events.get_ref().set_read_timeout(Some(wait)).unwrap();
    let (mut alerts, mut line, mut named) = (Vec::new(), String::new(), false);
    while events.read_line(&mut line).is_ok_and(|n| n > 0) {
        if named && line.starts_with("data:") {
            alerts.push(line.clone());
        }
        named = line.starts_with("event: alert") || (named && !line.starts_with("data:"));
        line.clear();
    }
    alerts
}

#[test]
fn admin_streams_take_tickets_from_any_instance_and_show_every_instances_alerts_once() {
    let dir = temp_dir("multi-alerts");
    let (a, b) = pair(&dir, &["--alert-refusals", "3", "--alert-window", "1m"]);
    // Behind a load balancer a ticket comes from one instance and the stream from another.
    let ticket = a.events_ticket();
    let mut on_b = b.event_stream(Some(&ticket));
    let mut on_a = a.event_stream(Some(&b.events_ticket()));
    assert_eq!(
        b.get(&format!("/v1/events?ticket={ticket}")).status,
        401,
        "a ticket works once on an instance"
    );
    // u-bob is refused on A: the alert shows once on A's stream and once on B's.
    let bob = a.login("u-bob");
    for _ in 0..3 {
        let put = a.user(
            &bob,
            "PUT",
            "/v1/data/customer/c-1002",
            &json!({"notes": "x"}),
        );
        assert_eq!(put.status, 403);
    }
    for (name, events) in [("A", &mut on_a), ("B", &mut on_b)] {
        let alerts = alerts_on(events, Duration::from_secs(2));
        assert_eq!(alerts.len(), 1, "{name}'s stream: {alerts:?}");
        assert!(alerts[0].contains("\"user\":\"u-bob\""), "{alerts:?}");
    }
}

#[test]
fn concurrent_publishers_on_both_instances_get_consecutive_versions() {
    let dir = temp_dir("multi-concurrent");
    let out = dir.join("cdn");
    let (a, b) = pair(&dir, &["--publish-dir", out.to_str().unwrap()]);
    let servers = Arc::new([a, b]);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let servers = servers.clone();
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let s = &servers[w % 2];
                    let r = publish(s, &format!("{w}-{i}"));
                    assert_eq!(r.status, 201, "{}", r.text());
                    let v = r.json()["version"].as_u64().unwrap();
                    acknowledged.lock().unwrap().push((v, format!("{w}-{i}")));
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut acked = acknowledged.lock().unwrap().clone();
    acked.sort();
    let numbers: Vec<u64> = acked.iter().map(|(v, _)| *v).collect();
    assert_eq!(
        numbers,
        (2..=41).collect::<Vec<_>>(),
        "consecutive, no duplicates, no gaps"
    );
    for s in servers.iter() {
        let list = s
            .admin("GET", "/v1/apps/acme-erp/versions", &Value::Null)
            .json();
        assert_eq!(list["current"], 41);
        for (v, tag) in &acked {
            let doc = s
                .admin(
                    "GET",
                    &format!("/v1/apps/acme-erp/versions/{v}"),
                    &Value::Null,
                )
                .json();
            assert_eq!(
                doc["document"]["x-tag"],
                json!(tag),
                "v{v} is what was acknowledged"
            );
        }
    }
    // Each version's file was written once by the instance that made it; latest is the newest.
    let latest: Value =
        serde_json::from_slice(&std::fs::read(out.join("acme-erp/latest.json")).unwrap()).unwrap();
    assert_eq!(latest["version"], 41);
    for v in 1..=41 {
        assert!(
            out.join(format!("acme-erp/v{v}.json")).exists(),
            "v{v}.json"
        );
    }
    let start = Instant::now();
    while served_version(&servers[1]) != Some(41) || served_version(&servers[0]) != Some(41) {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "both serve the newest"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_instance_killed_while_publishing_loses_nothing_acknowledged() {
    let dir = temp_dir("multi-kill");
    let (a, b) = pair(&dir, &[]);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let (addr, token, log) = (a.addr.clone(), a.token(), acked.clone());
    let writer = std::thread::spawn(move || {
        for i in 0..500 {
            let mut p = more_access();
            p["x-tag"] = json!(format!("k-{i}"));
            let auth = format!("Bearer {token}");
            let r = std::panic::catch_unwind(|| {
                request(
                    &addr,
                    "POST",
                    "/v1/apps/acme-erp/policy",
                    &[
                        ("authorization", &auth),
                        ("content-type", "application/json"),
                    ],
                    p.to_string().as_bytes(),
                )
            });
            match r {
                Ok(r) if r.status == 201 => log
                    .lock()
                    .unwrap()
                    .push(r.json()["version"].as_u64().unwrap()),
                _ => break,
            }
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    let mut a = a;
    let _ = a.child.kill(); // SIGKILL
    let _ = a.child.wait();
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 3,
        "publishes happened before the kill: {acked:?}"
    );
    // The survivor and a restarted instance agree, and hold every acknowledged version.
    let restarted = Server::start_in_on(Store::Postgres, dir.clone(), &[]);
    let survivor = b
        .admin("GET", "/v1/apps/acme-erp/versions", &Value::Null)
        .json();
    let again = restarted
        .admin("GET", "/v1/apps/acme-erp/versions", &Value::Null)
        .json();
    assert_eq!(survivor["current"], again["current"]);
    let current = survivor["current"].as_u64().unwrap();
    assert!(
        acked.iter().all(|v| *v <= current),
        "{acked:?} <= {current}"
    );
    assert_eq!(
        survivor["versions"].as_array().unwrap().len() as u64,
        current,
        "no gaps"
    );
    let start = Instant::now();
    while served_version(&b) != Some(current) {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "the survivor serves the newest"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(served_version(&restarted), Some(current));
}

#[test]
fn with_the_database_stopped_instances_answer_503_serve_their_bundle_and_recover() {
    let dir = temp_dir("multi-outage");
    let (cluster, url) = Cluster::start(&common::root().join("target/pg-outage"));
    // The servers' database lives in this cluster: point the harness at it for this test.
    let (database, args) = common::server::postgres_in(&url, &dir);
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    let a = Server::start_in_with(dir.clone(), &extra, &database);
    let b = Server::start_in_with(dir.clone(), &extra, &database);
    assert_eq!(publish(&a, "before").status, 201);
    let start = Instant::now();
    while served_version(&b) != Some(2) {
        assert!(start.elapsed() < Duration::from_secs(2));
        std::thread::sleep(Duration::from_millis(20));
    }
    let bundle_before = b
        .admin("GET", "/v1/apps/acme-erp/bundle", &Value::Null)
        .body;
    cluster.stop();
    for s in [&a, &b] {
        let t = Instant::now();
        let r = publish(s, "during");
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "an answer, not a hang"
        );
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.json()["code"], "unavailable");
        let versions = s.admin("GET", "/v1/apps/acme-erp/versions", &Value::Null);
        assert_eq!(
            (versions.status, versions.json()["code"].clone()),
            (503, json!("unavailable"))
        );
        // Not ready (the store does not answer), but alive.
        let ready = s.get("/readyz");
        assert_eq!(
            (ready.status, ready.json()["reason"].clone()),
            (503, json!("store"))
        );
        assert_eq!(s.get("/healthz").status, 200);
        // The current bundle is served from memory all along.
        let bundle = s.admin("GET", "/v1/apps/acme-erp/bundle", &Value::Null);
        assert_eq!(bundle.status, 200);
        assert_eq!(bundle.header("x-fieldgate-version"), Some("2"));
    }
    assert_eq!(
        b.admin("GET", "/v1/apps/acme-erp/bundle", &Value::Null)
            .body,
        bundle_before
    );
    std::thread::sleep(Duration::from_secs(2));
    cluster.restart();
    // Both recover without a restart: A publishes, B sees it.
    let start = Instant::now();
    let v = loop {
        let r = publish(&a, "after");
        if r.status == 201 {
            break r.json()["version"].as_u64().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "A never recovered: {}",
            r.text()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(v, 3);
    assert_eq!(a.get("/readyz").json()["status"], "ready");
    let start = Instant::now();
    while served_version(&b) != Some(3) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "B never caught up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop((a, b));
}

/// The database reached over TLS, checked as the URL's `sslmode` says (libpq's words): a
/// cluster that refuses plain TCP connections, with a certificate for `localhost` from a CA of
/// its own. Before, every connection was plain (`NoTls`).
#[test]
fn the_database_is_reached_over_tls_checked_as_sslmode_says() {
    let dir = temp_dir("multi-tls");
    let pg = common::root().join("target/pg-tls");
    let (_cluster, url) = Cluster::start_with(&pg, true);
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // Set up over the Unix socket (no TLS there), then connect over TCP.
    let socket = pg.to_str().unwrap().replace('/', "%2F");
    let (database, args) = common::server::postgres_in(
        &format!("postgres://fieldgate@{socket}:{port}/postgres"),
        &dir,
    );
    let name = database.rsplit('/').next().unwrap().to_string();
    let ca = pg.join("tls/ca.pem").display().to_string();
    let with = |host: &str, params: &str| {
        let url = format!("postgres://fieldgate@{host}:{port}/{name}?{params}");
        let mut args = args.clone();
        args[1].clone_from(&url);
        let extra: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::try_start_in_with(dir.clone(), &extra, &url)
    };
    let e = with("127.0.0.1", "sslmode=disable")
        .err()
        .expect("plain TCP is refused");
    assert!(e.contains("no encryption"), "{e}");
    let s = with(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .unwrap();
    assert_eq!(publish(&s, "over tls").status, 201);
    drop(s);
    let e = with(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    )
    .err()
    .expect("verify-full checks the name");
    assert!(e.to_lowercase().contains("name"), "{e}");
    let s = with("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")).unwrap();
    assert_eq!(publish(&s, "verify-ca").status, 201);
    drop(s);
    let e = with("localhost", "sslmode=verify-full")
        .err()
        .expect("a CA it does not trust is refused");
    assert!(
        e.to_lowercase().contains("issuer") || e.to_lowercase().contains("certificate"),
        "{e}"
    );
    let s = with("127.0.0.1", "sslmode=require").unwrap();
    assert_eq!(publish(&s, "require").status, 201);
}
