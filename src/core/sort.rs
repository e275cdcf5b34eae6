//! A stable insertion sort for the engine's tiny slices (the four pressure drivers, the routes
//! below a success-rate threshold).
//!
//! Why not `sort_unstable_by`: in wasm each call site monomorphises the standard library's
//! pattern-defeating quicksort with its sorting networks (`sort9_optimal`, `sort13_optimal`),
//! heapsort fallback and partitioning, several kilobytes per element type, to sort a handful of
//! items. Insertion sort is a few dozen bytes and, for slices this small, as fast. It is stable.
//! At these sizes the standard `sort_unstable_by` also keeps ties in order (it falls back to
//! insertion sort or a stable small-sort below ~20 elements), so results are the same; on longer
//! slices ties now keep their input order instead of an unspecified one.

/// Sorts `v` so that `less(a, b)` never holds for an element `a` after `b`; equal elements keep
/// their order.
pub fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && less(&v[j], &v[j - 1]) {
            v.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_and_keeps_ties_in_order() {
        let mut v = [(3, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (3, 'e'), (0, 'f')];
        sort_by(&mut v, |a, b| a.0 < b.0);
        assert_eq!(
            v,
            [(0, 'f'), (1, 'b'), (1, 'd'), (2, 'c'), (3, 'a'), (3, 'e')]
        );
        let mut e: [u8; 0] = [];
        sort_by(&mut e, |a, b| a < b);
    }
}
