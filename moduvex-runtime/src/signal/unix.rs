//! Unix signals by kind: [`signal`] returns a [`Signal`] stream that
//! completes once for each dispatch of that signal.
//!
//! ```
//! use moduvex_runtime::signal::unix::{signal, SignalKind};
//!
//! moduvex_runtime::block_on(async {
//!     let mut usr2 = signal(SignalKind::user_defined2())?;
//!     // SAFETY: raising a signal this process now has a handler for.
//!     unsafe { libc::raise(libc::SIGUSR2) };
//!     usr2.recv().await;
//!     Ok::<_, std::io::Error>(())
//! }).unwrap();
//! ```

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

use super::registry::{self, Listener};

/// A Unix signal number, with constructors for the common ones.
///
/// ```
/// use moduvex_runtime::signal::unix::SignalKind;
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGTERM), SignalKind::terminate());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal by number, such as a real-time one (`SIGRTMIN() + n`).
    /// Whether it may be listened for is checked by [`signal`].
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// let rt = SignalKind::from_raw(libc::SIGRTMIN() + 1);
    /// assert_eq!(rt.as_raw_value(), libc::SIGRTMIN() + 1);
    /// assert_eq!(SignalKind::from_raw(libc::SIGINT), SignalKind::interrupt());
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal number.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGINT`: interrupt from the terminal (Ctrl-C).
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// assert_eq!(SignalKind::interrupt().name(), Some("SIGINT"));
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: polite request to terminate (what `kill` sends).
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// assert_eq!(SignalKind::terminate().name(), Some("SIGTERM"));
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons often reload on it.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// assert_eq!(SignalKind::hangup().name(), Some("SIGHUP"));
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: quit from the terminal (Ctrl-\\).
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// assert_eq!(SignalKind::quit().name(), Some("SIGQUIT"));
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`: for the application's own use.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// assert_eq!(SignalKind::user_defined1().name(), Some("SIGUSR1"));
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`: for the application's own use.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// assert_eq!(SignalKind::user_defined2().name(), Some("SIGUSR2"));
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// assert_eq!(SignalKind::child().name(), Some("SIGCHLD"));
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::alarm().as_raw_value(), libc::SIGALRM);
    /// assert_eq!(SignalKind::alarm().name(), Some("SIGALRM"));
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe or socket with no reader.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::pipe().as_raw_value(), libc::SIGPIPE);
    /// assert_eq!(SignalKind::pipe().name(), Some("SIGPIPE"));
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal window changed size.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::window_change().as_raw_value(), libc::SIGWINCH);
    /// assert_eq!(SignalKind::window_change().name(), Some("SIGWINCH"));
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The conventional name (`"SIGINT"`), or `None` for numbers without
    /// one (real-time signals and invalid numbers).
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::hangup().name(), Some("SIGHUP"));
    /// assert_eq!(SignalKind::from_raw(libc::SIGRTMIN()).name(), None);
    /// ```
    pub fn name(&self) -> Option<&'static str> {
        let name = match self.0 {
            libc::SIGHUP => "SIGHUP",
            libc::SIGINT => "SIGINT",
            libc::SIGQUIT => "SIGQUIT",
            libc::SIGILL => "SIGILL",
            libc::SIGTRAP => "SIGTRAP",
            libc::SIGABRT => "SIGABRT",
            libc::SIGBUS => "SIGBUS",
            libc::SIGFPE => "SIGFPE",
            libc::SIGKILL => "SIGKILL",
            libc::SIGUSR1 => "SIGUSR1",
            libc::SIGSEGV => "SIGSEGV",
            libc::SIGUSR2 => "SIGUSR2",
            libc::SIGPIPE => "SIGPIPE",
            libc::SIGALRM => "SIGALRM",
            libc::SIGTERM => "SIGTERM",
            libc::SIGCHLD => "SIGCHLD",
            libc::SIGCONT => "SIGCONT",
            libc::SIGSTOP => "SIGSTOP",
            libc::SIGTSTP => "SIGTSTP",
            libc::SIGTTIN => "SIGTTIN",
            libc::SIGTTOU => "SIGTTOU",
            libc::SIGURG => "SIGURG",
            libc::SIGXCPU => "SIGXCPU",
            libc::SIGXFSZ => "SIGXFSZ",
            libc::SIGVTALRM => "SIGVTALRM",
            libc::SIGPROF => "SIGPROF",
            libc::SIGWINCH => "SIGWINCH",
            libc::SIGIO => "SIGIO",
            #[cfg(target_os = "linux")]
            libc::SIGPWR => "SIGPWR",
            libc::SIGSYS => "SIGSYS",
            _ => return None,
        };
        Some(name)
    }

    /// Rejects signals that can never be listened for, with a message
    /// naming the signal.
    fn check(self) -> io::Result<()> {
        let max = registry::max_signal();
        let reason = match self.0 {
            n if n <= 0 || n > max => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("signal number {n} is out of range: valid signals are 1..={max}"),
                ))
            }
            libc::SIGKILL | libc::SIGSTOP => "it cannot be caught or ignored",
            libc::SIGSEGV | libc::SIGILL | libc::SIGFPE | libc::SIGBUS => {
                "it reports a fault in the program itself, which must not be handled asynchronously"
            }
            _ => return Ok(()),
        };
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("cannot listen for {self}: {reason}"),
        ))
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (signal {})", self.0),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SignalKind({name})"),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for i32 {
    fn from(kind: SignalKind) -> i32 {
        kind.0
    }
}

