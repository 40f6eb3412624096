//! Wakers collected under a lock and woken after it is released.
//!
//! Waking a task can run arbitrary code (an executor may even poll the task
//! inline), which must never happen while one of our locks is held. Every
//! state transition therefore pushes the wakers it unblocks into a
//! [`WakeList`]; the caller drops the lock guard and then calls
//! [`WakeList::wake_all`]. The first few wakers live inline so the common
//! case of waking one task does not allocate.

use std::task::Waker;

const INLINE: usize = 4;

/// A list of wakers to wake once no lock is held.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    /// An empty list.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Queues `waker` to be woken later.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < INLINE {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Queues `waker` if there is one.
    pub(crate) fn push_opt(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.push(w);
        }
    }

    /// Wakes every queued waker. Call only with no lock of this module held.
    pub(crate) fn wake_all(mut self) {
        for slot in &mut self.inline[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}
