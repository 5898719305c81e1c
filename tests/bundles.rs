//! Signed bundles: round trips, every error code from a crafted input, rotation and thresholds,
//! a DSSE vector checked by Node's own Ed25519, and a byte-flip property.

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::Signer;
use fieldgate::bundle::*;
use fieldgate::{Input, Mode, Subject};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

const NOW: i64 = 1_795_341_600_000; // 2026-11-22T10:00:00Z
const DAY: i64 = 86_400_000;

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn policy_bytes() -> Vec<u8> {
    std::fs::read(common::sample_policy()).unwrap()
}

fn opts(encoding: Encoding) -> SignOptions {
    SignOptions {
        version: Some(7),
        issued_at_ms: NOW,
        expires_at_ms: NOW + 30 * DAY,
        subject: None,
        encoding,
    }
}

fn signed(encoding: Encoding, keys: &[&SecretKey]) -> Vec<u8> {
    sign(&policy_bytes(), keys, &opts(encoding)).unwrap()
}

fn trust(keys: &[&SecretKey]) -> TrustedKeys {
    TrustedKeys::new(keys.iter().map(|k| k.public()).collect())
}

fn check(
    bytes: &[u8],
    keys: &TrustedKeys,
    tweak: impl FnOnce(&mut VerifyOptions),
) -> Result<VerifiedBundle, BundleCode> {
    let mut o = VerifyOptions::new(keys, NOW);
    tweak(&mut o);
    verify(bytes, &o).map_err(|e| e.code)
}

/// A JSON envelope over arbitrary payload bytes, signed with `k` (by ed25519-dalek directly).
fn envelope(payload: &[u8], k: &SecretKey) -> Vec<u8> {
    let sk = ed25519_dalek::SigningKey::from_bytes(
        &B64.decode(k.to_base64()).unwrap().try_into().unwrap(),
    );
    let sig = sk.sign(&pae(JSON_PAYLOAD_TYPE, payload));
    json!({"payloadType": JSON_PAYLOAD_TYPE, "payload": B64.encode(payload),
           "signatures": [{"keyid": k.public().id(), "sig": B64.encode(sig.to_bytes())}]})
    .to_string()
    .into_bytes()
}

#[test]
fn key_id_is_the_sha256_prefix() {
    use sha2::Digest;
    let k = key(1).public();
    let raw = B64.decode(k.to_base64()).unwrap();
    let hex: String = sha2::Sha256::digest(&raw)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(k.id(), &hex[..16]);
}

#[test]
fn round_trips_answer_like_the_source_policy() {
    let source = Arc::new(fieldgate::Policy::from_slice(&policy_bytes()).unwrap());
    for encoding in [Encoding::Json, Encoding::Binary] {
        let k = key(1);
        let b = check(&signed(encoding, &[&k]), &trust(&[&k]), |o| {
            o.app = Some("acme-erp")
        })
        .unwrap();
        assert_eq!(b.encoding, encoding);
        assert_eq!(b.policy.version(), 7);
        assert_eq!(b.key_ids, vec![k.public().id().to_string()]);
        assert_eq!((b.issued_at_ms, b.expires_at_ms), (NOW, NOW + 30 * DAY));
        let loaded = Arc::new(b.policy);
        for user in [
            "u-alice", "u-carol", "u-dave", "u-frank", "u-grace", "nobody",
        ] {
            let subject = Subject {
                department: Some("sales".into()),
                ..Subject::new(user)
            };
            let (a, z) = (source.session(&subject), loaded.session(&subject));
            let rec = json!({"owner_id": user, "department": "sales-east", "status": "pending", "created_by": user});
            for r in source.resource_names() {
                for act in source.action_names(r).unwrap() {
                    for input in [Input::NONE, Input::json(Some(&rec), None)] {
                        assert_eq!(a.can(act, r, input).unwrap(), z.can(act, r, input).unwrap());
                    }
                }
                for m in Mode::ALL {
                    let input = Input::json(Some(&rec), None);
                    assert_eq!(
                        a.fields(r, m, input).unwrap().to_json(),
                        z.fields(r, m, input).unwrap().to_json()
                    );
                }
            }
        }
    }
}

