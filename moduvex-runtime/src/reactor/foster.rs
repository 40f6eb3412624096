//! Fostering: reactors that no thread drives any more are driven by one
//! shared background thread, so their sockets never hang.
//!
//! A source belongs to the reactor of the thread that created it, and that
//! reactor delivers events only while its thread runs a scheduler. When the
//! thread stops (its `block_on` returns, or the thread exits) while sources
//! it registered are still alive — a listener bound in one `block_on` and
//! handed to a runtime's workers, a socket made on a thread that then
//! exits — those sources would never be woken again. Instead the reactor is
//! *fostered*: its epoll (or kqueue) descriptor is added to the foster
//! thread's own instance (both are pollable: readable while they have
//! events), and whenever it has events the foster thread polls it and wakes
//! the tasks, wherever they run.
//!
//! The foster thread is started the first time a reactor needs it, and
//! only waits in its own poll otherwise. A reactor leaves foster care when
//! its own thread drives it again (the next `block_on`) or when its last
//! source is dropped, so a dead thread's descriptors are closed then.
//!
//! # Windows
//!
//! A completion port cannot be watched by another port, so nothing can be
//! nested there. Instead each fostered reactor gets a driving thread of its
//! own, which blocks in that reactor's poll and wakes the tasks its events
//! satisfy. Releasing the reactor sets the thread's `released` flag and
//! then unparks the reactor: the thread's poll returns (an unpark is never
//! lost), it sees the flag and exits, posting one more unpark so that a
//! wake-up it may have taken reaches the reactor's next poll. The owner's
//! own poll waits for the port while the driving thread still holds it,
//! for the moment that thread needs to see the unpark. The foster thread
//! proper turns only the fallback timers, blocking in its timer reactor's
//! poll.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::Waker;
#[cfg(unix)]
use std::time::Duration;

use slab::Slab;

#[cfg(unix)]
use super::PlatformReactor;
use super::{Reactor, ReactorBackend};
use crate::platform::sys::events_with_capacity;
#[cfg(unix)]
use crate::platform::sys::Interest;

/// Events taken from a fostered reactor per poll.
const EVENTS_PER_POLL: usize = 256;

/// A reactor's foster status.
#[derive(Default)]
pub(super) struct FosterState {
    /// The reactor's token in the foster's epoll while fostered.
    slot: Mutex<Option<usize>>,
    /// `slot.is_some()`, readable without the lock.
    fostered: AtomicBool,
}

impl FosterState {
    pub(super) fn is_fostered(&self) -> bool {
        self.fostered.load(Ordering::SeqCst)
    }

    fn lock(&self) -> MutexGuard<'_, Option<usize>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fostered reactor on Windows, and the flag that ends its driving thread.
#[cfg(windows)]
struct Child {
    reactor: Reactor,
    released: std::sync::Arc<AtomicBool>,
}

#[cfg(windows)]
impl Drop for Child {
    fn drop(&mut self) {
        // Set before the unpark: the driving thread's poll returns after
        // the unpark and then sees the flag.
        self.released.store(true, Ordering::SeqCst);
        self.reactor.inner.backend.unpark();
    }
}

/// The foster thread's epoll instance and the reactors nested in it.
#[cfg(unix)]
struct Foster {
    backend: PlatformReactor,
    /// Fostered reactors; the slab key is their token in `backend`.
    ///
    /// These tokens live in the foster's own epoll instance and never reach
    /// a `WakerRegistry`, so they need no generation: a stale one (a child
    /// released and another adopted under its key between a wait and the
    /// lookup) costs one non-blocking poll of the newer child, which
    /// delivers only that child's own, current events.
    children: Mutex<Slab<Reactor>>,
}

/// The reactors fostered on Windows, each driven by a thread of its own.
#[cfg(windows)]
struct Foster {
    children: Mutex<Slab<Child>>,
}

static FOSTER: OnceLock<io::Result<Foster>> = OnceLock::new();
static STARTED: OnceLock<io::Result<()>> = OnceLock::new();

fn lock<T>(children: &Mutex<Slab<T>>) -> MutexGuard<'_, Slab<T>> {
    // No code runs under this lock but slab operations.
    children.lock().unwrap_or_else(|e| e.into_inner())
}

fn copy_err(e: &io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("moduvex-runtime: starting the foster thread: {e}"),
    )
}

