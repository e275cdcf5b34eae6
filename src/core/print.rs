//! How values print in messages: numbers the way JS prints them, strings the way `{:?}` does.
//!
//! Why by hand: the wasm build carries no `core::fmt` (its float formatting and `Debug`
//! machinery would be most of a config error's cost), so messages are built from these and
//! `cat!` (`core::text`).

use crate::prelude::*;

/// `s` in double quotes, with quotes, backslashes and control characters escaped: what `{:?}`
/// prints for a string, without the `Debug` machinery (see `lib.rs` on the wasm size).
/// A refused input's message: `invalid ballast <what>: <path> = <value> (allowed: <allowed>)`
/// (configs and states read the same).
pub fn invalid(what: &str, path: &str, value: &str, allowed: &str) -> String {
    cat!(
        "invalid ballast ",
        what,
        ": ",
        path,
        " = ",
        value,
        " (allowed: ",
        allowed,
        ")"
    )
}

pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str("\\u{");
                push_hex(&mut out, c as u32);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `n` in lower-case hex, most significant digit first.
fn push_hex(out: &mut String, n: u32) {
    if n >= 16 {
        push_hex(out, n / 16);
    }
    out.push(char::from(b"0123456789abcdef"[(n % 16) as usize]));
}

/// Numbers for messages, the way JS prints them for the values people write: integers without a
/// trailing `.0`, fractions with up to 9 decimals, `NaN` and the infinities by name. Only integer
/// formatting is used: `f64`'s `Display` would bring float formatting into the wasm.
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return (if v > 0.0 { "Infinity" } else { "-Infinity" }).to_string();
    }
    let sign = if v < 0.0 { "-" } else { "" };
    let x = v.abs();
    if x >= 1e21 {
        return cat!(sign, exponential(x));
    }
    if x >= 1e15 || x.fract() == 0.0 {
        return cat!(sign, int_digits(x));
    }
    const SCALE: f64 = 1e9;
    let mut int = x.trunc() as u64;
    let mut frac = ((x - x.trunc()) * SCALE).round() as u64;
    if frac >= SCALE as u64 {
        int += 1;
        frac = 0;
    }
    let padded = cat!(frac + 1_000_000_000); // "1" and nine digits, zeros kept
    let digits = padded.get(1..).unwrap_or_default().trim_end_matches('0');
    if digits.is_empty() {
        cat!(sign, int)
    } else {
        cat!(sign, int, ".", digits)
    }
}

/// `x` (>= 1e21) the way JS prints it: `1e+308`, `1.5e+21`. Natively from Rust's shortest
/// round-trip digits. The wasm build never shows such numbers to users (the npm entry writes
/// config messages from the JS value) and carries no float formatting, so there it gives the
/// leading digit and the magnitude.
#[cfg(not(target_arch = "wasm32"))]
fn exponential(x: f64) -> String {
    alloc::format!("{x:e}").replacen('e', "e+", 1)
}

#[cfg(target_arch = "wasm32")]
fn exponential(x: f64) -> String {
    let (mut m, mut e) = (x / 1e21, 21u32);
    while m >= 10.0 {
        m /= 10.0;
        e += 1;
    }
    cat!(m.trunc() as u32, "e+", e)
}

/// The digits of `x as u128` (`x` >= 0, saturating). Up to `u64::MAX` through `cat!`;
/// above, by doubling the mantissa's decimal digits: `u128`'s `Display` (or even its division)
/// would be more wasm than this, for values nobody writes in a config.
fn int_digits(x: f64) -> String {
    if x < 18_446_744_073_709_551_616.0 {
        return cat!(x as u64);
    }
    if x >= 340_282_366_920_938_463_463_374_607_431_768_211_456.0 {
        return "340282366920938463463374607431768211455".to_string();
    }
    // x = mantissa * 2^exp exactly, with exp >= 12 here.
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // Decimal digits, least significant first.
    let mut digits: Vec<u8> = crate::core::text::decimal(mantissa, &mut [0; 20])
        .iter()
        .rev()
        .map(|b| b - b'0')
        .collect();
    for _ in 0..exp {
        let mut carry = 0;
        for d in digits.iter_mut() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            digits.push(carry);
        }
    }
    digits.iter().rev().map(|d| (b'0' + d) as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_prints_like_debug() {
        for s in [
            "",
            "GET",
            "a \"b\" \\ c",
            "tab\tnew\nline\r",
            "bell\u{7}",
            "\u{7f}",
            "é ✓",
        ] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
    }

    #[test]
    fn numbers_print_like_js() {
        for (v, want) in [
            (1.0, "1"),
            (-1.0, "-1"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (2.999_999_999_9, "3"),
            (1e20, "100000000000000000000"),
            (1e15 + 0.5, "1000000000000000"),
            (18_446_744_073_709_551_615.0, "18446744073709551616"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (1e30, "1e+30"),
            (-1e308, "-1e+308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (3.4e38, "3.4e+38"),
            (1.8e19, "18000000000000000000"),
            (-0.25, "-0.25"),
            (0.05, "0.05"),
            (7.000_000_001, "7.000000001"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(fmt_num(v), want, "{v}");
        }
    }

    #[test]
    fn big_integers_print_like_u128() {
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..20_000 {
            let x = f64::from_bits(rng.u64(0x43e0_0000_0000_0000..0x47ff_ffff_ffff_ffff));
            assert_eq!(int_digits(x), (x as u128).to_string(), "{x}");
        }
    }
}