#[test]
fn every_error_code() {
    let (k1, k2) = (key(1), key(2));
    let t1 = trust(&[&k1]);
    let json = signed(Encoding::Json, &[&k1]);
    let bin = signed(Encoding::Binary, &[&k1]);
    for b in [&json, &bin] {
        assert_eq!(
            check(b, &t1, |o| o.max_bytes = 100).unwrap_err(),
            BundleCode::TooLarge
        );
        assert_eq!(
            check(b, &trust(&[&k2]), |_| {}).unwrap_err(),
            BundleCode::UntrustedKey
        );
        assert_eq!(
            check(b, &t1, |o| o.app = Some("other")).unwrap_err(),
            BundleCode::WrongApp
        );
        assert_eq!(
            check(b, &t1, |o| o.min_version = 8).unwrap_err(),
            BundleCode::Rollback
        );
        assert!(
            check(b, &t1, |o| o.min_version = 7).is_ok(),
            "the same version is not a rollback"
        );
        assert_eq!(
            check(b, &t1, |o| o.now_ms = NOW + 31 * DAY).unwrap_err(),
            BundleCode::Expired
        );
        assert_eq!(
            check(b, &t1, |o| o.now_ms = NOW - DAY).unwrap_err(),
            BundleCode::NotYetValid
        );
    }
    // Clock skew: 5 minutes either way by default, configurable.
    let minute = 60_000;
    assert!(check(&json, &t1, |o| o.now_ms = NOW + 30 * DAY + 4 * minute).is_ok());
    assert_eq!(
        check(&json, &t1, |o| o.now_ms = NOW + 30 * DAY + 6 * minute).unwrap_err(),
        BundleCode::Expired
    );
    assert!(check(&json, &t1, |o| o.now_ms = NOW - 4 * minute).is_ok());
    assert_eq!(
        check(&json, &t1, |o| {
            o.now_ms = NOW - 4 * minute;
            o.skew_ms = 0
        })
        .unwrap_err(),
        BundleCode::NotYetValid
    );

    for garbage in [
        &b"not json"[..],
        b"{}",
        b"[]",
        b"FGB\0",
        b"FGB\0\x09rest",
        b"FGB\0\x01\xff\xff\xff",
    ] {
        assert_eq!(
            check(garbage, &t1, |_| {}).unwrap_err(),
            BundleCode::BadBundle,
            "{garbage:?}"
        );
    }
    let mut env: Value = serde_json::from_slice(&json).unwrap();
    env["payload"] = json!("%%%not base64");
    assert_eq!(
        check(env.to_string().as_bytes(), &t1, |_| {}).unwrap_err(),
        BundleCode::BadBundle
    );
    let mut env: Value = serde_json::from_slice(&json).unwrap();
    env["payloadType"] = json!("text/plain");
    assert_eq!(
        check(env.to_string().as_bytes(), &t1, |_| {}).unwrap_err(),
        BundleCode::BadBundle
    );
    let mut env: Value = serde_json::from_slice(&json).unwrap();
    env["signatures"] = json!([]);
    assert_eq!(
        check(env.to_string().as_bytes(), &t1, |_| {}).unwrap_err(),
        BundleCode::BadBundle
    );
    // A second, different payload before the signed one, and an unknown member: both refused.
    let text = String::from_utf8(json.clone()).unwrap();
    let other = format!(r#"{{"payload":"{}","#, B64.encode("{}"));
    for tampered in [
        text.replacen('{', &other, 1),
        text.replacen('{', r#"{"x":1,"#, 1),
    ] {
        assert_eq!(
            check(tampered.as_bytes(), &t1, |_| {}).unwrap_err(),
            BundleCode::BadBundle,
            "{tampered}"
        );
    }

    // A payload that differs from what was signed.
    let mut env: Value = serde_json::from_slice(&json).unwrap();
    let mut payload: Value =
        serde_json::from_slice(&B64.decode(env["payload"].as_str().unwrap()).unwrap()).unwrap();
    payload["roles"]["sales"]["grants"][0]["actions"] = json!(["*"]);
    env["payload"] = json!(B64.encode(payload.to_string()));
    assert_eq!(
        check(env.to_string().as_bytes(), &t1, |_| {}).unwrap_err(),
        BundleCode::BadSignature
    );

    // Validly signed, but not a valid policy: the policy's own errors come along.
    let bad_policy = br#"{"format":"fieldgate/1","app":"acme-erp","version":1,"roles":{"x":{"inherits":["y"]}}}"#;
    let err = verify(&envelope(bad_policy, &k1), &VerifyOptions::new(&t1, NOW)).unwrap_err();
    assert_eq!(err.code, BundleCode::BadPolicy);
    assert_eq!(
        err.policy_errors.unwrap().errors()[0].path,
        "roles.x.inherits[0]"
    );
    // Valid policy without the validity window `sign` stamps.
    let unstamped = br#"{"format":"fieldgate/1","app":"acme-erp","version":1}"#;
    assert_eq!(
        check(&envelope(unstamped, &k1), &t1, |_| {}).unwrap_err(),
        BundleCode::BadPolicy
    );

    // Subject binding.
    let mut o = opts(Encoding::Json);
    o.subject = Some("u-alice".into());
    let bound = sign(&policy_bytes(), &[&k1], &o).unwrap();
    assert!(check(&bound, &t1, |o| o.subject = Some("u-alice")).is_ok());
    assert_eq!(
        check(&bound, &t1, |o| o.subject = Some("u-bob")).unwrap_err(),
        BundleCode::WrongSubject
    );

    // Nothing invalid is signed.
    let err = sign(bad_policy, &[&k1], &opts(Encoding::Json)).unwrap_err();
    assert_eq!(err.code, BundleCode::BadPolicy);
    assert_eq!(
        PublicKey::from_base64("abc").unwrap_err().code,
        BundleCode::BadKey
    );
}

#[test]
fn checks_run_in_the_documented_order() {
    // Expired AND wrong app AND rollback: the first check in order (wrong_app) is reported.
    let k = key(1);
    let b = signed(Encoding::Json, &[&k]);
    let got = check(&b, &trust(&[&k]), |o| {
        o.app = Some("x");
        o.min_version = 100;
        o.now_ms = NOW + 365 * DAY;
    });
    assert_eq!(got.unwrap_err(), BundleCode::WrongApp);
    let got = check(&b, &trust(&[&k]), |o| {
        o.min_version = 100;
        o.now_ms = NOW + 365 * DAY;
    });
    assert_eq!(got.unwrap_err(), BundleCode::Rollback);
}

#[test]
fn rotation_and_thresholds() {
    let (old, new, other) = (key(1), key(2), key(3));
    for encoding in [Encoding::Json, Encoding::Binary] {
        let both = signed(encoding, &[&old, &new]);
        assert!(
            check(&both, &trust(&[&old]), |_| {}).is_ok(),
            "old key still trusted"
        );
        assert!(
            check(&both, &trust(&[&new]), |_| {}).is_ok(),
            "new key already trusted"
        );
        let b = check(&both, &trust(&[&old, &new]).with_threshold(2), |_| {}).unwrap();
        assert_eq!(b.key_ids.len(), 2);
        assert_eq!(
            check(&both, &trust(&[&old, &other]).with_threshold(2), |_| {}).unwrap_err(),
            BundleCode::BadSignature,
            "only one of the two required keys signed"
        );
        let only_new = signed(encoding, &[&new]);
        assert_eq!(
            check(&only_new, &trust(&[&old]), |_| {}).unwrap_err(),
            BundleCode::UntrustedKey
        );
    }
}

#[test]
fn dsse_vector_verifies_with_nodes_own_ed25519() {
    let k = key(9);
    let bundle = signed(Encoding::Json, &[&k]);
    let dir = common::temp_dir("dsse-node");
    let path = dir.join("bundle.json");
    std::fs::write(&path, &bundle).unwrap();
    // Independent of our code: Node computes PAE itself and checks with its own Ed25519.
    let script = r#"
const crypto = require('crypto'), fs = require('fs');
const env = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const pub = Buffer.from(process.argv[2], 'base64');
const body = Buffer.from(env.payload, 'base64');
const t = Buffer.from(env.payloadType, 'utf8');
const pae = Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
const key = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
const kid = crypto.createHash('sha256').update(pub).digest('hex').slice(0, 16);
const sig = env.signatures.find(s => s.keyid === kid);
const ok = sig && crypto.verify(null, pae, key, Buffer.from(sig.sig, 'base64'));
const tampered = crypto.verify(null, Buffer.concat([pae, Buffer.from(' ')]), key, Buffer.from(sig.sig, 'base64'));
console.log(JSON.stringify({ ok, tampered, app: JSON.parse(body).app }));
"#;
    let out = std::process::Command::new("node")
        .args([
            "-e",
            script,
            path.to_str().unwrap(),
            &k.public().to_base64(),
        ])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"ok": true, "tampered": false, "app": "acme-erp"}));
}

