//! The process-wide side of signal handling: handlers, the self-pipe, the
//! dispatcher thread and each signal's listeners.
//!
//! # Who touches what
//!
//! - The **signal handler** (any thread, at any instruction) only adds one
//!   to [`Slot::delivered`] and writes one byte to the pipe. Both are
//!   async-signal-safe; it takes no lock, allocates nothing and wakes no
//!   waker.
//! - The **dispatcher thread** blocks in `poll(2)` on the pipe's read end,
//!   drains it, and for every slot whose `delivered` count moved since its
//!   last look bumps [`Slot::generation`], takes the slot's wakers under
//!   its lock and wakes them after releasing it.
//! - A **listener** ([`Listener`]) remembers the generation it last
//!   reported. It completes when the slot's generation differs, and else
//!   parks its waker in the slot. Since it compares generations instead of
//!   consuming a shared count, every listener sees every dispatch.
//!
//! The byte is written *after* the counter is bumped and the dispatcher
//! scans the counters *after* draining the pipe, so a delivery is either
//! seen by the current scan or followed by a byte that starts another one:
//! none is lost, though several may be folded into one dispatch.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use slab::Slab;

use crate::platform::sys::create_pipe;

/// One signal's state. Slots live for the whole process.
pub(crate) struct Slot {
    /// Deliveries counted by the handler. Only the handler writes it.
    delivered: AtomicUsize,
    /// Dispatches so far. Written only by the dispatcher, under `waiters`'
    /// lock, so a listener that checks it under that lock cannot miss a
    /// bump that happens after it parked its waker.
    generation: AtomicU64,
    /// Parked listeners' wakers, by listener key. A key stays allocated
    /// for its listener's whole life; the dispatcher only takes the wakers.
    waiters: Mutex<Slab<Option<Waker>>>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            delivered: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            waiters: Mutex::new(Slab::new()),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // The lock guards plain data that no panic can leave half-written.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Everything the handlers and the dispatcher share.
struct Globals {
    /// One slot per signal number, `0..=SIGRTMAX` (slot 0 is unused).
    slots: Box<[Slot]>,
    /// Read end of the self-pipe (non-blocking, close-on-exec).
    read_fd: RawFd,
    /// Write end of the self-pipe (non-blocking, close-on-exec).
    write_fd: RawFd,
    /// Which signals have a handler installed, and whether the dispatcher
    /// thread runs. Taken only to install a handler (rare).
    control: Mutex<Control>,
}

struct Control {
    dispatcher_running: bool,
    installed: Vec<bool>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();

/// The shared state, creating the self-pipe on first use.
fn globals() -> io::Result<&'static Globals> {
    if let Some(g) = GLOBALS.get() {
        return Ok(g);
    }
    let (read_fd, write_fd) = create_pipe()?;
    let count = max_signal() as usize + 1;
    let fresh = Globals {
        slots: (0..count).map(|_| Slot::new()).collect(),
        read_fd,
        write_fd,
        control: Mutex::new(Control {
            dispatcher_running: false,
            installed: vec![false; count],
        }),
    };
    let mut spare = Some(fresh);
    let g = GLOBALS.get_or_init(|| spare.take().expect("initializer runs once"));
    if let Some(lost) = spare {
        // Another thread initialized first: close our unused pipe.
        // SAFETY: both descriptors were created above and never shared.
        unsafe {
            libc::close(lost.read_fd);
            libc::close(lost.write_fd);
        }
    }
    Ok(g)
}

/// The largest valid signal number on this system.
#[cfg(target_os = "linux")]
pub(crate) fn max_signal() -> i32 {
    libc::SIGRTMAX()
}

/// The largest valid signal number on this system (FreeBSD's real-time
/// signals end at 126: `_SIG_MAXSIG - 2`).
#[cfg(target_os = "freebsd")]
pub(crate) fn max_signal() -> i32 {
    126
}

/// The largest valid signal number on this system (macOS has no real-time
/// signals: `NSIG - 1`).
#[cfg(target_vendor = "apple")]
pub(crate) fn max_signal() -> i32 {
    31
}

/// Makes sure `signal` has our handler and the dispatcher runs, and
/// returns the signal's slot. `signal` must already be validated.
pub(crate) fn install(signal: i32) -> io::Result<&'static Slot> {
    let g = globals()?;
    let idx = signal as usize;
    let mut control = g.control.lock().unwrap_or_else(PoisonError::into_inner);
    if !control.dispatcher_running {
        std::thread::Builder::new()
            .name("moduvex-signal".into())
            .spawn(move || dispatch_loop(g))?;
        control.dispatcher_running = true;
    }
    if !control.installed[idx] {
        let slot: &'static Slot = &g.slots[idx];
        let write_fd = g.write_fd;
        let handler = move || {
            slot.delivered.fetch_add(1, Ordering::SeqCst);
            let byte = 1u8;
            // SAFETY: write(2) is async-signal-safe; it reads one byte from a live local. The pipe is non-blocking, so a full pipe fails with EAGAIN instead of blocking, which is fine: a byte is already waiting to start a dispatch. (signal-hook-registry saves and restores errno around the handler.)
            unsafe { libc::write(write_fd, (&byte as *const u8).cast(), 1) };
        };
        // SAFETY: the handler only performs async-signal-safe operations (an atomic add and write(2)), cannot panic, and `signal` is not one of signal-hook-registry's forbidden signals (checked by the caller), so `register` does not panic either.
        unsafe { signal_hook_registry::register(signal, handler) }.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("installing a handler for signal {signal} failed: {e}"),
            )
        })?;
        control.installed[idx] = true;
    }
    Ok(&g.slots[idx])
}

