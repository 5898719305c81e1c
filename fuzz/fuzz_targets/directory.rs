//! Arbitrary bytes read as a directory file (CSV in UTF-8 or GBK, XLSX or JSON, as admins
//! upload them): never a panic, and a directory that loads writes back to a table that loads to
//! the same people.
#![no_main]

use fieldgate::admin::Directory;
use fieldgate::core::Policy;
use fieldgate::host::sheets::read_directory;
use fieldgate::host::table::Encoding;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| {
        Policy::from_json(include_str!("../../examples/acme-erp.policy.json")).unwrap()
    })
}

fuzz_target!(|bytes: &[u8]| {
    let org = fieldgate::admin::directory::Org::of(Some(policy()));
    if let Ok(d) = read_directory(bytes, Encoding::Auto, org) {
        let again = Directory::from_table(&d.to_table(), Some(policy())).unwrap();
        assert_eq!(again.people(), d.people());
    }
});