/// The foster, its thread started on first use.
#[cfg(unix)]
fn foster() -> io::Result<&'static Foster> {
    let foster = FOSTER
        .get_or_init(|| {
            Ok(Foster {
                backend: PlatformReactor::new()?,
                children: Mutex::new(Slab::new()),
            })
        })
        .as_ref()
        .map_err(copy_err)?;
    STARTED
        .get_or_init(|| {
            // The fallback timers' reactor is made before the thread
            // starts, so every descriptor the foster owns exists once this
            // returns (a process counting its descriptors sees them all).
            let timers = Reactor::new().and_then(|r| {
                foster
                    .backend
                    .register(r.inner.backend.raw(), TIMER_TOKEN, Interest::READABLE)?;
                Ok(r)
            });
            std::thread::Builder::new()
                .name("moduvex-foster".into())
                .spawn(move || foster_loop(foster, timers))
                .map(drop)
        })
        .as_ref()
        .map_err(copy_err)?;
    Ok(foster)
}

/// Starts the foster thread if it is not running: it also turns the
/// fallback timer shard (timers polled outside any runtime).
pub(crate) fn start() -> io::Result<()> {
    foster().map(drop)
}

/// The foster, its timer thread started on first use.
#[cfg(windows)]
fn foster() -> io::Result<&'static Foster> {
    let foster = FOSTER
        .get_or_init(|| {
            Ok(Foster {
                children: Mutex::new(Slab::new()),
            })
        })
        .as_ref()
        .map_err(copy_err)?;
    STARTED
        .get_or_init(|| {
            let timers = Reactor::new()?;
            std::thread::Builder::new()
                .name("moduvex-foster".into())
                .spawn(move || timer_loop(timers))
                .map(drop)
        })
        .as_ref()
        .map_err(copy_err)?;
    Ok(foster)
}

/// The Windows foster thread: it turns the fallback timers, for the life
/// of the process. Its reactor has no sources; the timer driver unparks it
/// when a timer is filed earlier than the current wait.
#[cfg(windows)]
fn timer_loop(timers: Reactor) {
    let mut events = events_with_capacity(4);
    let mut wakers: Vec<Waker> = Vec::new();
    crate::time::driver::foster::start(timers.unparker());
    loop {
        let timeout = crate::time::driver::foster::begin_wait();
        if timers
            .poll_collect(&mut events, timeout, &mut wakers)
            .is_err()
        {
            // Only a broken completion port fails here; stop rather than spin.
            return;
        }
        crate::time::driver::foster::turn(&mut wakers);
        crate::executor::park::wake_all(&mut wakers);
    }
}

/// A fostered reactor's driving thread on Windows (see the module docs).
#[cfg(windows)]
fn drive_child(reactor: Reactor, released: std::sync::Arc<AtomicBool>) {
    let mut events = events_with_capacity(EVENTS_PER_POLL);
    let mut wakers: Vec<Waker> = Vec::new();
    while !released.load(Ordering::SeqCst) {
        if reactor
            .poll_collect(&mut events, None, &mut wakers)
            .is_err()
        {
            break;
        }
        crate::executor::park::wake_all(&mut wakers);
    }
    // Its poll may have taken an unpark meant for the owner's next poll.
    reactor.inner.backend.unpark();
}

/// Hands `reactor` to a driving thread of its own, unless it is fostered
/// already.
#[cfg(windows)]
pub(super) fn adopt(reactor: &Reactor) -> io::Result<()> {
    let foster = foster()?;
    {
        let mut children = lock(&foster.children);
        let mut slot = reactor.inner.foster.lock();
        if slot.is_some() {
            return Ok(());
        }
        let released = std::sync::Arc::new(AtomicBool::new(false));
        let (driven, flag) = (reactor.clone(), released.clone());
        // Started under the lock, so a release cannot run before the
        // child is recorded; the thread takes no lock of ours.
        std::thread::Builder::new()
            .name("moduvex-foster-child".into())
            .spawn(move || drive_child(driven, flag))?;
        let key = children.insert(Child {
            reactor: reactor.clone(),
            released,
        });
        *slot = Some(key);
        reactor.inner.foster.fostered.store(true, Ordering::SeqCst);
    }
    release_if_idle(reactor);
    Ok(())
}

