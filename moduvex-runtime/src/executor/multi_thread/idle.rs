//! Which workers sleep, and how many are searching for work.
//!
//! A new stealable task wakes at most one sleeping worker, and none while
//! another worker is already searching (it will find the task): no
//! thundering herd. A worker searches from the moment it runs out of its
//! own work (stealing, then spinning) until it finds a task or sleeps; a
//! worker woken by a notifier starts out searching. The last searcher to
//! find work wakes one more sleeper, so a burst of tasks fans out one
//! worker at a time.
//!
//! # Why no task waits while a worker is idle
//!
//! A publisher pushes its task, then (after a `SeqCst` fence) reads the
//! searching and sleeping counts in [`Idle::worker_to_notify`]. A searcher
//! going to sleep first adds itself to the sleepers and drops its
//! searching count in [`Idle::sleep`], then — if it was the last searcher
//! — fences and looks at every queue again (siblings' local queues, the
//! injection queue, its inbox). Of the two fences one comes first: either
//! the publisher sees no searcher and a sleeper (and wakes it), or the
//! last searcher sees the task (and wakes a worker, maybe itself). A
//! publisher that sees a searcher skips the wake-up only because that
//! searcher, or the last of those searching with it, checks again after it
//! stops.

use crate::executor::loom_facade::{fence, AtomicUsize, Mutex, MutexGuard, Ordering};

pub(crate) struct Idle {
    /// Workers parked (or about to park), most recent last.
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, readable without the lock.
    num_sleepers: AtomicUsize,
    /// Workers woken to search and not yet settled.
    num_searching: AtomicUsize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            num_sleepers: AtomicUsize::new(0),
            num_searching: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The sleeper to wake for new work, if one should be woken. The
    /// returned worker is counted as searching. Call it after publishing
    /// the work.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // Orders the publication (a deque's release store, an injection
        // queue's push) before the loads below: the publisher's half of the
        // handshake in the module docs.
        fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) > 0
            || self.num_sleepers.load(Ordering::SeqCst) == 0
        {
            return None;
        }
        let mut sleepers = self.lock();
        // Re-check under the lock: another notifier may have just woken one.
        if self.num_searching.load(Ordering::SeqCst) > 0 {
            return None;
        }
        let worker = sleepers.pop()?;
        self.num_sleepers.store(sleepers.len(), Ordering::SeqCst);
        self.num_searching.fetch_add(1, Ordering::SeqCst);
        Some(worker)
    }

    /// A worker out of its own work starts searching (stealing, spinning).
    pub(crate) fn begin_search(&self) {
        self.num_searching.fetch_add(1, Ordering::SeqCst);
    }

    /// Worker `index` is about to park; `was_searching` releases its
    /// searching count. Returns true if it was the last searcher: the
    /// caller must then look at every queue again (after the fence here)
    /// and notify a worker if it finds work (see the module docs).
    #[must_use = "the last searcher must re-check every queue"]
    pub(crate) fn sleep(&self, index: usize, was_searching: bool) -> bool {
        let last = {
            let mut sleepers = self.lock();
            debug_assert!(!sleepers.contains(&index));
            sleepers.push(index);
            self.num_sleepers.store(sleepers.len(), Ordering::SeqCst);
            was_searching && self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1
        };
        // The sleeper's half of the handshake: the caller's re-check of the
        // queues comes after the count it dropped.
        fence(Ordering::SeqCst);
        last
    }

    /// Worker `index` woke up. Returns true if a notifier woke it (it is
    /// now counted as searching); false if it woke on its own (I/O, timer)
    /// and took itself off the list.
    pub(crate) fn wake(&self, index: usize) -> bool {
        let mut sleepers = self.lock();
        match sleepers.iter().position(|&w| w == index) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.num_sleepers.store(sleepers.len(), Ordering::SeqCst);
                false
            }
            None => true,
        }
    }

    /// A searching worker found work. Returns true if it was the last
    /// searcher (the caller should then wake another sleeper).
    pub(crate) fn found_work(&self) -> bool {
        self.num_searching.fetch_sub(1, Ordering::SeqCst) == 1
    }

    /// Whether worker `index` is on the sleepers list (for tests).
    #[cfg(test)]
    fn is_sleeping(&self, index: usize) -> bool {
        self.lock().contains(&index)
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notification_wakes_one_sleeper() {
        let idle = Idle::new(4);
        for w in 0..3 {
            assert!(!idle.sleep(w, false));
        }
        let woken = idle.worker_to_notify().unwrap();
        assert!(!idle.is_sleeping(woken));
        // A searcher exists: further notifications wake nobody.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.wake(woken), "woken by a notifier: searching");
        assert!(idle.found_work(), "the only searcher");
        assert!(idle.worker_to_notify().is_some());
    }

    #[test]
    fn the_last_searcher_to_sleep_is_told_to_re_check() {
        let idle = Idle::new(3);
        idle.begin_search();
        idle.begin_search();
        assert!(!idle.sleep(0, true), "another worker still searches");
        assert!(idle.sleep(1, true), "the last searcher");
        assert!(!idle.sleep(2, false), "not searching");
    }

    #[test]
    fn self_woken_worker_leaves_the_list() {
        let idle = Idle::new(2);
        assert!(!idle.sleep(1, false));
        assert!(!idle.wake(1));
        assert_eq!(idle.worker_to_notify(), None);
    }
}
