//! Parses arbitrary text as an RFC 3339 timestamp (bundles carry `issuedAt` / `expiresAt`):
//! never a panic or an overflow, and what parses formats back to the same second.
#![no_main]

use fieldgate::bundle::{format_rfc3339, parse_rfc3339};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(ms) = parse_rfc3339(text) {
        assert!(ms >= 0);
        let second = ms - ms % 1000;
        assert_eq!(parse_rfc3339(&format_rfc3339(ms)), Some(second));
    }
});
