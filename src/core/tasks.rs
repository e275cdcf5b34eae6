//! The calls in progress, by id.
//!
//! Why ids carry a generation: an attempt's answer can arrive after its call has settled (a hedge
//! that lost, a transport that ignored its abort), and a timer can come up for a call that is gone.
//! By then the call's slot may hold another call. The id names the slot *and* the call, so such a
//! late input is recognised and ignored instead of reaching the wrong call.

use crate::prelude::*;

/// A call's id: its slot and the slot's generation. Fits in 53 bits, so it crosses to JS as a
/// number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u64);

/// Generations wrap here, keeping ids below 2^53.
const GENERATIONS: u32 = 1 << 20;

impl TaskId {
    fn new(index: u32, generation: u32) -> Self {
        TaskId((u64::from(generation) << 32) | u64::from(index))
    }
    fn index(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }
    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
    /// The slot it names: dense, reused after the call ends, so an executor can keep what it
    /// tracks per call in a `Vec` (checking the whole id to tell calls in one slot apart).
    pub fn slot(self) -> usize {
        self.index()
    }
    /// The id as an integer below 2^53.
    pub fn to_bits(self) -> u64 {
        self.0
    }
    pub fn from_bits(bits: u64) -> Self {
        TaskId(bits)
    }
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
    /// Reserved: its call is out (`take`) and comes back (`restore`) or goes (`release`).
    taken: bool,
}

/// Calls in slots that are reused; `free` lists the empty ones.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, value: T) -> TaskId {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.value = Some(value);
                TaskId::new(i, slot.generation)
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    value: Some(value),
                    taken: false,
                });
                TaskId::new((self.slots.len() - 1) as u32, 0)
            }
        }
    }

    fn slot(&self, id: TaskId) -> Option<&Slot<T>> {
        self.slots
            .get(id.index())
            .filter(|s| s.generation == id.generation())
    }

    /// Whether `id` names a call in progress (out on `take` or not).
    pub fn contains(&self, id: TaskId) -> bool {
        self.slot(id).is_some_and(|s| s.value.is_some() || s.taken)
    }

    pub fn get(&self, id: TaskId) -> Option<&T> {
        self.slot(id).and_then(|s| s.value.as_ref())
    }

    /// Takes the call out to work on it beside the rest of the engine; its id stays reserved
    /// until `restore` or `release`.
    pub fn take(&mut self, id: TaskId) -> Option<T> {
        let slot = self.slots.get_mut(id.index())?;
        if slot.generation != id.generation() {
            return None;
        }
        let value = slot.value.take()?;
        slot.taken = true;
        Some(value)
    }

    pub fn restore(&mut self, id: TaskId, value: T) {
        let slot = &mut self.slots[id.index()];
        slot.value = Some(value);
        slot.taken = false;
    }

    /// Frees a taken call's slot: its id is never valid again.
    pub fn release(&mut self, id: TaskId) {
        let slot = &mut self.slots[id.index()];
        slot.taken = false;
        slot.value = None;
        slot.generation = (slot.generation + 1) % GENERATIONS;
        self.free.push(id.index() as u32);
        self.live -= 1;
    }

    /// Calls in progress.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The calls not out on `take`, with their ids.
    pub fn iter(&self) -> impl Iterator<Item = (TaskId, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            s.value
                .as_ref()
                .map(|v| (TaskId::new(i as u32, s.generation), v))
        })
    }

    /// The calls not out on `take`, to change.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|s| s.value.as_mut())
    }

    /// Heap bytes held (memory-bound tests).
    pub fn footprint(&self) -> usize {
        self.slots.capacity() * core::mem::size_of::<Slot<T>>() + self.free.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_id_never_names_the_next_call_in_its_slot() {
        let mut s: Slab<&str> = Slab::default();
        let a = s.insert("a");
        assert_eq!(s.take(a), Some("a"));
        assert!(s.contains(a), "reserved while out");
        s.release(a);
        let b = s.insert("b");
        assert_ne!(a, b);
        assert_eq!(s.get(a), None);
        assert_eq!(s.take(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.len(), 1);
        assert!(TaskId::from_bits(b.to_bits()) == b && b.to_bits() < 1 << 53);
    }
}
