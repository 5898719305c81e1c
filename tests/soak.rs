//! The soak test (`scripts/soak.sh`; bounded by `SOAK_SECONDS`, default 600): two instances on
//! one PostgreSQL database under mixed load (bundle reads, data reads and writes, creates,
//! decisions, publications, exports) while instance B and the database are killed and started
//! again at random. At the end: nothing acknowledged is lost (every published version, every
//! created record, the last acknowledged revision of the record written), no answer was wrong
//! (decision answers against the engine compiled here, data reads and exports against what
//! the sample policy shows each person, bundles verified), and instance A, never killed, kept
//! its memory flat. It prints its figures for BENCHMARKS.md.

mod common;

use common::cluster::Cluster;
use common::server::{postgres_in, sample_policy, try_request, Reply, Server};
use fieldgate::core::{Ask, Policy, Subject};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// What one kind of operation saw.
#[derive(Default, Debug)]
struct Tally {
    ok: u64,
    /// 503, a refused or cut connection: the instance or the database was down.
    down: u64,
    /// An answer the checks found wrong.
    wrong: Vec<String>,
    slowest: Duration,
}

/// Everything the workers share.
struct Soak {
    /// The instances' addresses (B's changes when it is started again).
    addrs: RwLock<[String; 2]>,
    token: String,
    public_key: fieldgate::bundle::PublicKey,
    tallies: Mutex<BTreeMap<&'static str, Tally>>,
    published: Mutex<Vec<u64>>,
    created: Mutex<Vec<String>>,
    last_revision: Mutex<u64>,
    stop: AtomicBool,
    /// The sample policy compiled here: every publication carries its rules.
    local: Arc<Policy>,
    people: Vec<Value>,
}

/// A small deterministic generator (no `rand` in the tests): xorshift.
struct Dice(u64);

impl Dice {
    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.0 % n).unwrap_or(0)
    }

    /// A duration of `base` plus up to `spread` more, in steps of `step`.
    fn wait(&mut self, base: Duration, step: Duration, spread: usize) -> Duration {
        base + step * u32::try_from(self.below(spread)).unwrap_or(0)
    }
}

impl Soak {
    fn addr(&self, dice: &mut Dice) -> String {
        self.addrs.read().unwrap()[dice.below(2)].clone()
    }

    /// Counts an answer: `None` or 503 is "down"; `check` says whether the rest is right.
    fn note(
        &self,
        what: &'static str,
        took: Duration,
        r: Option<&Reply>,
        check: impl FnOnce(&Reply) -> Result<(), String>,
    ) {
        let mut t = self.tallies.lock().unwrap();
        let t = t.entry(what).or_default();
        t.slowest = t.slowest.max(took);
        match r {
            None => t.down += 1,
            Some(r) if r.status == 503 => t.down += 1,
            Some(r) => match check(r) {
                Ok(()) => t.ok += 1,
                Err(e) => t.wrong.push(e),
            },
        }
    }

