//! Reactor — the I/O readiness event loop.
//!
//! The reactor multiplexes OS readiness events (epoll on Linux, kqueue on
//! the BSDs and Apple systems) onto async tasks. Each thread owns exactly
//! one reactor, created lazily in the thread-local `REACTOR` and reached
//! through [`with_reactor`]. Platform dispatch happens at compile time
//! through `cfg`: no vtable.
//!
//! The one idea: **readiness is state, wakers are notifications.** A poll
//! records each event in the source's `ScheduledIo` and collects the
//! wakers it satisfies; they are woken only after every lock is released.
//! There is no `RefCell` around the reactor: every method takes `&self` and
//! holds its internal locks briefly, so a woken task may register or drop a
//! source from inside a wake-up without a borrow panic.
//!
//! A source belongs to the reactor it was registered on, and its
//! [`IoSource`] keeps that reactor alive. Readiness wakes the waiting task
//! wherever it runs (wakers are `Send`), and dropping an `IoSource` on any
//! thread deregisters it from its own reactor.
//!
//! A reactor delivers events while its thread runs a scheduler (a worker,
//! or inside `block_on`). The invariant that keeps sockets from hanging:
//! **a reactor with live sources is driven by its own thread or fostered**
//! — polled by one shared background thread (see `reactor/foster.rs`) — from the
//! moment its thread stops driving it (or registers a source without
//! driving it) until that thread drives it again or its last source goes.
//!
//! ```
//! use std::io::{Read, Write};
//! use moduvex_runtime::reactor::IoSource;
//!
//! moduvex_runtime::block_on(async {
//!     let (a, mut b) = std::os::unix::net::UnixStream::pair()?;
//!     a.set_nonblocking(true)?;
//!     let src = IoSource::new(a)?; // registered with this thread's reactor
//!     b.write_all(b"event")?;
//!     let mut buf = [0; 5];
//!     src.read_with(|s| (&*s).read(&mut buf)).await?;
//!     assert_eq!(&buf, b"event");
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::cell::{Cell, OnceCell};
use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::platform::sys::{Events, Interest, RawSource};

#[cfg(target_os = "linux")]
mod epoll;
#[cfg(target_os = "linux")]
#[doc(hidden)]
pub use epoll::EpollReactor;
#[cfg(target_os = "linux")]
use epoll::EpollReactor as PlatformReactor;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
mod kqueue;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
#[doc(hidden)]
pub use kqueue::KqueueReactor;
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
use kqueue::KqueueReactor as PlatformReactor;

#[cfg(windows)]
mod iocp;
#[cfg(windows)]
#[doc(hidden)]
pub use iocp::IocpReactor;
#[cfg(windows)]
use iocp::IocpReactor as PlatformReactor;

mod foster;
mod loom_facade;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;
#[doc(hidden)]
pub mod source;
mod waiters;

pub(crate) use foster::start as start_foster;
#[doc(hidden)]
pub mod waker_registry;

pub use source::IoSource;
#[doc(hidden)]
pub use waker_registry::WakerRegistry;
pub use waker_registry::{Direction, ReadyEvent};
pub(crate) use waker_registry::{ScheduledIo, Waiter};

/// Token of the events a backend reports for [`ReactorBackend::unpark`].
/// Never a source's token: those keep the top bit clear (see
/// `waker_registry`'s "Tokens carry a generation").
pub(crate) const UNPARK_TOKEN: usize = usize::MAX;

// ── ReactorBackend trait ──────────────────────────────────────────────────────

/// What every platform backend provides (internal: the reactor picks its
/// backend at compile time; users go through [`Reactor`]).
///
/// All methods take `&self`: the backend is shared by the owning thread's
/// poll loop and by sources deregistering from other threads.
#[doc(hidden)]
pub trait ReactorBackend: Sized {
    /// Opens the underlying OS resource, with its unpark mechanism.
    fn new() -> io::Result<Self>;

    /// Registers `source` under `token` (returned verbatim in events).
    /// Registering a descriptor twice is an error (`AlreadyExists`).
    fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()>;

