//! Building message text without `core::fmt`.
//!
//! Why: the wasm build carries no formatting machinery otherwise (see `lib.rs`), and `format!`
//! alone brings `fmt::write`, `Formatter::pad`, integer `Display` and the `fmt::Write` glue, for
//! messages that only ever join strings and integers. `cat!` joins pieces instead:
//! `cat!("routes[", i, "].name")`.

use crate::prelude::*;

/// Something `cat!` can append: strings and unsigned integers.
pub trait Piece {
    fn push_to(&self, out: &mut String);
    /// At least the bytes it appends (the string is allocated once).
    fn size_hint(&self) -> usize;
}

impl Piece for str {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
    fn size_hint(&self) -> usize {
        str::len(self)
    }
}

impl Piece for String {
    fn push_to(&self, out: &mut String) {
        out.push_str(self);
    }
    fn size_hint(&self) -> usize {
        String::len(self)
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn push_to(&self, out: &mut String) {
        (**self).push_to(out);
    }
    fn size_hint(&self) -> usize {
        (**self).size_hint()
    }
}

/// The decimal digits of `n`, written at the end of `buf` (no allocation: the wasm panic handler
/// uses this too).
pub fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

impl Piece for u64 {
    fn push_to(&self, out: &mut String) {
        for &b in decimal(*self, &mut [0; 20]) {
            out.push(char::from(b));
        }
    }
    fn size_hint(&self) -> usize {
        20
    }
}

macro_rules! widen {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn push_to(&self, out: &mut String) {
                (*self as u64).push_to(out);
            }
            fn size_hint(&self) -> usize {
                20
            }
        }
    )*};
}
widen!(u16, u32, usize);

/// The number a string of ASCII digits writes: `None` when it is empty, has another character, or
/// is above `u64::MAX`. What `str::parse::<u64>` gives such strings, without its general parser.
pub fn digits(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        let d = b.wrapping_sub(b'0');
        (d < 10).then_some(())?;
        n.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// The one loop behind every `cat!`: a call per message instead of inlined appends at each site.
pub fn join(pieces: &[&dyn Piece]) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|p| p.size_hint()).sum());
    for p in pieces {
        p.push_to(&mut out);
    }
    out
}

/// Joins its arguments (strings and unsigned integers) into a new `String`.
#[macro_export]
#[doc(hidden)]
macro_rules! cat {
    ($($piece:expr),* $(,)?) => {
        $crate::core::text::join(&[$(&$piece as &dyn $crate::core::text::Piece),*])
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins_strings_and_integers_like_format() {
        let name = String::from("b");
        for n in [0u64, 7, 10, 99, 1_000, u64::MAX] {
            assert_eq!(
                cat!("x[", n, "]=", &name, name),
                format!("x[{n}]={name}{name}")
            );
        }
        assert_eq!(
            cat!(3usize, 65_535u16, u32::MAX),
            format!("3{}{}", 65_535, u32::MAX)
        );
        assert_eq!(cat!(), "");
    }

    #[test]
    fn digits_read_as_parse_reads_them() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut cases: Vec<String> = [
            "",
            "0",
            "007",
            "18446744073709551615",
            "18446744073709551616",
            "+1",
            "1a",
            " 1",
            "٣",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..20_000 {
            let n = rng.usize(0..24);
            cases.push(
                (0..n)
                    .map(|_| {
                        rng.choice(b"0123456789+-a ".iter())
                            .map_or('0', |b| char::from(*b))
                    })
                    .collect(),
            );
            cases.push(rng.u64(..).to_string());
        }
        for s in cases {
            let want = if s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<u64>().ok()
            } else {
                None
            };
            assert_eq!(super::digits(&s), want, "{s:?}");
        }
    }
}
