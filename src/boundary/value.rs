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
            let s: String = char::decode_utf16(units.iter().map(|u| *u as u16))
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
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