#[test]
fn cli_keygen_sign_verify_eval() {
    let dir = common::temp_dir("bundle-cli");
    let keys = dir.join("keys");
    let kd = keys.to_str().unwrap();
    let out = common::fieldgate(&["keygen", "--out-dir", kd], "");
    assert!(out.status.success());
    let kid = common::stdout(&out).trim().to_string();
    assert_eq!(kid.len(), 16);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(keys.join("signing.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(
        !common::fieldgate(&["keygen", "--out-dir", kd], "")
            .status
            .success(),
        "refuses to overwrite"
    );

    let bundle = dir.join("b.bin");
    let key = keys.join("signing.key");
    let pubk = keys.join("signing.pub");
    let policy = common::sample_policy();
    let args = [
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--version",
        "5",
        "--expires-in",
        "2d",
        "--format",
        "binary",
    ];
    assert!(common::fieldgate(&args, "").status.success());
    let out = common::fieldgate(
        &[
            "verify",
            "--trust",
            pubk.to_str().unwrap(),
            "--app",
            "acme-erp",
            "--min-version",
            "5",
            bundle.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0));
    let line = common::stdout(&out);
    assert!(
        line.starts_with(&format!("ok: app acme-erp version 5 key {kid} expires ")),
        "{line}"
    );
    let out = common::fieldgate(
        &[
            "verify",
            "--trust",
            pubk.to_str().unwrap(),
            "--min-version",
            "6",
            bundle.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stdout(&out).starts_with("rollback: "));

    let req = r#"{"subject":{"id":"u-alice"},"action":"edit","resource":"customer","record":{"owner_id":"u-alice"}}"#;
    let out = common::fieldgate(
        &[
            "eval",
            "--bundle",
            bundle.to_str().unwrap(),
            "--trust",
            pubk.to_str().unwrap(),
        ],
        req,
    );
    assert_eq!(common::stdout(&out).trim(), r#"{"allow":true}"#);

    // Nothing is signed that `check` rejects.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"format":"fieldgate/1","app":"a","version":1,"rules":[{"id":"x","effect":"nope","resource":"*"}]}"#).unwrap();
    let out = common::fieldgate(
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--policy",
            bad.to_str().unwrap(),
            "--out",
            dir.join("nope").to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.join("nope").exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn flipping_any_single_byte_fails_verification(binary in any::<bool>(), at in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let k = key(4);
        let encoding = if binary { Encoding::Binary } else { Encoding::Json };
        let mut b = signed(encoding, &[&k]);
        let i = at.index(b.len());
        b[i] ^= xor;
        prop_assert!(check(&b, &trust(&[&k]), |_| {}).is_err(), "flip at {} of {}", i, b.len());
    }
}

/// The fuzz targets start from these seeds; a seed that no longer reads (the binary format moved
/// on) would leave the fuzzer probing only the readers' error paths.
#[test]
fn the_fuzz_seeds_still_read() {
    if std::env::var_os("FIELDGATE_BLESS").is_some() {
        // A new binary format: the binary seeds again, valid 2026-11-22 to 2027-11-22 (around
        // both fuzz targets' clocks). The bundle seed is signed by key 8, which the `bundle`
        // target does not trust: that target fails on anything that verifies.
        let o = SignOptions {
            issued_at_ms: NOW,
            expires_at_ms: NOW + 365 * DAY,
            ..opts(Encoding::Binary)
        };
        let bin = sign(&policy_bytes(), &[&key(8)], &o).unwrap();
        std::fs::write("fuzz/seeds/bundle/acme.bin", &bin).unwrap();
        std::fs::write("fuzz/seeds/binary_body/acme.body", binary_parts(&bin).0).unwrap();
    }
    for seed in ["acme.bin", "acme.json"] {
        let bytes = std::fs::read(format!("fuzz/seeds/bundle/{seed}")).unwrap();
        let read = UnverifiedBundle::parse(&bytes, DEFAULT_MAX_BYTES);
        assert!(read.is_ok(), "{seed}: {:?}", read.err());
        // The `bundle` target's key and clock: a seed must not verify there.
        let fuzz_key = key(7);
        let trusted = trust(&[&fuzz_key]);
        let at = VerifyOptions::new(&trusted, NOW);
        assert!(
            verify(&bytes, &at).is_err(),
            "{seed} verifies in the fuzz target"
        );
    }
    let body = std::fs::read("fuzz/seeds/binary_body/acme.body").unwrap();
    let k = key(7);
    let bundle = seal_unchecked(Encoding::Binary, body, &[&k]);
    let now = 1_796_083_200_000; // 2026-12-01, the fuzz target's clock
    let v = verify(&bundle, &VerifyOptions::new(&trust(&[&k]), now)).expect("the seed loads");
    assert_eq!(v.policy.header().app, "acme-erp");
}

/// The signatures of a bundle, repeated: what an attacker without a key can make.
fn with_signatures(bytes: &[u8], encoding: Encoding, times: usize) -> Vec<u8> {
    match encoding {
        Encoding::Json => {
            let mut env: Value = serde_json::from_slice(bytes).unwrap();
            let one = env["signatures"][0].clone();
            env["signatures"] = Value::Array(vec![one; times]);
            env.to_string().into_bytes()
        }
        Encoding::Binary => {
            // Rebuild the frame: magic, version, then the body bytes and the list repeated.
            let env = binary_parts(bytes);
            let frame = (serde_bytes(&env.0), vec![env.1[0].clone(); times]);
            let mut frame = postcard::to_allocvec(&frame).unwrap();
            let mut out = MAGIC.to_vec();
            out.push(BINARY_VERSION);
            out.append(&mut frame);
            out
        }
    }
}

/// A binary bundle's body and signatures `(keyid, sig)`.
fn binary_parts(bytes: &[u8]) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    postcard::from_bytes(&bytes[MAGIC.len() + 1..]).unwrap()
}

/// Bytes as serde writes a byte string (what `&[u8]` fields with `borrow` are).
fn serde_bytes(b: &[u8]) -> impl serde::Serialize + '_ {
    struct Bytes<'a>(&'a [u8]);
    impl serde::Serialize for Bytes<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    Bytes(b)
}

#[test]
fn a_signature_repeated_many_times_costs_one_check_and_too_many_are_refused() {
    let k = key(1);
    let t = trust(&[&k]);
    for encoding in [Encoding::Json, Encoding::Binary] {
        let b = signed(encoding, &[&k]);
        // Up to the cap a repeated signature verifies (it counts once) ...
        assert!(check(&with_signatures(&b, encoding, 16), &t, |_| {}).is_ok());
        // ... above it the bundle is refused before any signature is checked.
        let flood = with_signatures(&b, encoding, 64_000);
        let started = std::time::Instant::now();
        assert_eq!(
            check(&flood, &t, |_| {}).unwrap_err(),
            BundleCode::BadBundle
        );
        // 64,000 checks took ~5 s; the refusal reads the list and stops.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            check(&with_signatures(&b, encoding, 0), &t, |_| {}).unwrap_err(),
            BundleCode::BadBundle
        );
    }
    // A threshold of two is not met by one key signing twice.
    let two = TrustedKeys::new(vec![key(1).public(), key(2).public()]).with_threshold(2);
    let b = with_signatures(&signed(Encoding::Json, &[&k]), Encoding::Json, 2);
    assert_eq!(
        check(&b, &two, |_| {}).unwrap_err(),
        BundleCode::BadSignature
    );
}

