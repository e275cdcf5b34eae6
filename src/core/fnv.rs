//! FNV-1a, 64 bits: a few lines, the same bits on every host, good enough to tell two inputs
//! apart (not a defence against forgery). The config's fingerprint and the simulator's run digest
//! both feed their own encodings through it.

/// The hash state: `new`, then `bytes` as often as needed; `0` is the hash so far.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(pub u64);

impl Fnv1a {
    pub fn new() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }

    pub fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Default for Fnv1a {
    fn default() -> Self {
        Self::new()
    }
}
