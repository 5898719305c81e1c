//! Arbitrary bytes imported as an edited permission matrix (CSV or XLSX) over the sample
//! policy's customers: never a panic, and an import that is accepted gives a valid policy.
#![no_main]

use fieldgate::admin::matrix::import;
use fieldgate::core::Policy;
use fieldgate::host::table::{is_xlsx, read_any, Encoding};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::sync::{Arc, OnceLock};

fn sample() -> &'static (Value, Arc<Policy>) {
    static P: OnceLock<(Value, Arc<Policy>)> = OnceLock::new();
    P.get_or_init(|| {
        let text = include_str!("../../examples/acme-erp.policy.json");
        (serde_json::from_str(text).unwrap(), Arc::new(Policy::from_json(text).unwrap()))
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(sheets) = read_any(bytes, Encoding::Auto) else {
        return;
    };
    let Some(first) = sheets.first() else {
        return;
    };
    let sheet = if is_xlsx(bytes) { first.name.as_str() } else { "" };
    let (doc, policy) = sample();
    if let Ok(out) = import(doc, policy, "customer", &first.rows, sheet) {
        Policy::from_value(&out).unwrap();
    }
});