#[test]
fn binary_bundles_with_trailing_bytes_are_refused_like_json() {
    let k = key(1);
    let t = trust(&[&k]);
    let mut b = signed(Encoding::Binary, &[&k]);
    assert!(check(&b, &t, |_| {}).is_ok());
    b.extend_from_slice(b"extra");
    assert_eq!(check(&b, &t, |_| {}).unwrap_err(), BundleCode::BadBundle);
    // Trailing bytes inside the signed body too.
    let (mut body, _) = binary_parts(&signed(Encoding::Binary, &[&k]));
    body.push(0);
    let resealed = fieldgate::bundle::seal_unchecked(Encoding::Binary, body, &[&k]);
    assert_eq!(
        check(&resealed, &t, |_| {}).unwrap_err(),
        BundleCode::BadPolicy
    );
}

#[test]
fn versions_past_javascripts_safe_integers_and_inverted_windows_are_refused() {
    let k = key(1);
    let t = trust(&[&k]);
    let mut o = opts(Encoding::Json);
    o.version = Some(1 << 53);
    assert_eq!(
        sign(&policy_bytes(), &[&k], &o).unwrap_err().code,
        BundleCode::BadPolicy
    );
    // Signed anyway (without the checks `sign` makes): verification refuses it.
    let mut doc: Value = serde_json::from_slice(&policy_bytes()).unwrap();
    doc["version"] = json!(9_007_199_254_740_993u64);
    doc["issued_at"] = json!("2026-11-01T00:00:00Z");
    doc["expires_at"] = json!("2026-12-31T00:00:00Z");
    let b = envelope(doc.to_string().as_bytes(), &k);
    assert_eq!(check(&b, &t, |_| {}).unwrap_err(), BundleCode::BadPolicy);
    doc["version"] = json!(2);
    doc["expires_at"] = json!("2026-10-01T00:00:00Z");
    let b = envelope(doc.to_string().as_bytes(), &k);
    assert_eq!(
        check(&b, &t, |o| o.now_ms = NOW - 45 * DAY).unwrap_err(),
        BundleCode::BadPolicy
    );
    let mut o = opts(Encoding::Json);
    o.expires_at_ms = o.issued_at_ms - 1;
    assert_eq!(
        sign(&policy_bytes(), &[&k], &o).unwrap_err().code,
        BundleCode::BadPolicy
    );
}