/// Listens for `kind`: the returned [`Signal`] completes once for each
/// dispatch of the signal that happens after this call.
///
/// The first call for a signal installs a process-wide handler that stays
/// for the rest of the process, replacing the signal's default action
/// (handlers installed before are chained, not replaced). Call it before
/// the signal can arrive: a `SIGTERM` sent before anyone listens still
/// terminates the process.
///
/// Needs no runtime: it may be called anywhere, and the [`Signal`] may be
/// polled on any thread or worker.
///
/// ```
/// use moduvex_runtime::signal::unix::{signal, SignalKind};
/// moduvex_runtime::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: raise(3) only sends a signal to this process, which now
///     // has a handler for it.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     usr1.recv().await;
///     Ok::<(), std::io::Error>(())
/// }).unwrap();
/// ```
///
/// # Errors
/// [`io::ErrorKind::InvalidInput`] for signals that cannot be listened
/// for: `SIGKILL` and `SIGSTOP` (cannot be caught), `SIGSEGV`, `SIGILL`,
/// `SIGFPE` and `SIGBUS` (faults of the program itself), and numbers out
/// of `1..=SIGRTMAX`. An OS error if the handler, the self-pipe or the
/// dispatcher thread cannot be set up.
///
/// ```
/// use moduvex_runtime::signal::unix::{signal, SignalKind};
///
/// moduvex_runtime::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: raising a signal this process now has a handler for.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(usr1.recv().await, Some(()));
///     let err = signal(SignalKind::from_raw(libc::SIGKILL)).err().unwrap();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    kind.check()?;
    let slot = registry::install(kind.0)?;
    Ok(Signal {
        kind,
        listener: Listener::new(slot),
    })
}

/// A stream of one signal's deliveries, created by [`signal`].
///
/// Deliveries that arrive before the listener is polled again coalesce:
/// three quick `SIGHUP`s may complete `recv` once, never more than three
/// times, and at least once after the last of them. Every `Signal` of the
/// same kind sees every delivery; listening does not take it from others.
///
/// ```
/// use moduvex_runtime::signal::unix::{signal, SignalKind};
///
/// moduvex_runtime::block_on(async {
///     let mut a = signal(SignalKind::user_defined1())?;
///     let mut b = signal(SignalKind::user_defined1())?;
///     // SAFETY: raising a signal this process now has a handler for.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     // Every listener of the kind sees the delivery.
///     assert_eq!(a.recv().await, Some(()));
///     assert_eq!(b.recv().await, Some(()));
///     Ok::<_, std::io::Error>(())
/// }).unwrap();
/// ```
pub struct Signal {
    kind: SignalKind,
    listener: Listener,
}

impl Signal {
    /// Waits for the next delivery. Always `Some(())` today: the
    /// dispatcher lives as long as the process. (`None` is reserved for a
    /// stream that can no longer receive.)
    ///
    /// Cancel-safe: dropping the future loses no delivery; the next call
    /// sees it.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::{signal, SignalKind};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1())?;
    ///     // SAFETY: raising a signal this process now has a handler for.
    ///     unsafe { libc::raise(libc::SIGUSR1) };
    ///     assert_eq!(usr1.recv().await, Some(()));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for a delivery since the last one this stream reported,
    /// registering `cx`'s waker if there is none yet. A delivery spends one
    /// unit of the task's cooperative budget (as tokio's).
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::{signal, SignalKind};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let mut usr1 = signal(SignalKind::user_defined1())?;
    ///     // SAFETY: raising a signal this process now has a handler for.
    ///     unsafe { libc::raise(libc::SIGUSR1) };
    ///     let got = std::future::poll_fn(|cx| usr1.poll_recv(cx)).await;
    ///     assert_eq!(got, Some(()));
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        crate::coop::budgeted(cx, |cx| self.listener.poll(cx).map(Some))
    }

    /// The signal this stream listens for.
    ///
    /// ```
    /// use moduvex_runtime::signal::unix::{signal, SignalKind};
    ///
    /// moduvex_runtime::block_on(async {
    ///     let hup = signal(SignalKind::hangup())?;
    ///     assert_eq!(hup.kind(), SignalKind::hangup());
    ///     Ok::<_, std::io::Error>(())
    /// }).unwrap();
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

/// Each delivery is an item (`()`); the stream never ends (tokio-stream's
/// `SignalStream`, without the wrapper).
///
/// ```
/// use futures_lite::StreamExt;
/// use moduvex_runtime::signal::unix::{signal, SignalKind};
///
/// moduvex_runtime::block_on(async {
///     let mut usr2 = signal(SignalKind::user_defined2())?;
///     // SAFETY: raising a signal the example has a handler for.
///     unsafe { libc::raise(libc::SIGUSR2) };
///     assert_eq!(usr2.next().await, Some(()));
///     Ok::<(), std::io::Error>(())
/// }).unwrap();
/// ```
impl futures_core::Stream for Signal {
    type Item = ();

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
