//! A first-in, first-out queue: a `Vec` and the index of its front.
//!
//! Why not `VecDeque`: its ring buffer (wrap-around copies as it grows, two slices to walk) is more
//! wasm than the engine's queues need. They empty often (a step's actions and events are drained
//! after every input, the limiter's line whenever slots free up), and then this one starts over at
//! the front of its allocation; short of that, what was taken is dropped once it is half the
//! list, so each item moves at most once and the list holds at most twice what is queued.

use crate::prelude::*;

#[derive(Debug, Clone)]
pub struct Fifo<T> {
    /// `items[head..]` are queued (all `Some`); those before were taken.
    items: Vec<Option<T>>,
    head: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo {
            items: Vec::new(),
            head: 0,
        }
    }
}

impl<T> Fifo<T> {
    pub fn push(&mut self, x: T) {
        self.items.push(Some(x));
    }

    /// Takes the front item.
    pub fn pop(&mut self) -> Option<T> {
        let x = self.items.get_mut(self.head)?.take();
        self.head += 1;
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        } else if self.head >= 32 && 2 * self.head >= self.items.len() {
            self.items.drain(..self.head);
            self.head = 0;
        }
        x
    }

    /// The front item.
    pub fn front(&self) -> Option<&T> {
        self.items.get(self.head)?.as_ref()
    }

    /// The back item (the last pushed that is still queued).
    pub fn back(&self) -> Option<&T> {
        self.items[self.head..].last()?.as_ref()
    }

    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.items.get_mut(self.head)?.as_mut()
    }

    /// The queued items, front first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items[self.head..].iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.items.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the first item for which `f` holds, wherever it is in the queue.
    pub fn take_first(&mut self, f: impl Fn(&T) -> bool) -> Option<T> {
        let at = self.items.iter().position(|x| x.as_ref().is_some_and(&f))?;
        self.items.remove(at)
    }

    /// Keeps only the queued items for which `f` holds, in order.
    pub fn retain(&mut self, f: impl Fn(&T) -> bool) {
        self.items.drain(..self.head);
        self.head = 0;
        self.items.retain(|x| x.as_ref().is_some_and(&f));
    }

    /// Bytes of heap the queue holds (for the memory-bound tests).
    pub fn footprint(&self) -> usize {
        self.items.capacity() * core::mem::size_of::<Option<T>>()
    }
}