/// A per-user bundle carries its user as the server resolved them (`person`, reporting line
/// included), inside the signed payload: a session given the id alone decides with it, one that
/// says other things of the user is refused, and so is anyone else, in both encodings.
#[test]
fn a_per_user_bundle_decides_with_its_signed_person() {
    let doc: Value = serde_json::from_slice(&policy_bytes()).unwrap();
    let full = Arc::new(fieldgate::Policy::from_value(&doc).unwrap());
    let ivan: Subject = serde_json::from_value(json!({
        "id": "u-ivan", "department": "sales-east", "roles": [],
        "reports": {"u-alice": 1, "u-bob": 1}
    }))
    .unwrap();
    let small = fieldgate::core::minimize(&doc, &full, &ivan);
    let text = serde_json::to_vec(&small).unwrap();
    for encoding in [Encoding::Json, Encoding::Binary] {
        let o = SignOptions {
            subject: Some("u-ivan".into()),
            ..opts(encoding)
        };
        let bundle = sign(&text, &[&key(1)], &o).unwrap();
        let k = key(1);
        let v = verify(&bundle, &VerifyOptions::new(&trust(&[&k]), NOW)).unwrap();
        let person: Subject =
            serde_json::from_str(v.policy.header().person.as_deref().unwrap()).unwrap();
        assert_eq!(person, ivan);
        let p = Arc::new(v.policy);
        // By id alone: the signed person, so Bob's customers are Ivan's to edit.
        let s = session_for(&p, &Subject::new("u-ivan"), 0).unwrap();
        let bobs = json!({"owner_id": "u-bob", "department": "sales-west"});
        assert!(s
            .can("edit", "customer", Input::json(Some(&bobs), None))
            .unwrap());
        // The same, said in full (roles in another order), is the same.
        assert!(session_for(&p, &ivan, 0).is_ok());
        // Another reporting line or department for him is refused; so is anyone else.
        let mut other = ivan.clone();
        other.reports.insert("u-carol".into(), json!(1));
        let e = session_for(&p, &other, 0).err().unwrap();
        assert_eq!(e.code, BundleCode::SubjectMismatch);
        let moved = Subject {
            department: Some("sales".into()),
            ..ivan.clone()
        };
        assert_eq!(
            session_for(&p, &moved, 0).err().unwrap().code,
            BundleCode::SubjectMismatch
        );
        let e = session_for(&p, &Subject::new("u-bob"), 0).err().unwrap();
        assert_eq!(e.code, BundleCode::WrongSubject);
    }
}

