//! Arbitrary bytes signed as a binary bundle body, so the postcard decoder of the compiled policy
//! is exercised behind a valid signature; a body that decodes and passes the integrity check is
//! then asked every question: never a panic, a hang or an overflow. The clock reads 2026-12-01,
//! inside the seed's validity window.
#![no_main]

use fieldgate::bundle::{seal_unchecked, verify, Encoding, SecretKey, TrustedKeys, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let key = SecretKey::from_seed(&[7; 32]);
    let keys = TrustedKeys::new(vec![key.public()]);
    let bundle = seal_unchecked(Encoding::Binary, body.to_vec(), &[&key]);
    if let Ok(verified) = verify(&bundle, &VerifyOptions::new(&keys, 1_796_083_200_000)) {
        fieldgate_fuzz::ask_everything(verified.policy);
    }
});
