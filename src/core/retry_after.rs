//! Parsing `Retry-After` (RFC 9110 section 10.2.3): delta-seconds or an HTTP-date.
//!
//! Why a pure function: the header is input from the network and must never panic or produce a
//! negative or absurd wait. The caller decides on which statuses it applies (any status it
//! retries, and 413, which RFC 9110 lets carry `Retry-After` for a temporary condition) and clamps
//! the result to `retry.maxRetryAfterMs`; this only turns text into milliseconds.
//!
//! Why the HTTP-date parser is written here rather than taken from the `httpdate` crate: that
//! crate returns `std::time::SystemTime`, and the wasm build is `no_std` (see `lib.rs`). The
//! tests check this parser against `httpdate` on every format and on invalid dates.

/// The headers that say how long to wait, in the order they are read: `Retry-After` wins when a
/// response has it, then the rate-limit headers APIs send instead (the IETF draft's
/// `RateLimit-Reset` and `RateLimit`, and the common `X-` forms). Each is honoured as `Retry-After`
/// is: clamped to `retry.maxRetryAfterMs` and under the deadline. `retry` events name the one used.
pub const WAIT_HEADERS: [&str; 6] = [
    "retry-after",
    "ratelimit-reset",
    "ratelimit",
    "x-ratelimit-reset",
    "x-rate-limit-reset",
    "x-ratelimit-retry-after",
];

/// A number of seconds this large is a Unix time, not a delay (as ky decides: from 2024 on).
const EPOCH_FROM_S: f64 = 1_704_067_200.0;

/// The wait in ms that header `WAIT_HEADERS[kind]` with `value` asks for (`None`: unreadable, or
/// an unknown kind).
pub fn parse_header(kind: usize, value: &str, now_unix_ms: f64) -> Option<f64> {
    match kind {
        0 => parse(value, now_unix_ms),
        1 => seconds(value),
        2 => structured_reset(value),
        3..=5 => {
            let ms = millis(value.trim())?;
            Some(if ms >= EPOCH_FROM_S * 1000.0 {
                (ms - now_unix_ms).max(0.0)
            } else {
                ms
            })
        }
        _ => None,
    }
}

/// Delta-seconds, as `Retry-After` writes them (digits only), in ms.
fn seconds(value: &str) -> Option<f64> {
    let v = value.trim();
    (!v.contains('.')).then(|| millis(v)).flatten()
}

/// A non-negative decimal number of seconds (`12`, `1.5`) in ms, by hand: `str::parse::<f64>`
/// would bring the standard library's float parser, many kilobytes of wasm, for a wait time. The
/// fraction's digits are one integer divided once, so `0.3` is 300 ms exactly.
fn millis(v: &str) -> Option<f64> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.len() + frac.len() == 0 || !digits(int) || !digits(frac) {
        return None;
    }
    let value = |s: &str| s.bytes().fold(0.0, |n, b| n * 10.0 + f64::from(b - b'0'));
    let scale = frac.bytes().fold(1.0, |p, _| p * 10.0);
    let ms = value(int) * 1000.0 + value(frac) * 1000.0 / scale;
    ms.is_finite().then_some(ms)
}

/// The IETF `RateLimit` field's time to reset, in ms: its `t` parameter (the current draft,
/// `"default";r=0;t=30`), or `reset` in the earlier list form (`limit=100, remaining=0,
/// reset=30`). With several policies, the longest wait.
fn structured_reset(value: &str) -> Option<f64> {
    let mut best: Option<f64> = None;
    for part in value.split([';', ',']) {
        let part = part.trim();
        let v = part
            .strip_prefix("t=")
            .or_else(|| part.strip_prefix("reset="));
        if let Some(ms) = v.and_then(seconds) {
            best = Some(best.map_or(ms, |b| b.max(ms)));
        }
    }
    best
}

/// A status retried only when it carries `Retry-After` (content too large: the server says when
/// the condition that made it so ends), as ky does. Any status in `retry.statuses` is retried,
/// and its `Retry-After` honoured, whether it has one or not.
pub const RETRIED_WITH_RETRY_AFTER: u16 = 413;

