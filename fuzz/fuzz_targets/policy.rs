//! Loads arbitrary bytes as a policy and, when it loads, asks every resource every question:
//! never a panic, a hang or a stack overflow.
#![no_main]

use fieldgate::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(policy) = Policy::from_slice(bytes) {
        fieldgate_fuzz::ask_everything(policy);
    }
});
