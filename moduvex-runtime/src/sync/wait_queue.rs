//! A FIFO queue of waiters with O(1) removal from the middle, without `unsafe`.
//!
//! Waiters live in a [`Slab`] and are threaded into a doubly linked list by
//! slab key. The one idea: *a slot belongs to the future that created it*, not
//! to the list. Whoever wakes a waiter only [`unlink`](WaitQueue::unlink)s it
//! and records the outcome in the slot; the future reads that outcome on its
//! next poll (or in its `Drop`) and then [`remove`](WaitQueue::remove)s the
//! slot. A key is therefore never reused while its owner may still look at
//! it, so no generation counters are needed.

use slab::Slab;

#[derive(Debug)]
struct Node<T> {
    value: T,
    prev: Option<usize>,
    next: Option<usize>,
    linked: bool,
}

/// Slab-backed FIFO of waiters, see the module docs.
#[derive(Debug)]
pub(crate) struct WaitQueue<T> {
    slab: Slab<Node<T>>,
    head: Option<usize>,
    tail: Option<usize>,
    linked: usize,
}

impl<T> Default for WaitQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> WaitQueue<T> {
    /// An empty queue; allocates nothing.
    pub(crate) const fn new() -> Self {
        WaitQueue {
            slab: Slab::new(),
            head: None,
            tail: None,
            linked: 0,
        }
    }

    /// Whether no waiter is linked (slots of unlinked waiters may remain).
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Number of linked waiters.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// Appends a linked waiter and returns the key of its slot.
    pub(crate) fn push_back(&mut self, value: T) -> usize {
        let key = self.slab.insert(Node {
            value,
            prev: self.tail,
            next: None,
            linked: true,
        });
        match self.tail {
            Some(t) => self.slab[t].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.linked += 1;
        key
    }

    /// Key of the first linked waiter.
    pub(crate) fn front(&self) -> Option<usize> {
        self.head
    }

    /// Key of the linked waiter after `key` (which must be linked).
    #[cfg(test)]
    pub(crate) fn next(&self, key: usize) -> Option<usize> {
        self.slab[key].next
    }

    /// Whether the slot `key` is still in the list.
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.slab[key].linked
    }

    /// The waiter in slot `key`.
    #[cfg(test)]
    pub(crate) fn get(&self, key: usize) -> &T {
        &self.slab[key].value
    }

    /// The waiter in slot `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.slab[key].value
    }

    /// Takes slot `key` out of the list but keeps it for its owner to read.
    /// Does nothing if it is already unlinked.
    pub(crate) fn unlink(&mut self, key: usize) {
        let node = &mut self.slab[key];
        if !node.linked {
            return;
        }
        node.linked = false;
        let (prev, next) = (node.prev.take(), node.next.take());
        match prev {
            Some(p) => self.slab[p].next = next,
            None => self.head = next,
        }
        match next {
            Some(n) => self.slab[n].prev = prev,
            None => self.tail = prev,
        }
        self.linked -= 1;
    }

    /// Unlinks the first waiter and returns its key.
    pub(crate) fn pop_front(&mut self) -> Option<usize> {
        let key = self.head?;
        self.unlink(key);
        Some(key)
    }

    /// Unlinks the last waiter and returns its key.
    pub(crate) fn pop_back(&mut self) -> Option<usize> {
        let key = self.tail?;
        self.unlink(key);
        Some(key)
    }

    /// Frees slot `key` (unlinking it first if needed) and returns its waiter.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        self.unlink(key);
        self.slab.remove(key).value
    }

    /// Unlinks every waiter, front to back, handing each to `f`.
    pub(crate) fn drain_linked(&mut self, mut f: impl FnMut(&mut T)) {
        while let Some(key) = self.pop_front() {
            f(&mut self.slab[key].value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WaitQueue;

    fn order(q: &WaitQueue<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = q.front();
        while let Some(k) = cur {
            out.push(*q.get(k));
            cur = q.next(k);
        }
        out
    }

    #[test]
    fn fifo_and_middle_removal() {
        let mut q = WaitQueue::new();
        let a = q.push_back(1);
        let b = q.push_back(2);
        let c = q.push_back(3);
        assert_eq!(order(&q), [1, 2, 3]);
        assert_eq!(q.remove(b), 2);
        assert_eq!(order(&q), [1, 3]);
        q.unlink(a);
        assert!(!q.is_linked(a));
        assert_eq!(*q.get(a), 1);
        assert_eq!(order(&q), [3]);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop_front(), Some(c));
        assert!(q.is_empty());
        assert_eq!(q.remove(a), 1);
        assert_eq!(q.remove(c), 3);
        let d = q.push_back(4);
        q.push_back(5);
        q.unlink(d);
        q.unlink(d);
        assert_eq!(order(&q), [5]);
    }

    #[test]
    fn drain_visits_in_order() {
        let mut q = WaitQueue::new();
        for i in 0..5 {
            q.push_back(i);
        }
        let mut seen = Vec::new();
        q.drain_linked(|v| seen.push(*v));
        assert_eq!(seen, [0, 1, 2, 3, 4]);
        assert!(q.is_empty());
        assert_eq!(q.front(), None);
    }
}
