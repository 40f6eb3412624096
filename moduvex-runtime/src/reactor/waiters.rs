//! The tasks waiting on one direction of a source.
//!
//! Two kinds of waiter, as in tokio:
//!
//! * the **`poll_*` waker**: `AsyncRead::poll_read`, `poll_accept` and the
//!   other poll methods have no state of their own to hold a place, so
//!   each direction keeps one waker for them, the latest caller's (a second
//!   task polling the same direction this way replaces the first);
//! * **futures** (`accept()`, `recv()`, `readable()`, ...): each holds its
//!   own *place*, so any number of them wait at once. A place is taken by
//!   the future's first `Pending`, keeps the future's latest waker (a
//!   future polled again with a waker that `will_wake` the stored one
//!   changes nothing), and is given back when its waker is taken or when
//!   the future is dropped: a `select!` that polls and drops `accept()` in
//!   a loop leaves nothing behind.
//!
//! A readiness event takes every waker of its direction and frees every
//! place: all waiters wake and race for the operation; the ones that lose
//! see `WouldBlock` and wait again.
//!
//! The first place is inline, so a lone waiting future allocates nothing;
//! further places live in a slab. Each place is stamped with a *ticket*
//! unique to this source, which the future keeps: a future whose place was
//! freed (its waker taken) and given to another future never mistakes that
//! place for its own. The ticket of the inline place is mirrored in an
//! atomic, so a woken future gives up its (already freed) place without
//! taking the lock.
//!
//! Every method here runs under the source's waiter lock and hands wakers
//! back to the caller, which wakes or drops them after releasing it.

use std::task::Waker;

use slab::Slab;

use super::loom_facade::{AtomicUsize, Ordering};

/// A waiting future's claim on a place: which place, and the ticket it was
/// stamped with. The default claims nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    /// `0`: none (tickets start at 1).
    ticket: usize,
    /// `0`: the inline place; `k + 1`: slab entry `k`.
    key: usize,
}

impl Place {
    /// Whether this claim was ever stamped (the future has waited).
    pub(crate) fn is_claimed(&self) -> bool {
        self.ticket != 0
    }
}

/// A place in the slab.
struct Entry {
    ticket: usize,
    waker: Waker,
}

/// The waiters of one direction.
///
/// # Invariant
///
/// `inline_owner` (kept beside the lock, see [`Waiters::new`]) holds the
/// ticket of `inline`'s entry, or 0 while `inline` is `None`; the two are
/// changed together, under the lock. A ticket is never stamped twice.
#[derive(Default)]
pub(crate) struct Waiters {
    /// The latest `poll_*` caller's waker.
    poll: Option<Waker>,
    /// The first place: inline, so a lone waiting future allocates nothing.
    inline: Option<Entry>,
    /// Further places, keyed `k + 1` in a [`Place`].
    overflow: Slab<Entry>,
}

impl Waiters {
    /// Whether no waker is stored (the direction's waiter bit is clear).
    pub(crate) fn is_empty(&self) -> bool {
        self.poll.is_none() && self.inline.is_none() && self.overflow.is_empty()
    }

    /// Number of stored wakers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.poll.is_some()) + usize::from(self.inline.is_some()) + self.overflow.len()
    }

    /// Stores `waker` as the `poll_*` waker; returns the waker it replaced,
    /// to be dropped after the lock is released.
    pub(crate) fn set_poll(&mut self, waker: &Waker) -> Option<Waker> {
        match &self.poll {
            Some(w) if w.will_wake(waker) => None,
            _ => {
                let waker = waker.clone();
                self.poll.replace(waker)
            }
        }
    }

    /// Takes the `poll_*` waker back (its poll found the source ready).
    pub(crate) fn take_poll(&mut self) -> Option<Waker> {
        self.poll.take()
    }

    /// Stores the waker of the future holding `place`, first stamping it a
    /// new place if it holds none (never waited, or its waker was taken).
    /// Returns a replaced waker, to be dropped after the lock is released.
    pub(crate) fn set_future(
        &mut self,
        place: &mut Place,
        waker: &Waker,
        inline_owner: &AtomicUsize,
        next_ticket: &mut usize,
    ) -> Option<Waker> {
        if let Some(entry) = self.entry_mut(*place) {
            if entry.waker.will_wake(waker) {
                return None;
            }
            let waker = waker.clone();
            return Some(std::mem::replace(&mut entry.waker, waker));
        }
        let waker = waker.clone();
        let ticket = *next_ticket;
        // 0 means "none"; a 64-bit counter never wraps in practice, and if
        // it did, skipping 0 keeps the claim well-formed.
        *next_ticket = next_ticket.wrapping_add(1).max(1);
        let entry = Entry { ticket, waker };
        *place = if self.inline.is_none() {
            self.inline = Some(entry);
            inline_owner.store(ticket, Ordering::Release);
            Place { ticket, key: 0 }
        } else {
            let key = self.overflow.insert(entry) + 1;
            Place { ticket, key }
        };
        None
    }

    /// The entry `place` claims, if it is still that future's.
    fn entry_mut(&mut self, place: Place) -> Option<&mut Entry> {
        if !place.is_claimed() {
            return None;
        }
        let entry = match place.key {
            0 => self.inline.as_mut(),
            k => self.overflow.get_mut(k - 1),
        };
        entry.filter(|e| e.ticket == place.ticket)
    }

    /// Frees the place `place` claims, if it is still that future's, and
    /// returns its waker (to be dropped after the lock is released).
    pub(crate) fn remove_future(
        &mut self,
        place: Place,
        inline_owner: &AtomicUsize,
    ) -> Option<Waker> {
        self.entry_mut(place)?;
        let entry = match place.key {
            0 => {
                inline_owner.store(0, Ordering::Release);
                self.inline.take()
            }
            k => Some(self.overflow.remove(k - 1)),
        };
        entry.map(|e| e.waker)
    }

    /// Takes every waker into `wake` and frees every place.
    pub(crate) fn take_all(&mut self, inline_owner: &AtomicUsize, wake: &mut Vec<Waker>) {
        wake.extend(self.poll.take());
        if let Some(entry) = self.inline.take() {
            inline_owner.store(0, Ordering::Release);
            wake.push(entry.waker);
        }
        if !self.overflow.is_empty() {
            wake.extend(self.overflow.drain().map(|e| e.waker));
        }
    }
}

