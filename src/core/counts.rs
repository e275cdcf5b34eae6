//! Counters by reason (give-ups, sheds, fallback uses): a few `&'static str` keys, kept sorted.
//!
//! Why not a `BTreeMap`: there are at most nine reasons per map, and in wasm the B-tree's node
//! handling (insert, split, bulk build) plus the stable sort behind `collect()` cost several
//! kilobytes. A sorted `Vec` gives the same key order (the snapshot's object key order) and
//! makes the snapshot's copy a plain `clone()`.

use crate::prelude::*;
/// Counts by key, in key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts(Vec<(&'static str, u64)>);

impl Counts {
    /// Adds one to `key`.
    pub fn add(&mut self, key: &'static str) {
        // The same reason comes from the same literal: found by its address before its text
        // (the simulator counts a reason per failed call; the fetch path keeps its bytes).
        if cfg!(not(feature = "binding")) {
            if let Some((_, n)) = self.0.iter_mut().find(|(k, _)| core::ptr::eq(*k, key)) {
                *n += 1;
                return;
            }
        }
        match self.0.iter().position(|(k, _)| *k >= key) {
            Some(i) if self.0[i].0 == key => self.0[i].1 += 1,
            Some(i) => self.0.insert(i, (key, 1)),
            None => self.0.push((key, 1)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&u64> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// `(key, count)` in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.0.iter().copied()
    }

    pub fn values(&self) -> impl Iterator<Item = &u64> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_key_order() {
        let mut c = Counts::default();
        for k in [
            "queue-timeout",
            "aborted",
            "queue-full",
            "aborted",
            "deadline",
        ] {
            c.add(k);
        }
        let all: Vec<_> = c.iter().collect();
        assert_eq!(
            all,
            [
                ("aborted", 2),
                ("deadline", 1),
                ("queue-full", 1),
                ("queue-timeout", 1)
            ]
        );
        assert_eq!(c.get("aborted"), Some(&2));
        assert_eq!(c.get("nope"), None);
        assert_eq!(c.values().sum::<u64>(), 5);
        assert_eq!(c.len(), 4);
    }
}
