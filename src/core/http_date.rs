//! HTTP-dates (RFC 9110 section 5.6.7) for `Retry-After`: IMF-fixdate, RFC 850 and asctime.
//!
//! Why not the `httpdate` crate: it goes through `SystemTime` and carries formatting and panic
//! paths (`Duration`'s `Debug`, `expect`) that cost ~7 KB of wasm. This is its parser, ported as
//! is: same three formats, same checks (the day must exist in the month, the weekday must match
//! the date, years 1970..=9999). A test compares the two on 300k generated strings.

/// Seconds since the Unix epoch of an HTTP-date (IMF-fixdate, RFC 850 or asctime), or `None`.
pub fn secs(s: &str) -> Option<u64> {
    if !s.is_ascii() {
        return None;
    }
    let s = s.trim().as_bytes();
    let d = imf_fixdate(s)
        .or_else(|| rfc850(s))
        .or_else(|| asctime(s))?;
    let (sec, min, hour, day, mon, year, wday) = d;
    if sec >= 60 || min >= 60 || hour >= 24 || !(1..=12).contains(&mon) {
        return None;
    }
    if !(1970..=9999).contains(&year) || day == 0 || day > days_in_month(mon, year) {
        return None;
    }
    let y = year - 1;
    let leap_years = (y - 1968) / 4 - (y - 1900) / 100 + (y - 1600) / 400;
    let mut ydays = CUMULATIVE_DAYS[mon as usize - 1] + day as u64 - 1;
    if is_leap_year(year) && mon > 2 {
        ydays += 1;
    }
    let days = (year as u64 - 1970) * 365 + leap_years as u64 + ydays;
    // 1970-01-01 was a Thursday (Monday is 1).
    if (days + 3) % 7 + 1 != wday as u64 {
        return None;
    }
    Some(sec as u64 + min as u64 * 60 + hour as u64 * 3600 + days * 86400)
}

/// (sec, min, hour, day, month 1..=12, year, weekday 1..=7 from Monday), not yet validated.
type Fields = (u8, u8, u8, u8, u8, u16, u8);

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const CUMULATIVE_DAYS: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