    /// Changes the interest of a registered source.
    fn reregister(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()>;

    /// Removes `source`. Must be called before the descriptor is closed;
    /// an unknown descriptor is an error (`NotFound`).
    fn deregister(&self, source: RawSource) -> io::Result<()>;

    /// Blocks until an event arrives or `timeout` passes (`None`: no limit,
    /// `Some(ZERO)`: do not block). Fills `events` (cleared first) and
    /// returns their number. An interrupted wait returns `Ok(0)`.
    ///
    /// An [`unpark`](Self::unpark) shows up as one event with token
    /// [`UNPARK_TOKEN`] (several unparks before a poll may merge into one).
    fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize>;

    /// Makes the current or the next `poll` return promptly, from any
    /// thread (an eventfd on Linux, an `EVFILT_USER` event on kqueue, a
    /// posted completion on IOCP). Never blocks; an unpark is never lost
    /// while the backend lives.
    fn unpark(&self);

    /// Whether [`rearm`](Self::rearm) does anything: `false` for backends
    /// whose edge-triggered registrations never need re-arming (epoll,
    /// kqueue), so the call and its arguments compile away.
    const REARMS: bool = false;

    /// The source under `token` cleared its cached readiness in `cleared`
    /// (an operation returned `WouldBlock`): a backend that emulates edge
    /// triggering on one-shot polls (IOCP) arms those directions again.
    #[inline]
    fn rearm(&self, source: RawSource, token: usize, cleared: Interest) -> io::Result<()> {
        let _ = (source, token, cleared);
        Ok(())
    }
}

// ── Reactor ───────────────────────────────────────────────────────────────────

struct Inner {
    backend: PlatformReactor,
    wakers: WakerRegistry,
    foster: foster::FosterState,
}

/// A reactor: a backend (which can interrupt its own blocked poll from any
/// thread) and the waker registry of its sources.
///
/// Cloning yields another handle to the same reactor.
///
/// ```
/// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
/// use moduvex_runtime::reactor::Reactor;
///
/// let a = Reactor::new()?;
/// let b = a.clone();
/// let (r, w) = create_pipe()?;
/// a.register(w, 3, Interest::WRITABLE)?;
/// // `b` is the same reactor: it reports what was registered through `a`.
/// let mut events = events_with_capacity(4);
/// assert_eq!(b.poll(&mut events, Some(1000))?, 1);
/// # b.deregister(w)?;
/// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
/// # unsafe { libc::close(r); libc::close(w) };
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Reactor {
    inner: Arc<Inner>,
}

impl Reactor {
    /// Creates a reactor, opening the OS polling resource and its unpark
    /// mechanism.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::events_with_capacity;
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let mut events = events_with_capacity(8);
    /// assert_eq!(reactor.poll(&mut events, Some(0))?, 0);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Self> {
        Ok(Reactor {
            inner: Arc::new(Inner {
                backend: PlatformReactor::new()?,
                wakers: WakerRegistry::new(),
                foster: Default::default(),
            }),
        })
    }