/// Whether a future holding `place` may still own a place: `false` means
/// its place was freed (its waker taken), so dropping it needs no lock.
///
/// Reads the inline place's owner without the lock (see the [`Waiters`]
/// invariant): once that is not the future's ticket, it never will be
/// again. An overflow place can only be checked under the lock.
pub(crate) fn may_own(place: Place, inline_owner: &AtomicUsize) -> bool {
    place.is_claimed() && (place.key != 0 || inline_owner.load(Ordering::Acquire) == place.ticket)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Noop;
    impl Wake for Noop {
        // Waking only drops this handle: the type exists for its counted
        // handles, which `Waker::noop` has not.
        fn wake(self: Arc<Self>) {
            drop(self);
        }
    }

    fn waker() -> (Arc<Noop>, Waker) {
        let a = Arc::new(Noop);
        (a.clone(), Waker::from(a))
    }

    #[test]
    fn one_future_uses_the_inline_place_and_gives_it_back() {
        let mut w = Waiters::default();
        let owner = AtomicUsize::new(0);
        let mut next = 1;
        let (_a, wa) = waker();
        let mut place = Place::default();
        assert!(w.set_future(&mut place, &wa, &owner, &mut next).is_none());
        assert_eq!(place.key, 0);
        assert_eq!(owner.load(Ordering::SeqCst), place.ticket);
        assert_eq!(w.overflow.capacity(), 0, "no allocation for one waiter");
        assert!(may_own(place, &owner));
        assert!(w.remove_future(place, &owner).is_some());
        assert!(w.is_empty());
        assert!(!may_own(place, &owner));
    }

    #[test]
    fn the_same_waker_again_keeps_one_entry_and_a_new_one_replaces_it() {
        let mut w = Waiters::default();
        let owner = AtomicUsize::new(0);
        let mut next = 1;
        let (a, wa) = waker();
        let (b, wb) = waker();
        // `will_wake` is best effort: Miri, for one, gives a clone's vtable
        // its own address. Where it cannot tell, a re-poll replaces the
        // waker instead (still one entry).
        let recognised = wa.clone().will_wake(&wa);
        let mut place = Place::default();
        w.set_future(&mut place, &wa, &owner, &mut next);
        let first = place;
        let again = w.set_future(&mut place, &wa, &owner, &mut next);
        assert_eq!(again.is_none(), recognised);
        drop(again);
        assert_eq!((place, w.len()), (first, 1));
        // `a`, `wa` and one stored clone.
        assert_eq!(Arc::strong_count(&a), 3, "no second clone stored");
        let replaced = w.set_future(&mut place, &wb, &owner, &mut next);
        assert_eq!((place, w.len()), (first, 1));
        drop(replaced.expect("the old waker is handed back"));
        assert_eq!(Arc::strong_count(&a), 2);
        assert_eq!(Arc::strong_count(&b), 3);
        // And the same for the `poll_*` waker.
        assert!(w.set_poll(&wa).is_none());
        assert_eq!(w.set_poll(&wa).is_none(), recognised);
        assert_eq!(w.len(), 2);
        assert!(w.set_poll(&wb).is_some());
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn a_freed_place_given_to_another_future_is_not_mistaken_for_the_first() {
        let mut w = Waiters::default();
        let owner = AtomicUsize::new(0);
        let mut next = 1;
        let (_a, wa) = waker();
        let (mut p1, mut p2, mut p3) = Default::default();
        w.set_future(&mut p1, &wa, &owner, &mut next);
        w.set_future(&mut p2, &wa, &owner, &mut next);
        let mut wake = Vec::new();
        w.take_all(&owner, &mut wake);
        assert_eq!(wake.len(), 2);
        assert!(w.is_empty());
        // A third future takes the inline place the first one had.
        w.set_future(&mut p3, &wa, &owner, &mut next);
        assert_eq!(p3.key, p1.key);
        assert!(!may_own(p1, &owner));
        assert!(w.remove_future(p1, &owner).is_none());
        assert!(w.remove_future(p2, &owner).is_none());
        assert_eq!(w.len(), 1, "the third future keeps its place");
        // The first future waits again: a new place, not the third's.
        w.set_future(&mut p1, &wa, &owner, &mut next);
        assert_ne!(p1.key, p3.key);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn many_futures_wait_at_once_and_are_all_taken() {
        let mut w = Waiters::default();
        let owner = AtomicUsize::new(0);
        let mut next = 1;
        let (a, wa) = waker();
        let mut places = vec![Place::default(); 10];
        for p in &mut places {
            w.set_future(p, &wa, &owner, &mut next);
        }
        assert_eq!(w.len(), 10);
        // One gives up its place (a cancelled future).
        assert!(w.remove_future(places[3], &owner).is_some());
        let mut wake = Vec::new();
        w.take_all(&owner, &mut wake);
        assert_eq!(wake.len(), 9);
        drop(wake);
        assert_eq!(Arc::strong_count(&a), 2, "`a` and `wa` only");
        assert!(w.is_empty());
    }
}
