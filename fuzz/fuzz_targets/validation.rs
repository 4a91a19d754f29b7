//! The validation newtypes every handler parses user input with. `parse` must not panic,
//! and what it returns must be a fixed point: parsing a parsed value's text gives the
//! same value (so normalising twice, e.g. lowercasing an email, cannot change an account's
//! key). Region lists must come back distinct, known and sorted by latency.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rh_domain::matchmaking::regions::{parse_regions, RegionLatency};
use rh_domain::validation::{AvatarUrl, Email, Password, Region, Username};

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    allowed: Vec<String>,
    choices: Vec<(String, u32)>,
}

fuzz_target!(|i: Input| {
    let s = i.text.as_str();
    if let Ok(v) = Email::parse(s) {
        assert_eq!(Email::parse(v.as_str()).as_ref(), Ok(&v));
    }
    if let Ok(v) = Username::parse(s) {
        assert_eq!(Username::parse(v.as_str()).as_ref(), Ok(&v));
        assert_eq!(v.lower(), v.lower().to_lowercase());
    }
    if let Ok(v) = Password::parse(s) {
        assert!(Password::parse(v.expose()).is_ok());
    }
    if let Ok(v) = AvatarUrl::parse(s) {
        assert_eq!(AvatarUrl::parse(v.as_str()).as_ref(), Ok(&v));
    }
    if let Ok(v) = Region::parse(s, &i.allowed) {
        // Regions compare without regard to ASCII case and come back lowercased.
        assert!(i.allowed.iter().any(|a| a.eq_ignore_ascii_case(v.as_str())));
        assert_eq!(v.as_str(), v.as_str().to_ascii_lowercase());
        assert_eq!(Region::parse(v.as_str(), &i.allowed).as_ref(), Ok(&v));
    }
    let choices: Vec<RegionLatency> = i
        .choices
        .into_iter()
        .map(|(region, latency_ms)| RegionLatency { region, latency_ms })
        .collect();
    if let Ok(list) = parse_regions(&choices, &i.allowed) {
        assert!(!list.is_empty());
        for (n, c) in list.iter().enumerate() {
            assert!(i.allowed.contains(&c.region), "unknown region accepted");
            assert!(list[..n].iter().all(|p| p.region != c.region), "duplicate region");
            assert!(n == 0 || list[n - 1].latency_ms <= c.latency_ms, "not sorted");
        }
    }
});