fn is_leap_year(y: u16) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(mon: u8, year: u16) -> u8 {
    match mon {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digit(b: u8) -> Option<u8> {
    let d = b.wrapping_sub(b'0');
    (d < 10).then_some(d)
}

fn int2(s: &[u8]) -> Option<u8> {
    Some(digit(s[0])? * 10 + digit(s[1])?)
}

fn int4(s: &[u8]) -> Option<u16> {
    Some(int2(&s[..2])? as u16 * 100 + int2(&s[2..])? as u16)
}

/// The month whose three-letter name is `s`, 1..=12.
fn month(s: &[u8]) -> Option<u8> {
    MONTHS.iter().position(|m| &m[..] == s).map(|i| i as u8 + 1)
}

/// The weekday whose name, cut to `len` bytes (3 or full), starts `s`, 1..=7; and its length.
fn weekday(s: &[u8], short: bool) -> Option<(u8, usize)> {
    DAYS.iter().enumerate().find_map(|(i, d)| {
        let name = if short {
            &d.as_bytes()[..3]
        } else {
            d.as_bytes()
        };
        s.starts_with(name).then_some((i as u8 + 1, name.len()))
    })
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`
fn imf_fixdate(s: &[u8]) -> Option<Fields> {
    if s.len() != 29 || &s[25..] != b" GMT" || s[16] != b' ' || s[19] != b':' || s[22] != b':' {
        return None;
    }
    let fields = (
        int2(&s[23..25])?,
        int2(&s[20..22])?,
        int2(&s[17..19])?,
        int2(&s[5..7])?,
    );
    if s[7] != b' ' || s[11] != b' ' {
        return None;
    }
    let mon = month(&s[8..11])?;
    let year = int4(&s[12..16])?;
    let (wday, _) = weekday(s, true).filter(|_| &s[3..5] == b", ")?;
    Some((fields.0, fields.1, fields.2, fields.3, mon, year, wday))
}

/// `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years below 70 are 20xx).
fn rfc850(s: &[u8]) -> Option<Fields> {
    if s.len() < 23 {
        return None;
    }
    let (wday, n) = weekday(s, false).filter(|(_, n)| &s[*n..*n + 2] == b", ")?;
    let s = &s[n + 2..];
    if s.len() != 22 || s[12] != b':' || s[15] != b':' || &s[18..22] != b" GMT" {
        return None;
    }
    let yy = int2(&s[7..9])? as u16;
    let year = if yy < 70 { yy + 2000 } else { yy + 1900 };
    let (sec, min, hour, day) = (
        int2(&s[16..18])?,
        int2(&s[13..15])?,
        int2(&s[10..12])?,
        int2(&s[0..2])?,
    );
    if s[2] != b'-' || s[6] != b'-' {
        return None;
    }
    Some((sec, min, hour, day, month(&s[3..6])?, year, wday))
}

/// `Sun Nov  6 08:49:37 1994`
fn asctime(s: &[u8]) -> Option<Fields> {
    if s.len() != 24 || s[10] != b' ' || s[13] != b':' || s[16] != b':' || s[19] != b' ' {
        return None;
    }
    let (sec, min, hour) = (int2(&s[17..19])?, int2(&s[14..16])?, int2(&s[11..13])?);
    let day = if s[8] == b' ' {
        digit(s[9])?
    } else {
        int2(&s[8..10])?
    };
    if s[3] != b' ' || s[7] != b' ' {
        return None;
    }
    let mon = month(&s[4..7])?;
    let year = int4(&s[20..24])?;
    let (wday, _) = weekday(s, true)?;
    Some((sec, min, hour, day, mon, year, wday))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse_like_the_httpdate_crate() {
        let reference = |s: &str| {
            httpdate::parse_http_date(s)
                .ok()
                .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs())
        };
        const WDAYS: [&str; 9] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
            "Sundae",
            "mon",
        ];
        const MONS: [&str; 14] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            "Foo", "jan",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut valid = [0u32; 4];
        for i in 0..300_000 {
            let w = WDAYS[rng.usize(..WDAYS.len())];
            let short = &w[..3];
            let m = MONS[rng.usize(..MONS.len())];
            let day = rng.u32(0..=32);
            let year = if rng.bool() {
                rng.u32(1960..=2200)
            } else {
                rng.u32(9990..=10010)
            };
            let (h, mi, sec) = (rng.u32(0..=25), rng.u32(0..=61), rng.u32(0..=61));
            let mut s = match i % 4 {
                0 => format!("{short}, {day:02} {m} {year:04} {h:02}:{mi:02}:{sec:02} GMT"),
                1 => format!(
                    "{w}, {day:02}-{m}-{:02} {h:02}:{mi:02}:{sec:02} GMT",
                    year % 100
                ),
                2 => format!("{short} {m} {day:>2} {h:02}:{mi:02}:{sec:02} {year:04}"),
                _ => format!("{short} {m} {day:02} {h:02}:{mi:02}:{sec:02} {year:04}"),
            };
            if rng.u8(..) < 20 {
                // A random byte anywhere (separators, digits, non-ASCII).
                let mut b = s.into_bytes();
                let at = rng.usize(..b.len());
                b[at] = [b' ', b'-', b':', b',', b'7', b'x', b'\t'][rng.usize(..7)];
                s = String::from_utf8(b).unwrap();
            }
            if rng.u8(..) < 5 {
                s.push('\u{e9}');
            }
            let want = reference(&s);
            valid[i % 4] += want.is_some() as u32;
            assert_eq!(secs(&s), want, "{s:?}");
        }
        assert!(
            valid.iter().all(|v| *v > 500),
            "valid dates per format: {valid:?}"
        );
    }
}
