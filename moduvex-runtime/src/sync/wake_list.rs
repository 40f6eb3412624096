//! Wakers collected under a lock and woken after it is released.
//!
//! Waking a task can run arbitrary code (an executor may even poll the task
//! inline), which must never happen while one of our locks is held. Every
//! state transition therefore pushes the wakers it unblocks into a
//! [`WakeList`]; the caller drops the lock guard and then calls
//! [`WakeList::wake_all`]. The first few wakers live inline so the common
//! case of waking one task does not allocate.
//!
//! Dropping a waker can run arbitrary code too (its `Drop` may notify,
//! send or lock the very primitive that stored it), so a waker that is
//! replaced or removed under a lock is never dropped there either: the
//! functions that displace one return it (see [`register`]) and the caller
//! drops it once the guard is gone.

use std::task::Waker;

const INLINE: usize = 4;

/// Stores a clone of `waker` in `slot` unless the waker already there wakes
/// the same task, and returns the waker it displaced.
///
/// The caller holds the lock guarding `slot`, so it must drop the returned
/// waker only after releasing that lock.
#[must_use = "the displaced waker must be dropped after the lock is released"]
pub(crate) fn register(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{register, WakeList};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_inline_and_spilled_wakers_once() {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        let mut list = WakeList::new();
        for _ in 0..super::INLINE + 3 {
            list.push(Waker::from(Arc::clone(&c)));
        }
        list.push_opt(None);
        list.wake_all();
        assert_eq!(c.0.load(Ordering::SeqCst), super::INLINE + 3);
        assert_eq!(Arc::strong_count(&c), 1);
    }

    #[test]
    fn register_keeps_a_waker_for_the_same_task() {
        let task_a = Arc::new(Count(AtomicUsize::new(0)));
        let a = Waker::from(Arc::clone(&task_a));
        let task_b = Arc::new(Count(AtomicUsize::new(0)));
        let b = Waker::from(Arc::clone(&task_b));
        let mut slot = None;
        assert!(register(&mut slot, &a).is_none());
        // A clone wakes the same task: kept, and not cloned again.
        assert!(register(&mut slot, &a.clone()).is_none());
        assert_eq!(Arc::strong_count(&task_a), 3);
        let displaced = register(&mut slot, &b).expect("a is replaced");
        drop(displaced);
        assert_eq!(Arc::strong_count(&task_a), 2);
        slot.take().expect("b is stored").wake();
        assert_eq!(task_b.0.load(Ordering::SeqCst), 1);
    }
}
