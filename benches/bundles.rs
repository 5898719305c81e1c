//! Bundle loading: a signed 1 MiB policy as a JSON envelope and in the binary form, verified and
//! compiled. Sizes (raw and gzipped) are printed once. Run with `cargo bench --bench bundles`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fieldgate::bundle::{
    sign, verify, Encoding, SecretKey, SignOptions, TrustedKeys, VerifiedBundle, VerifyOptions,
};
use fieldgate::{Input, Subject};
use std::io::Write;
use std::sync::Arc;

mod support;

const NOW: i64 = 1_795_341_600_000;

fn gzipped(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

fn benches(c: &mut Criterion) {
    let key = SecretKey::from_seed(&[1; 32]);
    let keys = TrustedKeys::new(vec![key.public()]);
    let policy = support::big_policy(1 << 20);
    let signed = |doc: &[u8], encoding| {
        let opts = SignOptions {
            version: None,
            issued_at_ms: NOW,
            expires_at_ms: NOW + 86_400_000,
            subject: None,
            encoding,
        };
        sign(doc, &[&key], &opts).unwrap()
    };
    let json = signed(policy.as_bytes(), Encoding::Json);
    let binary = signed(policy.as_bytes(), Encoding::Binary);
    println!(
        "sizes: policy {} B; JSON bundle {} B ({} B gzipped); binary bundle {} B ({} B gzipped)",
        policy.len(),
        json.len(),
        gzipped(&json),
        binary.len(),
        gzipped(&binary)
    );
    let sample = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/acme-erp.policy.json"
    ))
    .unwrap();
    for encoding in [Encoding::Json, Encoding::Binary] {
        let b = signed(&sample, encoding);
        println!(
            "sizes: sample policy as a {encoding:?} bundle: {} B ({} B gzipped)",
            b.len(),
            gzipped(&b)
        );
    }
    let opts = VerifyOptions::new(&keys, NOW);
    let first_decision = |b: VerifiedBundle| {
        let p = Arc::new(b.policy);
        let s = p.session(&Subject::new("u-1"));
        s.can("view", "form7", Input::NONE).unwrap()
    };
    c.bench_function("load + first decision: JSON bundle", |b| {
        b.iter(|| first_decision(verify(black_box(&json), &opts).unwrap()))
    });
    c.bench_function("load + first decision: binary bundle", |b| {
        b.iter(|| first_decision(verify(black_box(&binary), &opts).unwrap()))
    });
    c.bench_function("load: signed 1 MiB JSON bundle (verify + compile)", |b| {
        b.iter_with_large_drop(|| verify(black_box(&json), &opts).unwrap())
    });
    c.bench_function("load: same policy, binary bundle (verify + decode)", |b| {
        b.iter_with_large_drop(|| verify(black_box(&binary), &opts).unwrap())
    });
    // What a publication does with the document: check it (compile, once), then sign its
    // bundle on the compiled form.
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    c.bench_function("publish: check + sign a 1 MiB policy (JSON bundle)", |b| {
        b.iter_with_large_drop(|| {
            let checked = fieldgate::Checked::from_value(black_box(&doc).clone()).unwrap();
            let opts = SignOptions {
                version: None,
                issued_at_ms: NOW,
                expires_at_ms: NOW + 86_400_000,
                subject: None,
                encoding: Encoding::Json,
            };
            let bundle = fieldgate::bundle::sign_checked(&checked, &[&key], &opts).unwrap();
            (checked, bundle)
        })
    });
}

criterion_group! {
    name = bundles;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = benches
}
criterion_main!(bundles);