#[test]
fn a_stamp_on_the_compiled_policy_is_what_compiling_the_stamped_document_gives() {
    // Signing compiles once and stamps the header on the compiled form: the binary body must
    // be the policy the stamped JSON payload compiles to, for every stamp.
    let k = key(1);
    let checked = fieldgate::Checked::from_slice(&policy_bytes()).unwrap();
    for (version, subject) in [(None, None), (Some(9), Some("u-alice")), (Some(0), None)] {
        let o = |encoding| SignOptions {
            version,
            subject: subject.map(String::from),
            ..opts(encoding)
        };
        let json = sign_checked(&checked, &[&k], &o(Encoding::Json)).unwrap();
        let binary = sign_checked(&checked, &[&k], &o(Encoding::Binary)).unwrap();
        let trusted = trust(&[&k]);
        let mut v = VerifyOptions::new(&trusted, NOW);
        v.subject = subject;
        let from_json = verify(&json, &v).unwrap();
        let from_binary = verify(&binary, &v).unwrap();
        let compiled = fieldgate::Policy::from_slice(&from_json.body).unwrap();
        // Compared as data: the name indexes are caches filled on first use (their addresses
        // differ), the rest is the policy.
        let data = |p: &fieldgate::Policy| {
            let text = format!("{p:?}");
            let mut out = String::new();
            for (i, part) in text.split("OnceBox(").enumerate() {
                out.push_str(if i == 0 {
                    part
                } else {
                    &part[part.find(')').unwrap()..]
                });
            }
            out
        };
        assert_eq!(data(&from_binary.policy), data(&compiled));
        assert_eq!(from_binary.policy.header(), compiled.header());
        assert_eq!(compiled.header().version, version.unwrap_or(1));
        // And the same bytes as signing the document's text.
        assert_eq!(
            sign(&policy_bytes(), &[&k], &o(Encoding::Binary)).unwrap(),
            binary
        );
    }
    let too_high = SignOptions {
        version: Some(fieldgate::MAX_VERSION + 1),
        ..opts(Encoding::Json)
    };
    let e = sign_checked(&checked, &[&k], &too_high).unwrap_err();
    assert_eq!(e.code, BundleCode::BadPolicy);
    assert_eq!(
        e.policy_errors.unwrap().first_code(),
        fieldgate::Code::BadVersion
    );
}