    /// Registers a raw source under a caller-chosen token (edge-triggered).
    ///
    /// Low-level: events for raw registrations are returned by [`poll`]
    /// but wake nobody unless the token belongs to an [`IoSource`]; prefer
    /// `IoSource`, which allocates its own token. Tokens below `2^32` (on
    /// 64-bit targets) never name an `IoSource`. Registering the same
    /// descriptor twice returns an error.
    ///
    /// [`poll`]: Reactor::poll
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// let mut events = events_with_capacity(8);
    /// reactor.register(w, 42, Interest::WRITABLE)?;
    /// assert!(reactor.register(w, 43, Interest::WRITABLE).is_err(), "registered twice");
    /// reactor.poll(&mut events, Some(1000))?;
    /// assert!(events.iter().any(|ev| ev.token == 42 && ev.writable));
    /// reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[inline]
    pub fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        self.inner.backend.register(source, token, interest)
    }

    /// Changes the interest of a raw registration.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// let mut events = events_with_capacity(8);
    /// reactor.register(r, 1, Interest::WRITABLE)?;
    /// reactor.reregister(r, 2, Interest::READABLE)?;
    /// // SAFETY: w is an open pipe descriptor and the buffer holds the byte count passed.
    /// unsafe { libc::write(w, b"x".as_ptr().cast(), 1) };
    /// reactor.poll(&mut events, Some(1000))?;
    /// assert!(events.iter().any(|ev| ev.token == 2 && ev.readable));
    /// reactor.deregister(r)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[inline]
    pub fn reregister(
        &self,
        source: RawSource,
        token: usize,
        interest: Interest,
    ) -> io::Result<()> {
        self.inner.backend.reregister(source, token, interest)
    }

    /// Removes a raw registration. Unknown descriptors return an error.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// let mut events = events_with_capacity(8);
    /// reactor.register(w, 5, Interest::WRITABLE)?;
    /// reactor.deregister(w)?;
    /// assert_eq!(reactor.poll(&mut events, Some(0))?, 0);
    /// assert!(reactor.deregister(w).is_err(), "no longer registered");
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    #[inline]
    pub fn deregister(&self, source: RawSource) -> io::Result<()> {
        self.inner.backend.deregister(source)
    }

    /// The source under `token` forgot the readiness `event` reported (a
    /// `WouldBlock`): backends that emulate edge triggering arm its
    /// directions again. Nothing at all on epoll (`REARMS` is `false`).
    #[inline]
    pub(crate) fn rearm(
        &self,
        source: impl FnOnce() -> RawSource,
        token: usize,
        event: ReadyEvent,
    ) {
        if !PlatformReactor::REARMS {
            return;
        }
        if let Some(cleared) = event.directions() {
            // A failed re-arm means the socket is gone or broken: its next
            // operation reports that itself.
            let _ = self.inner.backend.rearm(source(), token, cleared);
        }
    }

    /// Removes a source and drops its waker slots (the `IoSource` path).
    /// A fostered reactor whose last source this was leaves foster care.
    pub(crate) fn deregister_with_token(&self, source: RawSource, token: usize) -> io::Result<()> {
        let res = self.inner.backend.deregister(source);
        self.inner.wakers.remove_token(token);
        if self.inner.wakers.count() == 0 && self.inner.foster.is_fostered() {
            foster::release_if_idle(self);
        }
        res
    }

    /// Called after registering an `IoSource` here: if no scheduler drives
    /// this thread's reactor now, the foster thread must (`adopt` decides
    /// under the foster's lock, racing safely with a last source's drop).
    pub(crate) fn ensure_driven(&self) -> io::Result<()> {
        if is_driving_here() {
            return Ok(());
        }
        foster::adopt(self)
    }

    /// The registry of this reactor's sources (internal: its bookkeeping
    /// is the runtime's).
    #[doc(hidden)]
    pub fn wakers(&self) -> &WakerRegistry {
        &self.inner.wakers
    }

    /// Polls for events with a millisecond timeout and wakes the tasks they
    /// satisfy (after releasing every lock). Returns the number of events.
    ///
    /// `None` blocks until an event; `Some(0)` returns at once.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::{create_pipe, events_with_capacity, Interest};
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let (r, w) = create_pipe()?;
    /// let mut events = events_with_capacity(8);
    /// assert_eq!(reactor.poll(&mut events, Some(0))?, 0);
    /// reactor.register(w, 9, Interest::WRITABLE)?;
    /// assert_eq!(reactor.poll(&mut events, Some(1000))?, 1);
    /// assert_eq!(events.iter().next().unwrap().token, 9);
    /// reactor.deregister(w)?;
    /// # // SAFETY: r and w are this example's own descriptors, closed once after their last use.
    /// # unsafe { libc::close(r); libc::close(w) };
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn poll(&self, events: &mut Events, timeout_ms: Option<u64>) -> io::Result<usize> {
        self.poll_timeout(events, timeout_ms.map(Duration::from_millis))
    }

    /// Like [`poll`](Reactor::poll), with a nanosecond-precision timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// use moduvex_runtime::platform::sys::events_with_capacity;
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let mut events = events_with_capacity(8);
    /// let n = reactor.poll_timeout(&mut events, Some(Duration::from_micros(200)))?;
    /// assert_eq!(n, 0);
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn poll_timeout(
        &self,
        events: &mut Events,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let mut wake = Vec::new();
        let n = self.poll_collect(events, timeout, &mut wake)?;
        wake.into_iter().for_each(Waker::wake);
        Ok(n)
    }

    /// Polls and moves the satisfied wakers into `wake` without waking
    /// them: the executor's path, which reuses one vector across polls.
    pub(crate) fn poll_collect(
        &self,
        events: &mut Events,
        timeout: Option<Duration>,
        wake: &mut Vec<Waker>,
    ) -> io::Result<usize> {
        let n = self.inner.backend.poll(events, timeout)?;
        if n > 0 {
            // An unpark event needs no action: the poll has returned.
            let io_events = events.iter().filter(|ev| ev.token != UNPARK_TOKEN);
            self.inner.wakers.deliver(io_events, wake);
        }
        Ok(n)
    }

    /// Polls, without blocking, a reactor that another thread drives (an
    /// idle worker standing in for a busy sibling) and moves the satisfied
    /// wakers into `wake`. Deliveries go through the registry's locks, as
    /// the owner's own polls do. If this poll took the owner's unpark event,
    /// it is written again, so the owner's next poll still returns.
    pub(crate) fn poll_foreign(
        &self,
        events: &mut Events,
        wake: &mut Vec<Waker>,
    ) -> io::Result<usize> {
        let n = self.inner.backend.poll(events, Some(Duration::ZERO))?;
        if n > 0 {
            let unpark = events.iter().any(|ev| ev.token == UNPARK_TOKEN);
            let io_events = events.iter().filter(|ev| ev.token != UNPARK_TOKEN);
            self.inner.wakers.deliver(io_events, wake);
            if unpark {
                self.inner.backend.unpark();
            }
        }
        Ok(n)
    }

    /// Whether `self` and `other` are handles to the same reactor.
    pub(crate) fn same_as(&self, other: &Reactor) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A handle that interrupts this reactor's blocked poll from any thread.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::events_with_capacity;
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let unparker = reactor.unparker();
    /// let t = std::thread::spawn(move || unparker.unpark());
    /// // Blocks without a timeout until the other thread unparks it.
    /// let mut events = events_with_capacity(8);
    /// reactor.poll(&mut events, None)?;
    /// t.join().unwrap();
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("backend", &self.inner.backend)
            .field("sources", &self.inner.wakers.len())
            .finish()
    }
}

