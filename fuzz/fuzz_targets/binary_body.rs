//! Arbitrary bytes signed as a binary bundle body, so the postcard decoder of the compiled policy
//! is exercised behind a valid signature: never a panic, a hang or an overflow.
#![no_main]

use fieldgate::bundle::{seal_unchecked, verify, Encoding, SecretKey, TrustedKeys, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let key = SecretKey::from_seed(&[7; 32]);
    let keys = TrustedKeys::new(vec![key.public()]);
    let bundle = seal_unchecked(Encoding::Binary, body.to_vec(), &[&key]);
    let _ = verify(&bundle, &VerifyOptions::new(&keys, 1_795_341_600_000));
});
