//! Which workers sleep, and how many are searching for work.
//!
//! A new stealable task wakes at most one sleeping worker, and none while
//! another worker is already searching (it will find the task): no
//! thundering herd. A woken worker counts as searching until it finds a
//! task or sleeps again; the last searcher to find work wakes one more
//! sleeper, so a burst of tasks fans out one worker at a time.

use crate::executor::loom_facade::{AtomicUsize, Mutex, MutexGuard, Ordering};

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
    /// returned worker is counted as searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
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

    /// Worker `index` is about to park. Returns true if it was searching
    /// (its count is released here).
    pub(crate) fn sleep(&self, index: usize, was_searching: bool) {
        let mut sleepers = self.lock();
        debug_assert!(!sleepers.contains(&index));
        sleepers.push(index);
        self.num_sleepers.store(sleepers.len(), Ordering::SeqCst);
        if was_searching {
            self.num_searching.fetch_sub(1, Ordering::SeqCst);
        }
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
            idle.sleep(w, false);
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
    fn self_woken_worker_leaves_the_list() {
        let idle = Idle::new(2);
        idle.sleep(1, false);
        assert!(!idle.wake(1));
        assert_eq!(idle.worker_to_notify(), None);
    }
}