    fn call(
        &self,
        addr: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (Duration, Option<Reply>) {
        let started = Instant::now();
        let r = try_request(addr, method, path, headers, body);
        (started.elapsed(), r)
    }

    fn admin(
        &self,
        addr: &str,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> (Duration, Option<Reply>) {
        let auth = format!("Bearer {}", self.token);
        self.call(
            addr,
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
    }

    /// A login cookie for `user` at `addr` (cookies hold on every instance), if one answers.
    fn login(&self, addr: &str, user: &str) -> Option<String> {
        let origin = format!("http://{addr}");
        let body = json!({ "user": user }).to_string();
        let r = try_request(
            addr,
            "POST",
            "/v1/login",
            &[("content-type", "application/json"), ("origin", &origin)],
            body.as_bytes(),
        )?;
        let cookie = r.header("set-cookie")?;
        Some(cookie.split(';').next()?.to_string())
    }

    fn as_user(
        &self,
        addr: &str,
        cookie: &str,
        method: &str,
        path: &str,
        body: &Value,
    ) -> (Duration, Option<Reply>) {
        let origin = format!("http://{addr}");
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut h = vec![("cookie", cookie), ("origin", origin.as_str())];
        if !body.is_null() {
            h.push(("content-type", "application/json"));
        }
        self.call(addr, method, path, &h, text.as_bytes())
    }
}

/// Bundle reads: every 200 verifies with the deployment's key.
fn bundles(s: &Soak, dice: &mut Dice) {
    let addr = s.addr(dice);
    let (took, r) = s.admin(&addr, "GET", "/v1/apps/acme-erp/bundle", b"");
    s.note("bundle read", took, r.as_ref(), |r| {
        if r.status != 200 {
            return Err(format!("bundle: {}", r.status));
        }
        let keys = fieldgate::bundle::TrustedKeys::new(vec![s.public_key.clone()]);
        let mut opts = fieldgate::bundle::VerifyOptions::new(&keys, common::server::now_ms());
        opts.app = Some("acme-erp");
        fieldgate::bundle::verify(&r.body, &opts)
            .map(|_| ())
            .map_err(|e| format!("bundle does not verify: {e}"))
    });
}

/// Decision API batches: each answer equals the engine's here, on the same subject.
fn decisions(s: &Soak, dice: &mut Dice) {
    let addr = s.addr(dice);
    let person = s.people[dice.below(s.people.len())].clone();
    let subject = json!({"id": person["id"], "department": person["department"], "groups": person.get("groups").cloned().unwrap_or(json!([]))});
    let owners = ["u-alice", "u-bob", "u-carol", "u-dave"];
    let requests: Vec<Value> = (0..20)
        .map(|_| {
            let owner = owners[dice.below(4)];
            let on_customer = ["view", "edit", "export"][dice.below(3)];
            let on_order = ["submit", "approve", "edit"][dice.below(3)];
            let tier = ["gold", "vip"][dice.below(2)];
            let status = ["draft", "pending"][dice.below(2)];
            match dice.below(3) {
                0 => json!({"action": on_customer, "resource": "customer",
                            "record": {"owner_id": owner, "tier": tier}}),
                1 => json!({"action": on_order, "resource": "inbound_order",
                            "record": {"created_by": owner, "status": status}}),
                _ => json!({"action": "edit", "resource": "customer", "record": {"owner_id": owner}, "want": ["fields"]}),
            }
        })
        .collect();
    let body = json!({"subject": subject, "requests": requests}).to_string();
    let (took, r) = s.admin(&addr, "POST", "/v1/apps/acme-erp/check", body.as_bytes());
    s.note("decision batch (20)", took, r.as_ref(), |r| {
        if r.status != 200 {
            return Err(format!("check: {} {}", r.status, r.text()));
        }
        let subject: Subject =
            serde_json::from_value(subject.clone()).map_err(|e| e.to_string())?;
        // At the time the server answered (the sample has dated access).
        let session = s.local.session_at(&subject, common::server::now_ms());
        let got = r.json();
        for (i, ask) in requests.iter().enumerate() {
            let want = Ask::from_json(ask)
                .and_then(|a| session.answer(&a))
                .map(|a| a.to_json())
                .map_err(|e| e.message)?;
            if got["results"][i] != want {
                return Err(format!(
                    "{ask} for {subject:?}: server {} here {want}",
                    got["results"][i]
                ));
            }
        }
        Ok(())
    });
}

/// Data reads as Alice: her own customers in clear, others' phones masked.
fn reads(s: &Soak, dice: &mut Dice, cookie: &mut Option<String>) {
    let addr = s.addr(dice);
    let Some(c) = cookie.clone().or_else(|| s.login(&addr, "u-alice")) else {
        s.note("data read", Duration::ZERO, None, |_| Ok(()));
        return;
    };
    *cookie = Some(c.clone());
    let (took, r) = s.as_user(&addr, &c, "GET", "/v1/data/customer", &Value::Null);
    if r.as_ref().is_some_and(|r| r.status == 401) {
        *cookie = None;
    }
    s.note("data read", took, r.as_ref(), |r| {
        if r.status == 401 {
            return Ok(()); // a session made on a database that was restored meanwhile
        }
        let list = r.json();
        let records = list["records"].as_array().ok_or("no records")?;
        let phone = |id: &str| {
            records
                .iter()
                .find(|x| x["id"] == id)
                .map(|x| x["phone"].clone())
        };
        if phone("c-1001") != Some(json!("13812345678")) {
            return Err(format!("alice's own phone: {:?}", phone("c-1001")));
        }
        if phone("c-1003") == Some(json!("13755554444")) {
            return Err("bob's phone shown to alice in clear".into());
        }
        Ok(())
    });
}

/// Writes of Alice's customer: each acknowledged revision is remembered.
fn writes(s: &Soak, dice: &mut Dice, n: u64) {
    let addr = s.addr(dice);
    let Some(c) = s.login(&addr, "u-alice") else {
        s.note("data write", Duration::ZERO, None, |_| Ok(()));
        return;
    };
    let (took, r) = s.as_user(
        &addr,
        &c,
        "PUT",
        "/v1/data/customer/c-1001",
        &json!({"notes": format!("soak {n}")}),
    );
    s.note("data write", took, r.as_ref(), |r| {
        if r.status != 200 {
            return Err(format!("write: {} {}", r.status, r.text()));
        }
        let rev: u64 = r
            .header("etag")
            .and_then(|t| t.trim_matches('"').trim_start_matches('r').parse().ok())
            .ok_or("no revision")?;
        let mut last = s.last_revision.lock().unwrap();
        *last = (*last).max(rev);
        Ok(())
    });
}

/// Creates of inbound orders as Dave: each acknowledged id is remembered.
fn creates(s: &Soak, dice: &mut Dice, n: u64) {
    let addr = s.addr(dice);
    let Some(c) = s.login(&addr, "u-dave") else {
        s.note("create", Duration::ZERO, None, |_| Ok(()));
        return;
    };
    let (took, r) = s.as_user(
        &addr,
        &c,
        "POST",
        "/v1/data/inbound_order",
        &json!({"order_no": format!("SOAK-{n}"), "quantity": 1}),
    );
    s.note("create", took, r.as_ref(), |r| {
        if r.status != 201 {
            return Err(format!("create: {} {}", r.status, r.text()));
        }
        let id = r.json()["id"].as_str().ok_or("no id")?.to_string();
        s.created.lock().unwrap().push(id);
        Ok(())
    });
}

/// Publications of the sample (tagged): each acknowledged version is remembered.
fn publishes(s: &Soak, dice: &mut Dice, n: u64) {
    let addr = s.addr(dice);
    let mut doc = sample_policy();
    doc["x-soak"] = json!(n);
    let (took, r) = s.admin(
        &addr,
        "POST",
        "/v1/apps/acme-erp/policy",
        doc.to_string().as_bytes(),
    );
    s.note("publish", took, r.as_ref(), |r| match r.status {
        201 => {
            s.published
                .lock()
                .unwrap()
                .push(r.json()["version"].as_u64().ok_or("no version")?);
            Ok(())
        }
        // Two publishers raced for the same base: refused whole, nothing to lose.
        409 => Ok(()),
        other => Err(format!("publish: {other} {}", r.text())),
    });
}

/// Exports as Bob: only his own customer.
fn exports(s: &Soak, dice: &mut Dice) {
    let addr = s.addr(dice);
    let Some(c) = s.login(&addr, "u-bob") else {
        s.note("export", Duration::ZERO, None, |_| Ok(()));
        return;
    };
    let (took, r) = s.as_user(&addr, &c, "GET", "/v1/data/customer/export", &Value::Null);
    s.note("export", took, r.as_ref(), |r| {
        if r.status != 200 {
            return Err(format!("export: {} {}", r.status, r.text()));
        }
        let text = r.text();
        let ids: Vec<&str> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap_or("").trim_matches('"'))
            .collect();
        if ids != ["c-1003"] {
            return Err(format!("bob exported {ids:?}"));
        }
        Ok(())
    });
}

#[test]
#[ignore = "long: scripts/soak.sh runs it (SOAK_SECONDS, default 600)"]
fn soak() {
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let pg = common::root().join("target/pg-soak");
    let (cluster, url) = Cluster::start(&pg);
    let dir = common::temp_dir("soak");
    let (database, args) = postgres_in(&url, &dir);
    let extra: Vec<&str> = args.iter().map(String::as_str).collect();
    let a = Server::start_in_with(dir.clone(), &extra, &database);
    let b = Server::start_in_with(dir.clone(), &extra, &database);
    let data = common::read_json(&common::root().join("examples/acme-erp.data.json"));
    let soak = Soak {
        addrs: RwLock::new([a.addr.clone(), b.addr.clone()]),
        token: a.token(),
        public_key: a.public_key(),
        tallies: Mutex::default(),
        published: Mutex::default(),
        created: Mutex::default(),
        last_revision: Mutex::new(0),
        stop: AtomicBool::new(false),
        local: Arc::new(Policy::from_value(&sample_policy()).unwrap()),
        people: data["users"].as_array().unwrap().clone(),
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut memory = Vec::new();
    let mut chaos_log = Vec::new();
    let b = std::thread::scope(|t| {
        type Work = fn(&Soak, &mut Dice, u64, &mut Option<String>);
        let work: [(Work, u64); 7] = [
            (|s, d, _, _| bundles(s, d), 0),
            (|s, d, _, _| decisions(s, d), 0),
            (|s, d, _, c| reads(s, d, c), 0),
            (|s, d, n, _| writes(s, d, n), 20),
            (|s, d, n, _| creates(s, d, n), 50),
            (|s, d, n, _| publishes(s, d, n), 1500),
            (|s, d, _, _| exports(s, d), 500),
        ];
        for (i, (f, pause)) in work.into_iter().enumerate() {
            let soak = &soak;
            t.spawn(move || {
                let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (u64::try_from(i).unwrap_or(0) + 1));
                let mut cookie = None;
                let mut n = 0;
                while !soak.stop.load(Ordering::Relaxed) {
                    n += 1;
                    f(soak, &mut dice, n, &mut cookie);
                    std::thread::sleep(Duration::from_millis(pause));
                }
            });
        }
        // Chaos, and A's memory every 10 s.
        let mut dice = Dice(0x2545_f491_4f6c_dd1d);
        let mut b = b;
        let mut next_memory = Instant::now();
        let second = Duration::from_secs(1);
        let mut next_chaos = Instant::now() + dice.wait(second * 10, second, 10);
        while Instant::now() < deadline {
            if Instant::now() >= next_memory {
                memory.push((started.elapsed().as_secs(), a.rss_kib()));
                next_memory += Duration::from_secs(10);
            }
            if Instant::now() >= next_chaos {
                let at = started.elapsed().as_secs();
                if dice.below(2) == 0 {
                    b.kill_hard();
                    drop(b);
                    let half = Duration::from_millis(500);
                    std::thread::sleep(dice.wait(half, half, 4));
                    b = Server::start_in_with(dir.clone(), &extra, &database);
                    soak.addrs.write().unwrap()[1].clone_from(&b.addr);
                    chaos_log.push(format!(
                        "{at}s: instance B killed (SIGKILL) and started again"
                    ));
                } else {
                    cluster.stop();
                    std::thread::sleep(dice.wait(second * 2, second, 4));
                    cluster.restart();
                    chaos_log.push(format!("{at}s: the database stopped and started again"));
                }
                next_chaos = Instant::now() + dice.wait(second * 15, second, 20);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        soak.stop.store(true, Ordering::Relaxed);
        b
    });
    memory.push((started.elapsed().as_secs(), a.rss_kib()));

    // Let both instances catch up with the database, then check that nothing is lost.
    let settle = Instant::now();
    let versions = loop {
        let (_, r) = soak.admin(&b.addr, "GET", "/v1/apps/acme-erp/versions", b"");
        match r {
            Some(r) if r.status == 200 => break r.json(),
            _ if settle.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(200))
            }
            other => panic!("the store did not come back: {:?}", other.map(|r| r.text())),
        }
    };
    let stored: Vec<u64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    let published = soak.published.lock().unwrap().clone();
    let lost: Vec<&u64> = published.iter().filter(|v| !stored.contains(v)).collect();
    assert!(lost.is_empty(), "acknowledged publications lost: {lost:?}");
    let dave = soak.login(&a.addr, "u-dave").unwrap();
    let created = soak.created.lock().unwrap().clone();
    for id in &created {
        let (_, r) = soak.as_user(
            &a.addr,
            &dave,
            "GET",
            &format!("/v1/data/inbound_order/{id}"),
            &Value::Null,
        );
        assert_eq!(r.map(|r| r.status), Some(200), "created {id} lost");
    }
    let alice = soak.login(&a.addr, "u-alice").unwrap();
    let (_, r) = soak.as_user(
        &a.addr,
        &alice,
        "GET",
        "/v1/data/customer/c-1001",
        &Value::Null,
    );
    let now: u64 = r
        .unwrap()
        .header("etag")
        .unwrap()
        .trim_matches('"')
        .trim_start_matches('r')
        .parse()
        .unwrap();
    let acked = *soak.last_revision.lock().unwrap();
    assert!(
        now >= acked,
        "the record is at r{now}, behind the acknowledged r{acked}"
    );

    let tallies = soak.tallies.lock().unwrap();
    println!(
        "soak: {seconds} s, two instances on PostgreSQL, {} chaos events",
        chaos_log.len()
    );
    for c in &chaos_log {
        println!("  {c}");
    }
    println!("| operation | answered right | down (503 or cut) | wrong | slowest |");
    println!("|---|---|---|---|---|");
    for (what, t) in tallies.iter() {
        println!(
            "| {what} | {} | {} | {} | {} ms |",
            t.ok,
            t.down,
            t.wrong.len(),
            t.slowest.as_millis()
        );
    }
    println!(
        "acknowledged and present: {} publications, {} created records, record revision r{acked} (stored r{now})",
        published.len(),
        created.len()
    );
    let warm = memory
        .iter()
        .find(|(s, _)| *s >= seconds / 10)
        .or(memory.first())
        .map_or(0, |m| m.1);
    let last = memory.last().map_or(0, |m| m.1);
    let peak = memory.iter().map(|m| m.1).max().unwrap_or(0);
    println!(
        "instance A resident memory: {} KiB after warm-up, {} KiB at the end, {} KiB at the peak",
        warm, last, peak
    );
    for (what, t) in tallies.iter() {
        assert!(
            t.wrong.is_empty(),
            "{what}: {} wrong answers, e.g. {:?}",
            t.wrong.len(),
            &t.wrong[..t.wrong.len().min(3)]
        );
        assert!(t.ok > 0, "{what}: nothing answered");
    }
    assert!(
        last <= warm + warm / 2 + 20 * 1024,
        "memory grew: {warm} -> {last} KiB"
    );
    drop((a, b));
}
