//! Untrusted bytes as a bundle (JSON envelope or binary frame), verified against a fixed key:
//! never a panic, and never accepted.
#![no_main]

use fieldgate::bundle::{verify, SecretKey, TrustedKeys, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let keys = TrustedKeys::new(vec![SecretKey::from_seed(&[7; 32]).public()]);
    let opts = VerifyOptions::new(&keys, 1_795_341_600_000);
    assert!(verify(bytes, &opts).is_err(), "an unsigned input verified");
});