/// Wakes a reactor blocked in poll, from any thread.
///
/// ```
/// use moduvex_runtime::platform::sys::events_with_capacity;
/// use moduvex_runtime::reactor::Reactor;
///
/// let reactor = Reactor::new()?;
/// let unparker = reactor.unparker();
/// unparker.unpark();
/// // The wake-up is kept: this poll returns at once.
/// reactor.poll(&mut events_with_capacity(4), None)?;
/// # Ok::<_, std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Unparker {
    inner: Arc<Inner>,
}

impl Unparker {
    /// Makes the reactor's current or next poll return promptly.
    ///
    /// ```
    /// use moduvex_runtime::platform::sys::events_with_capacity;
    /// use moduvex_runtime::reactor::Reactor;
    ///
    /// let reactor = Reactor::new()?;
    /// let unparker = reactor.unparker();
    /// std::thread::spawn(move || unparker.unpark()).join().unwrap();
    /// reactor.poll(&mut events_with_capacity(4), None)?;
    /// # Ok::<_, std::io::Error>(())
    /// ```
    pub fn unpark(&self) {
        self.inner.backend.unpark();
    }
}

impl std::fmt::Debug for Unparker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Unparker")
    }
}

// ── Thread-local reactor ──────────────────────────────────────────────────────

thread_local! {
    /// This thread's reactor, created on first use.
    static REACTOR: OnceCell<Reactor> = const { OnceCell::new() };
}