/// The dispatcher thread: turns pipe bytes into generation bumps and
/// wake-ups. Runs for the rest of the process.
fn dispatch_loop(g: &'static Globals) {
    let mut seen: Vec<usize> = vec![0; g.slots.len()];
    let mut wake: Vec<Waker> = Vec::new();
    loop {
        wait_readable(g.read_fd);
        drain(g.read_fd);
        for (slot, seen) in g.slots.iter().zip(seen.iter_mut()) {
            let delivered = slot.delivered.load(Ordering::SeqCst);
            if delivered == *seen {
                continue;
            }
            *seen = delivered;
            {
                let mut waiters = slot.waiters();
                slot.generation.fetch_add(1, Ordering::SeqCst);
                wake.extend(waiters.iter_mut().filter_map(|(_, w)| w.take()));
            }
            // Outside the lock: a woken task may poll (and lock) at once.
            for waker in wake.drain(..) {
                waker.wake();
            }
        }
    }
}

/// Blocks until `fd` is readable (or something interrupts the wait).
fn wait_readable(fd: RawFd) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `pfd` is one live, writable pollfd; an infinite timeout is valid. EINTR simply returns early and the caller drains and rescans.
    unsafe { libc::poll(&mut pfd, 1, -1) };
}

/// Reads the pipe until it is empty.
fn drain(fd: RawFd) {
    let mut buf = [0u8; 128];
    loop {
        // SAFETY: reads at most `buf.len()` bytes into a live local buffer.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            let interrupted =
                n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted;
            if !interrupted {
                // Empty (EAGAIN) or impossible errors: the scan follows.
                return;
            }
        }
    }
}

/// One listener's view of a slot: the generation it last reported and
/// its key in the slot's waiter list.
pub(crate) struct Listener {
    slot: &'static Slot,
    seen: u64,
    key: usize,
}

impl Listener {
    /// A listener that completes on the first dispatch after this call.
    pub(crate) fn new(slot: &'static Slot) -> Listener {
        let mut waiters = slot.waiters();
        let key = waiters.insert(None);
        let seen = slot.generation.load(Ordering::SeqCst);
        drop(waiters);
        Listener { slot, seen, key }
    }

    /// Ready once per dispatch that happened since the last `Ready`.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let now = self.slot.generation.load(Ordering::SeqCst);
        if now != self.seen {
            self.seen = now;
            return Poll::Ready(());
        }
        let mut waiters = self.slot.waiters();
        // Re-check under the lock: the dispatcher bumps the generation
        // under it, so either we see its bump or it sees our waker.
        let now = self.slot.generation.load(Ordering::SeqCst);
        if now != self.seen {
            self.seen = now;
            return Poll::Ready(());
        }
        let entry = &mut waiters[self.key];
        let replaced = match entry {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => entry.replace(cx.waker().clone()),
        };
        drop(waiters);
        // The old waker is dropped unlocked: its drop may run any code.
        drop(replaced);
        Poll::Pending
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let waker = self.slot.waiters().remove(self.key);
        // Dropped outside the lock: a waker's drop may run arbitrary code.
        drop(waker);
    }
}
