//! Parsing `Retry-After` (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date.
//!
//! Why a pure function: the header is input from the network and must never panic or produce a
//! negative or absurd wait. The caller decides on which statuses it applies (429 and 503) and
//! clamps the result to `retry.maxRetryAfterMs`; this only turns text into milliseconds.

/// Statuses on which `Retry-After` is honoured.
pub fn applies_to(status: u16) -> bool {
    status == 429 || status == 503
}

/// The wait in ms that `value` asks for, given the current wall-clock time in ms since the Unix
/// epoch. Dates in the past mean "now" (0). Unparseable values give `None` (fall back to backoff).
pub fn parse(value: &str, now_unix_ms: f64) -> Option<f64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurdly long digit strings rather than failing: they mean "a very long time".
        let secs: f64 = v.parse::<u64>().map(|s| s as f64).unwrap_or(f64::MAX);
        return Some((secs * 1000.0).min(f64::MAX));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as f64;
    Some((at_ms - now_unix_ms).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Sun, 06 Nov 1994 08:49:37 GMT
    const T: f64 = 784_111_777_000.0;

    #[test]
    fn table() {
        let cases: &[(&str, f64, Option<f64>)] = &[
            ("0", T, Some(0.0)),
            ("1", T, Some(1_000.0)),
            ("  120 ", T, Some(120_000.0)),
            ("-1", T, None),
            ("1.5", T, None),
            ("", T, None),
            ("soon", T, None),
            ("Sun, 06 Nov 1994 08:49:37 GMT", T, Some(0.0)),
            ("Sun, 06 Nov 1994 08:49:47 GMT", T, Some(10_000.0)),
            ("Sun, 06 Nov 1994 08:49:27 GMT", T, Some(0.0)), // past: now
            ("Sunday, 06-Nov-94 08:49:39 GMT", T, Some(2_000.0)), // RFC 850
            ("Sun Nov  6 08:49:40 1994", T, Some(3_000.0)),  // asctime
            ("Sun, 06 Nov 1994 08:49:37 PST", T, None),
            ("Sun, 32 Nov 1994 08:49:37 GMT", T, None),
        ];
        for (input, now, want) in cases {
            assert_eq!(parse(input, *now), *want, "parse({input:?})");
        }
    }

    #[test]
    fn huge_delta_saturates_instead_of_failing() {
        let d = parse("99999999999999999999999999", 0.0).unwrap();
        assert!(d > 1e20);
    }

    #[test]
    fn applies_only_to_429_and_503() {
        assert!(applies_to(429) && applies_to(503));
        assert!(!applies_to(500) && !applies_to(502) && !applies_to(200));
    }
}
