//! Plain data off a tape: the config the npm entry encoded (`pkg/config.js`).

use super::*;

/// Reads one plain value (a config the npm entry encoded) off `tape`; `None` for a tape that is
/// not one (the executor's bug, reported as such). Never panics, whatever the tape holds.
pub fn read_value(tape: &[f64]) -> Option<Value> {
    let mut i = 0;
    let v = value_at(tape, &mut i, 0)?;
    (i == tape.len()).then_some(v)
}

/// Deeper than any config: a tape that nests further is refused, not walked.
const MAX_DEPTH: u32 = 16;

fn value_at(t: &[f64], i: &mut usize, depth: u32) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut next = || {
        let v = t.get(*i).copied();
        *i += 1;
        v
    };
    let tag = next()?;
    Some(match tag {
        NUMBER => Value::Num(next()?),
        STRING | OTHER => {
            let n = next()? as usize;
            let units = t.get(*i..i.checked_add(n)?)?;
            *i += n;
            let s = utf16(units);
            if tag == STRING {
                Value::Str(s)
            } else {
                Value::Other(s)
            }
        }
        TRUE => Value::Bool(true),
        FALSE => Value::Bool(false),
        NULL => Value::Null,
        LIST => {
            let n = next()? as usize;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(value_at(t, i, depth + 1)?);
            }
            Value::List(items)
        }
        OBJECT => {
            let n = next()? as usize;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let Value::Str(k) = value_at(t, i, depth + 1)? else {
                    return None;
                };
                pairs.push((k, value_at(t, i, depth + 1)?));
            }
            Value::Obj(pairs)
        }
        _ => return None,
    })
}

/// The text of UTF-16 code units (JS strings' own), a lone surrogate read as U+FFFD, as
/// `char::decode_utf16` reads them: by hand, a loop where the iterator adapters were several.
fn utf16(units: &[f64]) -> String {
    let mut s = String::with_capacity(units.len());
    let mut i = 0;
    while let Some(&u) = units.get(i) {
        let u = u32::from(u as u16);
        i += 1;
        let c = match u {
            0xD800..=0xDBFF => match units.get(i).map(|&l| u32::from(l as u16)) {
                Some(l @ 0xDC00..=0xDFFF) => {
                    i += 1;
                    0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00)
                }
                _ => 0xFFFD,
            },
            0xDC00..=0xDFFF => 0xFFFD,
            u => u,
        };
        s.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_reads_as_decode_utf16_does() {
        let mut rng = fastrand::Rng::with_seed(3);
        let edges = [
            0, 0x41, 0xE9, 0xD7FF, 0xD800, 0xD83D, 0xDBFF, 0xDC00, 0xDE00, 0xDFFF, 0xE000, 0xFFFD,
            0xFFFF,
        ];
        for _ in 0..50_000 {
            let units: Vec<u16> = (0..rng.usize(0..8))
                .map(|_| {
                    if rng.bool() {
                        edges[rng.usize(..edges.len())]
                    } else {
                        rng.u16(..)
                    }
                })
                .collect();
            let want: String = char::decode_utf16(units.iter().copied())
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            let tape: Vec<f64> = units.iter().map(|&u| f64::from(u)).collect();
            assert_eq!(utf16(&tape), want, "{units:x?}");
        }
    }
}
