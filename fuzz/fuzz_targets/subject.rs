//! Arbitrary bytes read as a subject (what apps and `fieldgate eval` hand over as JSON): never a
//! panic, and what reads writes back to JSON that reads to the same subject.
#![no_main]

use fieldgate::core::Subject;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(subject) = serde_json::from_slice::<Subject>(bytes) {
        let text = serde_json::to_string(&subject).unwrap();
        assert_eq!(serde_json::from_str::<Subject>(&text).unwrap(), subject);
    }
});