#[test]
fn the_verifier_says_whether_a_bundle_is_fresh_in_grace_or_stale() {
    // One rule for the verifier, the browser's bundle store and the Node middleware.
    let k = key(1);
    let bytes = signed(Encoding::Binary, &[&k]);
    let trusted = trust(&[&k]);
    let expires = NOW + 30 * DAY;
    let at = |now: i64, grace: Option<i64>| {
        let mut o = VerifyOptions::new(&trusted, now);
        o.grace_ms = grace;
        verify(&bytes, &o).map(|b| b.freshness).map_err(|e| e.code)
    };
    let skew = DEFAULT_SKEW_MS;
    assert_eq!(at(expires + skew, None), Ok(Freshness::Fresh));
    assert_eq!(at(expires + skew + 1, None), Err(BundleCode::Expired));
    assert_eq!(at(expires + skew + 1, Some(DAY)), Ok(Freshness::Grace));
    assert_eq!(at(expires + DAY, Some(DAY)), Ok(Freshness::Grace));
    assert_eq!(at(expires + DAY + 1, Some(DAY)), Ok(Freshness::Stale));
    // Grace never lets anything else through: a rollback is still refused.
    let mut o = VerifyOptions::new(&trusted, expires + DAY + 1);
    o.grace_ms = Some(DAY);
    o.min_version = 8;
    assert_eq!(
        verify(&bytes, &o).map(|_| ()).map_err(|e| e.code),
        Err(BundleCode::Rollback)
    );
    // The rule itself, as the module's `freshnessAt` asks it.
    assert_eq!(freshness(expires, expires, 0, None), Some(Freshness::Fresh));
    assert_eq!(freshness(expires + 1, expires, 0, None), None);
    assert_eq!(
        freshness(expires + 1, expires, 0, Some(0)),
        Some(Freshness::Stale)
    );
}
