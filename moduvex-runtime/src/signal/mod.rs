//! Signals as async events: [`ctrl_c`] and [`unix::signal`].
//!
//! `unix` (and the machinery below) exists on Unix only (`cfg(unix)`), as
//! tokio's does. On Windows, [`ctrl_c`] listens through the console control
//! handler (`SetConsoleCtrlHandler`) instead: the handler runs on a thread
//! the system starts for it, bumps a generation and wakes the listeners
//! itself (their wakers are taken under a lock and woken after it).
//!
//! The one idea: **a signal handler may only bump an atomic and write a
//! byte; everything else happens on a dispatcher thread.** The handler
//! (installed through `signal-hook-registry`, which chains any handler
//! installed before it) adds one to the signal's delivery counter and
//! writes one byte to a non-blocking, close-on-exec self-pipe. A dedicated
//! thread, `moduvex-signal`, started on the first [`unix::signal`] call,
//! blocks on that pipe. When it wakes it drains the pipe and, for each
//! signal whose counter moved, bumps that signal's *generation* and wakes
//! its listeners (wakers are taken under a lock and woken after it is
//! released). Each listener compares the generation against the last one
//! it reported, so:
//!
//! - **every listener gets every delivery**: listening takes nothing away
//!   from other listeners, on whichever thread or worker they run;
//! - **bursts coalesce**: deliveries that arrive before a listener polls
//!   again complete its `recv` once (as signals themselves coalesce while
//!   pending); a delivery after a completed `recv` always completes the
//!   next one.
//!
//! A dedicated blocking thread keeps signal delivery independent of which
//! runtime (or none) is running and of whether its workers are busy; it
//! costs one mostly-sleeping thread per process, started only if signals
//! are used. Handlers stay installed for the rest of the process.
//!
//! A process that `fork`s without `exec` after signals were first used has
//! no dispatcher thread in the child (threads do not survive `fork`), so
//! listeners there are never woken; use signals in the child only after
//! `exec`, as a fresh process.
//!
//! ```
//! use moduvex_runtime::signal::unix::{signal, SignalKind};
//!
//! moduvex_runtime::block_on(async {
//!     let mut hup = signal(SignalKind::hangup())?;
//!     // SAFETY: raising a signal this process now has a handler for.
//!     unsafe { libc::raise(libc::SIGHUP) };
//!     assert_eq!(hup.recv().await, Some(()));
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::io;

#[cfg(unix)]
mod registry;
#[cfg(unix)]
pub mod unix;
#[cfg(windows)]
mod windows;

/// Completes on the next `SIGINT` (Ctrl-C in a terminal; on Windows, the
/// console's `CTRL_C_EVENT`).
///
/// The listener is registered when the future is first polled, so poll
/// (or `.await`) it before Ctrl-C can matter; after that the process no
/// longer terminates on `SIGINT` by default, for its whole life.
///
/// ```no_run
/// moduvex_runtime::block_on(async {
///     moduvex_runtime::signal::ctrl_c().await.expect("listen for Ctrl-C");
///     println!("shutting down");
/// });
/// ```
///
/// # Errors
/// An OS error if the handler, the self-pipe or the dispatcher thread
/// cannot be set up.
pub async fn ctrl_c() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
        interrupts.recv().await;
        Ok(())
    }
    #[cfg(windows)]
    {
        windows::ctrl_c().await
    }
}