/// The wait in ms that `value` asks for, given the current wall-clock time in ms since the Unix
/// epoch. Dates in the past mean "now" (0). Unparseable values give `None` (fall back to backoff).
pub fn parse(value: &str, now_unix_ms: f64) -> Option<f64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurdly long digit strings rather than failing: they mean "a very long time".
        let secs = crate::core::text::digits(v).map_or(f64::MAX, |s| s as f64);
        return Some((secs * 1000.0).min(f64::MAX));
    }
    let at_ms = http_date_ms(v.as_bytes(), now_unix_ms)?;
    Some((at_ms - now_unix_ms).max(0.0))
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const WEEKDAYS: [&[u8]; 7] = [
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
];

/// An HTTP-date (RFC 9110 section 5.6.7) in ms since the Unix epoch: the IMF-fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT`, or one of the obsolete forms recipients must accept, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`. Years 1970 to 9999,
/// and the weekday must be the date's. As RFC 9110 asks: a leap second (`23:59:60`, which the
/// grammar allows) is the instant after `:59`, and an RFC 850 two-digit year is the nearest year
/// with those digits that is not more than 50 years after `now_unix_ms`.
fn http_date_ms(s: &[u8], now_unix_ms: f64) -> Option<f64> {
    let (wday, day, mon, year, time) = match s.len() {
        29 if &s[3..5] == b", "
            && s[7] == b' '
            && s[11] == b' '
            && s[16] == b' '
            && &s[25..] == b" GMT" =>
        {
            (
                short_weekday(&s[..3])?,
                num(&s[5..7])?,
                month(&s[8..11])?,
                num(&s[12..16])?,
                &s[17..25],
            )
        }
        24 if s[3] == b' ' && s[7] == b' ' && s[10] == b' ' && s[19] == b' ' => (
            short_weekday(&s[..3])?,
            if s[8] == b' ' {
                num(&s[9..10])?
            } else {
                num(&s[8..10])?
            },
            month(&s[4..7])?,
            num(&s[20..24])?,
            &s[11..19],
        ),
        _ => {
            let comma = s.iter().position(|&b| b == b',')?;
            let (name, r) = s.split_at(comma);
            if r.len() != 24 || &r[..2] != b", " || r[4] != b'-' || r[8] != b'-' || r[11] != b' ' {
                return None;
            }
            if &r[20..] != b" GMT" {
                return None;
            }
            let yy = num(&r[9..11])?;
            (
                WEEKDAYS.iter().position(|d| *d == name)? as u32,
                num(&r[2..4])?,
                month(&r[5..8])?,
                two_digit_year(yy, now_unix_ms),
                &r[12..20],
            )
        }
    };
    if time[2] != b':' || time[5] != b':' {
        return None;
    }
    let (h, m, sec) = (num(&time[..2])?, num(&time[3..5])?, num(&time[6..8])?);
    if h > 23 || m > 59 || sec > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    if day == 0 || day > days_in_month(year, mon) {
        return None;
    }
    let days = days_since_epoch(year, mon, day);
    // 1970-01-01 was a Thursday (index 3 from Monday).
    if (days + 3) % 7 != u64::from(wday) {
        return None;
    }
    let secs = days * 86_400 + u64::from(h * 3_600 + m * 60 + sec);
    Some(secs as f64 * 1000.0)
}

/// The year an RFC 850 date's two digits name: the one in the current century, or the century
/// before when that would be more than 50 years ahead (RFC 9110 section 5.6.7).
fn two_digit_year(yy: u32, now_unix_ms: f64) -> u32 {
    let now = year_of(now_unix_ms);
    let year = now - now % 100 + yy;
    if year > now + 50 {
        year - 100
    } else {
        year
    }
}