/// Hands `reactor` to the foster thread, unless it is fostered already.
#[cfg(unix)]
pub(super) fn adopt(reactor: &Reactor) -> io::Result<()> {
    let foster = foster()?;
    {
        let mut children = lock(&foster.children);
        let mut slot = reactor.inner.foster.lock();
        if slot.is_some() {
            return Ok(());
        }
        let entry = children.vacant_entry();
        let key = entry.key();
        // Registered under the lock, so the foster thread finds the child
        // as soon as its first event arrives. Adding a child that already
        // has events pending reports them at once.
        foster
            .backend
            .register(reactor.inner.backend.raw(), key, Interest::READABLE)?;
        entry.insert(reactor.clone());
        *slot = Some(key);
        reactor.inner.foster.fostered.store(true, Ordering::SeqCst);
    }
    // The last source may have gone while this ran (its drop saw the
    // reactor not yet fostered): nothing is left to drive.
    release_if_idle(reactor);
    Ok(())
}

/// Takes `reactor` back from the foster thread, if it is fostered: its
/// own thread drives it again.
pub(super) fn release(reactor: &Reactor) {
    release_when(reactor, || true);
}

/// Takes `reactor` back from the foster thread if it has no sources left.
/// The count is read under the foster's lock, which `adopt` also holds, so
/// a source registered meanwhile either is seen here or fosters the
/// reactor again after this.
pub(super) fn release_if_idle(reactor: &Reactor) {
    release_when(reactor, || reactor.wakers().count() == 0);
}

fn release_when(reactor: &Reactor, cond: impl FnOnce() -> bool) {
    let Some(Ok(foster)) = FOSTER.get() else {
        return;
    };
    let removed = {
        let mut children = lock(&foster.children);
        let mut slot = reactor.inner.foster.lock();
        if slot.is_none() || !cond() {
            return;
        }
        let Some(key) = slot.take() else {
            return;
        };
        reactor.inner.foster.fostered.store(false, Ordering::SeqCst);
        #[cfg(unix)]
        let _ = foster.backend.deregister(reactor.inner.backend.raw());
        // On Windows, dropping the child ends its driving thread.
        children.try_remove(key)
    };
    // Dropped outside the locks: this may be the reactor's last handle
    // (its thread has exited), and dropping it closes its descriptors.
    drop(removed);
}

/// The foster's token for its own timer reactor (slab keys never reach it,
/// and it differs from the foster backend's own unpark token).
#[cfg(unix)]
const TIMER_TOKEN: usize = super::UNPARK_TOKEN - 1;

/// The foster thread: wait until a child has events or a fallback timer is
/// due, drain that child, wake its tasks, fire the timers; for the life of
/// the process.
///
/// The fallback shard's driver is a reactor of the foster's own, nested
/// like a child: its eventfd, written when a timer is filed earlier than
/// the current wait, ends the wait.
#[cfg(unix)]
fn foster_loop(foster: &'static Foster, timers: io::Result<Reactor>) {
    let mut events = events_with_capacity(64);
    let mut child_events = events_with_capacity(EVENTS_PER_POLL);
    let mut wakers: Vec<Waker> = Vec::new();
    if let Ok(timers) = &timers {
        crate::time::driver::foster::start(timers.unparker());
    }
    loop {
        // Without a timer reactor the fallback timers cannot be woken
        // early: wait for them at most a millisecond at a time.
        let timeout = match &timers {
            Ok(_) => crate::time::driver::foster::begin_wait(),
            Err(_) => Some(Duration::from_millis(1)),
        };
        if foster.backend.poll(&mut events, timeout).is_err() {
            // Only a broken epoll descriptor fails here; stop rather than spin.
            return;
        }
        crate::time::driver::foster::turn(&mut wakers);
        crate::executor::park::wake_all(&mut wakers);
        for ev in events.iter() {
            if ev.token == TIMER_TOKEN {
                if let Ok(timers) = &timers {
                    // Consume the edge, so the next write is seen again.
                    let _ =
                        timers.poll_collect(&mut child_events, Some(Duration::ZERO), &mut wakers);
                }
                continue;
            }
            let child = lock(&foster.children).get(ev.token).cloned();
            let Some(child) = child else { continue };
            // Children are registered edge-triggered: drain each fully.
            while let Ok(EVENTS_PER_POLL) =
                child.poll_collect(&mut child_events, Some(Duration::ZERO), &mut wakers)
            {
            }
            drop(child);
            crate::executor::park::wake_all(&mut wakers);
        }
    }
}
