//! The Linux backend: one epoll instance.
//!
//! # Edge- or level-triggered
//!
//! Sources registered through [`IoSource`](super::IoSource) are
//! **edge-triggered** and registered once for both directions. Their
//! readiness is cached in the source and cleared only when an operation
//! returns `WouldBlock`, so the kernel never has to be re-armed (no
//! `epoll_ctl` per wait, one syscall saved on every I/O operation) and read
//! and write interest can never overwrite each other. The raw
//! [`Reactor::register`](super::Reactor::register) API uses the same mode.
//!
//! # Timeouts
//!
//! `epoll_pwait2` (Linux ≥ 5.11) takes a nanosecond timeout; where the kernel
//! lacks it the backend falls back to `epoll_wait` and rounds the timeout
//! **up** to whole milliseconds (rounding down would wake early and spin).

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use super::{ReactorBackend, UNPARK_TOKEN};
use crate::platform::sys::{syscall, EventFd, Events, Interest, RawSource};

/// An owned epoll instance, and the eventfd that unparks it.
#[derive(Debug)]
pub struct EpollReactor {
    epfd: RawSource,
    /// Registered edge-triggered under [`UNPARK_TOKEN`] for the life of
    /// `epfd`: every `notify` is a fresh edge, so it is never read.
    unpark: EventFd,
}

impl EpollReactor {
    /// The epoll descriptor itself (pollable: another epoll can watch it).
    pub(crate) fn raw(&self) -> RawSource {
        self.epfd
    }

    fn ctl(
        &self,
        op: libc::c_int,
        fd: RawSource,
        token: usize,
        interest: Interest,
    ) -> io::Result<()> {
        let mut ev = libc::epoll_event {
            events: interest.to_epoll() | libc::EPOLLET as u32,
            u64: token as u64,
        };
        // SAFETY: `ev` is a live epoll_event; a bad fd yields an error code.
        syscall!(epoll_ctl(self.epfd, op, fd, &mut ev))?;
        Ok(())
    }
}

const PWAIT2_UNKNOWN: u8 = 0;
const PWAIT2_YES: u8 = 1;
const PWAIT2_NO: u8 = 2;
static HAS_PWAIT2: AtomicU8 = AtomicU8::new(PWAIT2_UNKNOWN);

/// `epoll_wait`'s millisecond timeout for `d`, rounded up.
fn timeout_ms_rounded_up(d: Duration) -> libc::c_int {
    let ms = d.as_nanos().div_ceil(1_000_000);
    ms.min(libc::c_int::MAX as u128) as libc::c_int
}

impl ReactorBackend for EpollReactor {
    fn new() -> io::Result<Self> {
        let unpark = EventFd::new()?;
        // SAFETY: epoll_create1 takes a flag word only.
        let epfd = syscall!(epoll_create1(libc::EPOLL_CLOEXEC))?;
        // Both owned from here: a failure below closes them through Drop.
        let reactor = EpollReactor { epfd, unpark };
        reactor.register(reactor.unpark.as_raw(), UNPARK_TOKEN, Interest::READABLE)?;
        Ok(reactor)
    }

    fn register(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, source, token, interest)
    }

    fn reregister(&self, source: RawSource, token: usize, interest: Interest) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, source, token, interest)
    }

    fn deregister(&self, source: RawSource) -> io::Result<()> {
        // SAFETY: a null event pointer is allowed for EPOLL_CTL_DEL (≥ 2.6.9).
        syscall!(epoll_ctl(
            self.epfd,
            libc::EPOLL_CTL_DEL,
            source,
            std::ptr::null_mut()
        ))?;
        Ok(())
    }

    fn poll(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let (buf, cap) = events.spare();
        let n = match timeout {
            // Miri emulates `epoll_wait` but not the raw `epoll_pwait2`
            // syscall: it takes the millisecond path.
            Some(d)
                if !cfg!(miri)
                    && !d.is_zero()
                    && HAS_PWAIT2.load(Ordering::Relaxed) != PWAIT2_NO =>
            {
                let ts = libc::timespec {
                    tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                    tv_nsec: d.subsec_nanos() as libc::c_long,
                };
                // SAFETY: `buf` has room for `cap` events, `ts` is a live timespec, and a null sigmask means "do not change it".
                let res = unsafe {
                    libc::syscall(
                        libc::SYS_epoll_pwait2,
                        self.epfd,
                        buf,
                        cap,
                        &ts as *const libc::timespec,
                        std::ptr::null::<libc::sigset_t>(),
                        0usize,
                    )
                };
                if res >= 0 {
                    HAS_PWAIT2.store(PWAIT2_YES, Ordering::Relaxed);
                    res as usize
                } else {
                    let err = io::Error::last_os_error();
                    match err.raw_os_error() {
                        Some(libc::ENOSYS) | Some(libc::EPERM) => {
                            HAS_PWAIT2.store(PWAIT2_NO, Ordering::Relaxed);
                            return self.poll(events, timeout);
                        }
                        // A signal interrupted the wait: report no events; the
                        // caller recomputes its timeout and polls again.
                        Some(libc::EINTR) => 0,
                        _ => return Err(err),
                    }
                }
            }
            _ => {
                let ms = match timeout {
                    None => -1,
                    Some(d) => timeout_ms_rounded_up(d),
                };
                // SAFETY: `buf` has room for `cap` events.
                match syscall!(epoll_wait(self.epfd, buf, cap, ms)) {
                    Ok(n) => n as usize,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                    Err(e) => return Err(e),
                }
            }
        };
        // SAFETY: the kernel initialised the first `n` (≤ cap) entries.
        unsafe { events.set_len(n) };
        Ok(n)
    }

    #[inline]
    fn unpark(&self) {
        self.unpark.notify();
    }
}

impl Drop for EpollReactor {
    fn drop(&mut self) {
        // SAFETY: we own the epoll descriptor; nothing uses it after drop.
        unsafe { libc::close(self.epfd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_fallback_rounds_up() {
        assert_eq!(timeout_ms_rounded_up(Duration::from_nanos(1)), 1);
        assert_eq!(timeout_ms_rounded_up(Duration::from_micros(1500)), 2);
        assert_eq!(timeout_ms_rounded_up(Duration::from_millis(3)), 3);
        assert_eq!(timeout_ms_rounded_up(Duration::MAX), libc::c_int::MAX);
    }
}
