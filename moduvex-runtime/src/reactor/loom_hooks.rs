//! Doors into the waker registry for the loom models in
//! `tests/loom_reactor.rs`, which drive the real token and waiter code
//! (built with loom's atomics and locks, see `loom_facade`). Compiled only
//! under `--cfg loom`; not part of the API.

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::waker_registry::{self, ScheduledIo, Waiter};
use super::{Direction, ReadyEvent, WakerRegistry};
use crate::platform::sys::Event;

/// A registered source's readiness and waiters.
pub struct Source(Arc<ScheduledIo>);

/// Registers a source; returns its token.
pub fn insert(registry: &WakerRegistry) -> (usize, Source) {
    let (token, io) = registry.insert().expect("a free slab key");
    (token, Source(io))
}

/// Delivers `event` as a poll would; returns the wakers to wake.
pub fn deliver(registry: &WakerRegistry, event: Event) -> Vec<Waker> {
    let mut wake = Vec::new();
    registry.deliver(std::iter::once(event), &mut wake);
    wake
}

/// The slab key of `token`.
pub fn key(token: usize) -> usize {
    waker_registry::token_key(token)
}

impl Source {
    /// A fresh source outside any registry.
    pub fn new() -> Source {
        Source(Arc::new(ScheduledIo::default()))
    }

    /// The readiness for `dir`, without waiting.
    pub fn ready(&self, dir: Direction) -> Option<ReadyEvent> {
        self.0.peek_readiness(dir)
    }

    /// Adds readiness as an event would; returns the wakers to wake.
    pub fn set_readable(&self) -> Vec<Waker> {
        let mut wake = Vec::new();
        self.0.set_readiness(waker_registry::READABLE, &mut wake);
        wake
    }

    /// Adds write readiness as an event would; returns the wakers to wake.
    pub fn set_writable(&self) -> Vec<Waker> {
        let mut wake = Vec::new();
        self.0.set_readiness(waker_registry::WRITABLE, &mut wake);
        wake
    }

    /// Adds the priority bit alone (an `EPOLLPRI` event also reports the
    /// source readable; alone, the model shows that the bit itself wakes
    /// the read waiters).
    pub fn set_priority(&self) -> Vec<Waker> {
        let mut wake = Vec::new();
        self.0.set_readiness(waker_registry::PRIORITY, &mut wake);
        wake
    }

    /// The readiness within both directions' usual masks now (what
    /// `try_io` looks at), without waiting.
    pub fn peek_any(&self) -> Option<ReadyEvent> {
        self.0
            .peek_mask(Direction::Read.mask() | Direction::Write.mask())
    }

    /// A future's place among the waiters of `dir`, waiting only for the
    /// priority bit (`ready(Interest::PRIORITY)`).
    pub fn priority_waiter(&self) -> SourceWaiter<'_> {
        SourceWaiter(Waiter::with_mask(
            &self.0,
            Direction::Read,
            waker_registry::PRIORITY,
        ))
    }

    /// Forgets `event`'s readiness (an operation hit `WouldBlock`).
    pub fn clear(&self, event: ReadyEvent) {
        self.0.clear_readiness(event)
    }

    /// A future's place among the waiters of `dir`.
    pub fn waiter(&self, dir: Direction) -> SourceWaiter<'_> {
        SourceWaiter(Waiter::new(&self.0, dir))
    }
}

impl Default for Source {
    fn default() -> Source {
        Source::new()
    }
}

/// A future's place among a source's waiters; given up on drop.
pub struct SourceWaiter<'a>(Waiter<'a>);

impl SourceWaiter<'_> {
    /// Ready, or the task's waker kept in this place.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<ReadyEvent> {
        self.0.poll_ready(cx)
    }
}
