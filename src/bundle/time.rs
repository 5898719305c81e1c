//! RFC 3339 timestamps as milliseconds since the Unix epoch. No clock is read here.

use std::time::{Duration, UNIX_EPOCH};

/// Parses an RFC 3339 timestamp (e.g. `2026-11-22T10:00:00Z`) into Unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(text).ok()?;
    let ms = t.duration_since(UNIX_EPOCH).ok()?.as_millis();
    i64::try_from(ms).ok()
}

/// Formats Unix milliseconds as RFC 3339 UTC with second precision.
pub fn format_rfc3339(ms: i64) -> String {
    let secs = u64::try_from(ms.max(0) / 1000).unwrap_or(0);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let ms = super::parse_rfc3339("2026-11-22T10:00:00Z").unwrap();
        assert_eq!(ms, 1_795_341_600_000);
        assert_eq!(super::format_rfc3339(ms), "2026-11-22T10:00:00Z");
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }
}