/// This thread's reactor, created now if needed.
///
/// Panics if the OS refuses an epoll instance or an eventfd (descriptor
/// exhaustion), since no I/O could run on this thread anyway; runtime
/// threads create theirs up front with [`init_thread_reactor`], where that
/// failure becomes an error from `Builder::build`.
fn thread_reactor(cell: &OnceCell<Reactor>) -> &Reactor {
    cell.get_or_init(|| {
        Reactor::new().expect(
            "moduvex-runtime: failed to create this thread's reactor (epoll_create1 or \
             eventfd, or kqueue, failed; is the process out of file descriptors?)",
        )
    })
}

/// Creates this thread's reactor if it has none yet, returning the OS
/// error instead of panicking.
pub(crate) fn init_thread_reactor() -> io::Result<()> {
    REACTOR.with(|cell| {
        if cell.get().is_none() {
            let _ = cell.set(Reactor::new()?);
        }
        Ok(())
    })
}

thread_local! {
    /// Whether a scheduler on this thread is driving its reactor now.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Whether a scheduler on this thread drives its reactor now.
pub(crate) fn is_driving_here() -> bool {
    DRIVING.try_with(Cell::get).unwrap_or(false)
}

/// Marks this thread's reactor as driven by the scheduler about to run
/// here, for as long as the guard lives (see the module docs).
///
/// Entering takes the reactor back from the foster thread; leaving with
/// sources still registered hands it to the foster thread.
pub(crate) struct DrivingGuard {
    was_driving: bool,
}

impl DrivingGuard {
    pub(crate) fn enter() -> DrivingGuard {
        let was_driving = DRIVING.with(|d| d.replace(true));
        with_reactor(|r| {
            if r.inner.foster.is_fostered() {
                foster::release(r);
            }
        });
        DrivingGuard { was_driving }
    }
}

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        if self.was_driving {
            return;
        }
        let _ = DRIVING.try_with(|d| d.set(false));
        let _ = REACTOR.try_with(|cell| {
            let Some(r) = cell.get() else { return };
            if r.inner.wakers.count() > 0 {
                // Failing to start the foster thread leaves the sources to
                // this thread's next scheduler; nothing better is possible.
                let _ = foster::adopt(r);
            }
        });
    }
}

/// Runs `f` with this thread's reactor.
///
/// Re-entrant: `f` (or a waker it triggers) may call `with_reactor` again.
///
/// ```
/// use moduvex_runtime::platform::sys::events_with_capacity;
/// use moduvex_runtime::reactor::with_reactor;
///
/// let mut events = events_with_capacity(4);
/// let n = with_reactor(|r| r.poll(&mut events, Some(0)))?;
/// assert_eq!(n, 0);
/// // Re-entrant: a nested call gets the same reactor.
/// assert_eq!(with_reactor(|_| with_reactor(|_| 7)), 7);
/// # Ok::<_, std::io::Error>(())
/// ```
pub fn with_reactor<F, R>(f: F) -> R
where
    F: FnOnce(&Reactor) -> R,
{
    REACTOR.with(|cell| f(thread_reactor(cell)))
}

/// Runs `f` with this thread's reactor for driving it (polling).
///
/// Kept for the executor's poll loop. The reactor needs no exclusive
/// borrow (all its state is behind short internal locks), so this is the
/// same access as [`with_reactor`].
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn with_reactor_mut<F, R>(f: F) -> R
where
    F: FnOnce(&Reactor) -> R,
{
    REACTOR.with(|cell| f(thread_reactor(cell)))
}

// ── Tests ─────────────────────────────────────────────────────────────────────

