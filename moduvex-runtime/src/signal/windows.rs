//! Ctrl-C on Windows: the console control handler bumps a generation and
//! wakes the listeners waiting for it to move.
//!
//! The handler (installed once, on the first [`ctrl_c`], for the rest of
//! the process) runs on a thread the system starts for each console event.
//! It may do ordinary work there, so it wakes the listeners itself: their
//! wakers are taken under the listeners' lock and woken after it is
//! released. A listener completes once the generation differs from the one
//! it saw when it started, so a Ctrl-C between its first poll and its wait
//! is never missed.

use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Poll, Waker};

use slab::Slab;
use windows_sys::core::BOOL;
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_C_EVENT};

/// How many `CTRL_C_EVENT`s the handler has seen.
static GENERATION: AtomicUsize = AtomicUsize::new(0);
/// The waker of each waiting listener (`None` before its first wait).
static LISTENERS: Mutex<Slab<Option<Waker>>> = Mutex::new(Slab::new());
/// Whether the handler is installed (the OS error code if it failed).
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

fn listeners() -> MutexGuard<'static, Slab<Option<Waker>>> {
    // Only slab operations run under this lock.
    LISTENERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The console control handler: handles `CTRL_C_EVENT` (the process does
/// not terminate) and passes every other event on.
unsafe extern "system" fn handler(ctrl_type: u32) -> BOOL {
    if ctrl_type != CTRL_C_EVENT {
        return 0;
    }
    GENERATION.fetch_add(1, Ordering::SeqCst);
    let wakers: Vec<Waker> = listeners()
        .iter_mut()
        .filter_map(|(_, w)| w.take())
        .collect();
    wakers.into_iter().for_each(Waker::wake);
    1
}

fn install() -> io::Result<()> {
    let res = INSTALLED.get_or_init(|| {
        // SAFETY: `handler` is a `'static` function with the signature the
        // console expects; adding a handler has no other precondition.
        if unsafe { SetConsoleCtrlHandler(Some(handler), 1) } == 0 {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(())
        }
    });
    res.map_err(io::Error::from_raw_os_error)
}

/// Removes a listener's slot when its future is dropped.
struct Listening(usize);

impl Drop for Listening {
    fn drop(&mut self) {
        let waker = listeners().try_remove(self.0);
        // Dropped after the lock is released.
        drop(waker);
    }
}

/// Completes on the next `CTRL_C_EVENT` after its first poll.
pub(super) async fn ctrl_c() -> io::Result<()> {
    install()?;
    let seen = GENERATION.load(Ordering::SeqCst);
    let slot = Listening(listeners().insert(None));
    poll_fn(|cx| {
        if GENERATION.load(Ordering::SeqCst) != seen {
            return Poll::Ready(Ok(()));
        }
        let old = listeners()
            .get_mut(slot.0)
            .and_then(|w| w.replace(cx.waker().clone()));
        drop(old);
        // The handler may have run between the check and the store.
        if GENERATION.load(Ordering::SeqCst) != seen {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_console_ctrl_c_completes_every_listener() {
        let (a, b) = crate::block_on(async {
            let a = crate::spawn(ctrl_c());
            let b = crate::spawn(ctrl_c());
            // Let both listeners register before the event.
            for _ in 0..10 {
                crate::task::yield_now().await;
            }
            std::thread::spawn(|| {
                // SAFETY: calls the handler as the console would, from a
                // thread of its own.
                unsafe { handler(CTRL_C_EVENT) }
            })
            .join()
            .unwrap();
            (a.await, b.await)
        });
        a.unwrap().unwrap();
        b.unwrap().unwrap();
    }

    #[test]
    fn other_console_events_are_passed_on() {
        // SAFETY: as above; CTRL_CLOSE_EVENT (2) is not handled.
        assert_eq!(unsafe { handler(2) }, 0);
    }
}