/// The (proleptic Gregorian) year of an instant, for instants from 1970 on (earlier ones: 1970).
fn year_of(unix_ms: f64) -> u32 {
    // Howard Hinnant's `civil_from_days`, for days since 1970-01-01.
    let days = if unix_ms > 0.0 {
        (unix_ms / 86_400_000.0) as u64
    } else {
        0
    };
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let year = yoe + era * 400 + u64::from(mp >= 10);
    u32::try_from(year).unwrap_or(u32::MAX)
}

fn short_weekday(s: &[u8]) -> Option<u32> {
    WEEKDAYS.iter().position(|d| &d[..3] == s).map(|i| i as u32)
}

/// The month's number (1-12).
fn month(s: &[u8]) -> Option<u32> {
    MONTHS.iter().position(|m| *m == s).map(|i| i as u32 + 1)
}

/// All ASCII digits (at most 4 of them here), as a number.
fn num(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn is_leap(y: u32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the date (Howard Hinnant's `days_from_civil`, for years >= 1970).
fn days_since_epoch(y: u32, m: u32, d: u32) -> u64 {
    let y = u64::from(if m <= 2 { y - 1 } else { y });
    let (m, d) = (u64::from(m), u64::from(d));
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            // A leap second is the instant after :59.
            ("Sun, 06 Nov 1994 08:49:60 GMT", T, Some(23_000.0)),
            ("Sun, 06 Nov 1994 08:49:61 GMT", T, None),
        ];
        for (input, now, want) in cases {
            assert_eq!(parse(input, *now), *want, "parse({input:?})");
        }
    }

    /// `httpdate` (a dev-dependency) is the oracle: every second in a spread of years, in all three
    /// formats, and the same strings with the weekday or the day broken.
    #[test]
    fn http_dates_agree_with_httpdate() {
        use std::time::{Duration, UNIX_EPOCH};
        let oracle = |s: &str| {
            httpdate::parse_http_date(s)
                .ok()
                .map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as f64)
        };
        let mut rng = fastrand::Rng::with_seed(7);
        let mut checked = 0;
        for _ in 0..20_000 {
            // 1970 to 2200, plus the edges.
            let secs = match rng.u32(0..20) {
                0 => 0,
                1 => 253_402_300_799, // 9999-12-31 23:59:59
                _ => rng.u64(0..7_258_118_400),
            };
            let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
            let (wd, rest) = imf.split_at(3);
            let (dd, mon, yyyy, time) = (&rest[2..4], &rest[5..8], &rest[9..13], &rest[14..22]);
            let long = WEEKDAYS
                .iter()
                .find(|n| &n[..3] == wd.as_bytes())
                .map(|n| std::str::from_utf8(n).unwrap())
                .unwrap();
            let day: u32 = dd.parse().unwrap();
            let forms = [
                imf.clone(),
                format!("{long}, {dd}-{mon}-{} {time} GMT", &yyyy[2..]),
                format!("{wd} {mon} {day:>2} {time} {yyyy}"),
                imf.replacen(wd, if wd == "Mon" { "Tue" } else { "Mon" }, 1),
                imf.replacen(&format!(" {dd} "), " 31 ", 1),
                imf.replacen(&format!(" {dd} "), " 00 ", 1),
                imf.replacen(time, "24:00:00", 1),
            ];
            // The date's own instant as now: an RFC 850 year is then the date's year (`httpdate`
            // reads two-digit years with a fixed pivot instead, so that form is checked below).
            let now = secs as f64 * 1000.0;
            for (i, f) in forms.iter().enumerate() {
                if i != 1 {
                    assert_eq!(http_date_ms(f.as_bytes(), now), oracle(f), "{f:?}");
                }
                checked += 1;
            }
            let want = Some(now);
            assert_eq!(http_date_ms(forms[0].as_bytes(), 0.0), want);
            assert_eq!(http_date_ms(forms[2].as_bytes(), 0.0), want);
            assert_eq!(http_date_ms(forms[1].as_bytes(), now), want);
            // A leap second (which `httpdate` refuses): one second after :59 of that minute.
            let leap = imf.replacen(time, &format!("{}:60", &time[..5]), 1);
            let at59 = imf.replacen(time, &format!("{}:59", &time[..5]), 1);
            let at59 = http_date_ms(at59.as_bytes(), now);
            assert_eq!(
                http_date_ms(leap.as_bytes(), now),
                at59.map(|t| t + 1000.0),
                "{leap:?}"
            );
        }
        assert_eq!(checked, 140_000);
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Sun,  6 Nov 1994 08:49:37 GMT",
            "Sun Nov 06 08:49:37 94",
            "Sundae, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1969 23:59:59 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT ",
            "Sun, 06 Nov 1994 08:4a:37 GMT",
            "Thu, 29 Feb 2001 00:00:00 GMT",
        ] {
            assert_eq!(http_date_ms(bad.as_bytes(), 0.0), oracle(bad), "{bad:?}");
        }
    }

    #[test]
    fn rate_limit_headers() {
        let now = 1_800_000_000_000.0; // 2027-01-15
        let cases: &[(&str, &str, Option<f64>)] = &[
            ("ratelimit-reset", "30", Some(30_000.0)),
            ("ratelimit-reset", " 7 ", Some(7_000.0)),
            ("ratelimit-reset", "1.5", None),
            ("ratelimit-reset", "soon", None),
            ("ratelimit", "\"default\";r=0;t=12", Some(12_000.0)),
            (
                "ratelimit",
                "limit=100, remaining=0, reset=20",
                Some(20_000.0),
            ),
            ("ratelimit", "\"a\";r=0;t=5, \"b\";r=0;t=9", Some(9_000.0)),
            ("ratelimit", "\"default\";r=10", None),
            ("x-ratelimit-reset", "15", Some(15_000.0)),
            ("x-ratelimit-reset", "0.25", Some(250.0)),
            ("x-ratelimit-retry-after", "0.3", Some(300.0)),
            ("x-ratelimit-reset", "1800000042", Some(42_000.0)), // a Unix time
            ("x-ratelimit-reset", "1700000000", Some(1_700_000_000_000.0)), // before 2024: a delay
            ("x-ratelimit-reset", "1799999000", Some(0.0)),      // a Unix time past: now
            ("x-rate-limit-reset", "3", Some(3_000.0)),
            ("x-ratelimit-retry-after", "4", Some(4_000.0)),
            ("x-ratelimit-reset", "-1", None),
            ("x-ratelimit-reset", "1e3", None),
            ("x-ratelimit-reset", ".", None),
            ("retry-after", "2", Some(2_000.0)),
        ];
        for (name, value, want) in cases {
            let kind = WAIT_HEADERS.iter().position(|h| h == name).unwrap();
            assert_eq!(parse_header(kind, value, now), *want, "{name}: {value}");
        }
        assert_eq!(parse_header(WAIT_HEADERS.len(), "1", now), None);
    }

    #[test]
    fn rfc850_years_follow_the_fifty_year_rule() {
        let at = |y: u32| {
            let days = days_since_epoch(y, 6, 1);
            days as f64 * 86_400_000.0
        };
        for (now, yy, want) in [
            (1994, 94, 1994),
            (2026, 94, 1994),
            (2026, 70, 2070), // not more than 50 years ahead: this century
            (2026, 76, 2076),
            (2026, 77, 1977), // 51 years ahead: the century before
            (2026, 0, 2000),
            (2099, 49, 2049), // not in the future: as written
            (2099, 99, 2099),
            (2100, 50, 2150),
            (2100, 51, 2051),
        ] {
            assert_eq!(year_of(at(now)), now);
            assert_eq!(two_digit_year(yy, at(now)), want, "{yy:02} in {now}");
        }
        assert_eq!(year_of(0.0), 1970);
        assert_eq!(year_of(-5.0), 1970);
        assert_eq!(year_of(at(9999) + 200.0 * 86_400_000.0), 9999);
    }

    #[test]
    fn huge_delta_saturates_instead_of_failing() {
        let d = parse("99999999999999999999999999", 0.0).unwrap();
        assert!(d > 1e20);
    }
}