/// The seed's tests.
#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::platform::sys::create_pipe;
    use crate::platform::sys::events_with_capacity;

    #[test]
    fn reactor_initialises_via_thread_local() {
        // `with_reactor` must not panic — reactor initialised lazily here.
        with_reactor(|_r| {});
    }

    #[cfg(unix)]
    #[test]
    fn reactor_register_deregister_roundtrip() {
        let (r, w) = create_pipe().unwrap();
        with_reactor(|reactor| {
            reactor
                .register(r, 10, Interest::READABLE)
                .expect("register");
            reactor.deregister(r).expect("deregister");
        });
        // SAFETY: fds are valid and owned by this test; deregistered above.
        unsafe { libc::close(r) };
        // SAFETY: as above.
        unsafe { libc::close(w) };
    }

    #[test]
    fn reactor_poll_timeout_zero_returns_immediately() {
        let mut events = events_with_capacity(16);
        with_reactor_mut(|reactor| {
            // No sources registered — timeout=0 must return immediately with 0.
            let n = reactor.poll(&mut events, Some(0)).expect("poll");
            assert_eq!(n, 0);
        });
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use crate::platform::sys::events_with_capacity;

    #[cfg(unix)]
    #[test]
    fn register_twice_and_unknown_deregister_are_errors() {
        let (r, w) = crate::platform::sys::create_pipe().unwrap();
        with_reactor(|reactor| {
            reactor.register(r, 1, Interest::READABLE).unwrap();
            let err = reactor.register(r, 2, Interest::READABLE).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
            reactor.deregister(r).unwrap();
            let err = reactor.deregister(r).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
            let err = reactor.deregister(w).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound);
        });
        // SAFETY: fds are owned by this test and no longer registered.
        unsafe {
            libc::close(r);
            libc::close(w);
        }
    }

    #[test]
    fn a_socket_registers_once_and_deregisters_once() {
        use crate::platform::AsRawSource;
        // A socket pair where there is one (Miri emulates socketpair, not
        // TCP); two listeners on Windows.
        #[cfg(unix)]
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        #[cfg(windows)]
        let (a, b) = (
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        );
        // Registering needs no non-blocking mode (and Miri has no ioctl).
        let reactor = Reactor::new().unwrap();
        reactor
            .register(a.as_raw_source(), 1, Interest::READABLE)
            .unwrap();
        let err = reactor
            .register(a.as_raw_source(), 2, Interest::READABLE)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        reactor.deregister(a.as_raw_source()).unwrap();
        let err = reactor.deregister(a.as_raw_source()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let err = reactor.deregister(b.as_raw_source()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn unparker_interrupts_a_blocking_poll() {
        let reactor = Reactor::new().unwrap();
        let unparker = reactor.unparker();
        let t = std::thread::spawn(move || unparker.unpark());
        let mut events = events_with_capacity(4);
        // Blocks with no timeout: only the unparker can end it.
        let n = reactor.poll(&mut events, None).unwrap();
        assert_eq!(n, 1);
        t.join().unwrap();
    }
}

#[cfg(all(test, unix))]
mod token_tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    use super::*;
    use crate::platform::sys::events_with_capacity;

    /// An event read for a source that is then removed must not reach the
    /// source registered next under the same slab key.
    #[test]
    fn a_stale_event_does_not_reach_the_source_that_reuses_its_key() {
        let reactor = Reactor::new().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let (old_token, _old) = reactor.wakers().insert().unwrap();
        reactor
            .register(a.as_raw_fd(), old_token, Interest::BOTH)
            .unwrap();
        // The peer hangs up: the kernel reports READ_CLOSED for `a`.
        drop(b);
        let mut events = events_with_capacity(8);
        let n = reactor
            .inner
            .backend
            .poll(&mut events, Some(Duration::ZERO))
            .unwrap();
        assert!(n >= 1);
        assert!(events
            .iter()
            .any(|ev| ev.token == old_token && ev.read_closed));
        // Between the poll and the delivery, the source goes and a new one
        // takes its slab slot.
        reactor
            .deregister_with_token(a.as_raw_fd(), old_token)
            .unwrap();
        let (new_token, new) = reactor.wakers().insert().unwrap();
        let mut wake = Vec::new();
        reactor.inner.wakers.deliver(events.iter(), &mut wake);
        assert!(wake.is_empty());
        assert!(
            new.peek_readiness(Direction::Read).is_none(),
            "the new source (token {new_token:#x}) got the old one's (token {old_token:#x}) hang-up"
        );
        assert!(new.peek_readiness(Direction::Write).is_none());
        reactor.wakers().remove_token(new_token);
    }
}
