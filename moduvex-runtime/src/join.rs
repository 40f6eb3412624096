//! `join!` and `try_join!`: await several futures at once, on the current
//! task.
//!
//! The one idea: the futures live side by side in one tuple inside the
//! macro's future, each wrapped in a [`MaybeDone`] that keeps its output
//! once it finishes; every poll polls the unfinished ones. Nothing is
//! spawned, so the futures need not be `Send` or `'static`, and they run
//! concurrently but never in parallel (spawn them for that).
//!
//! The macros reach the i-th future of the tuple by matching it against a
//! pattern of i `_`s followed by a binding: `macro_rules!` cannot count,
//! but it can grow a list of `_`s by one per future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future, then its output, then nothing once the output was taken.
#[doc(hidden)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Future(F),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future that has not run yet.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Future(future)
    }

    /// Polls the future if it is still running; `true` once it is done.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // The future is only polled in place, then dropped in place when
        // its output replaces it: it never moves.
        // SAFETY: see above.
        let this = unsafe { self.get_unchecked_mut() };
        if let MaybeDone::Future(f) = this {
            // SAFETY: `f` lives in pinned memory (see above).
            match unsafe { Pin::new_unchecked(f) }.poll(cx) {
                Poll::Ready(out) => *this = MaybeDone::Done(out),
                Poll::Pending => return false,
            }
        }
        true
    }

    /// Takes the output of a finished future.
    ///
    /// # Panics
    /// If the future is still running or its output was taken already.
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        // SAFETY: only the (finished, dropped) future was pinned, not the output.
        let this = unsafe { self.get_unchecked_mut() };
        match std::mem::replace(this, MaybeDone::Gone) {
            MaybeDone::Done(out) => out,
            _ => panic!("join!: output taken before the future finished, or twice"),
        }
    }

    /// Whether the output is an `Err` (for `try_join!`).
    pub fn is_err<T, E>(&self) -> bool
    where
        F: Future<Output = Result<T, E>>,
    {
        matches!(self, MaybeDone::Done(Err(_)))
    }
}

/// Waits for every future and returns their outputs as a tuple, in the
/// order given — tokio's `join!`.
///
/// The futures run concurrently on the current task (none is spawned), so
/// they may borrow from the caller and need not be `Send`.
///
/// ```
/// use moduvex_runtime::{join, time::sleep};
/// use std::time::Duration;
///
/// moduvex_runtime::block_on(async {
///     let (a, b) = join!(
///         async { sleep(Duration::from_millis(2)).await; 1 },
///         async { 2 },
///     );
///     assert_eq!((a, b), (1, 2));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join!(@join {} [] $($fut,)+)
    };
}

/// Waits for every future to return `Ok` and returns the values as a
/// tuple; returns the first `Err` as soon as one arrives, dropping the
/// other futures — tokio's `try_join!`.
///
/// ```
/// use moduvex_runtime::try_join;
///
/// moduvex_runtime::block_on(async {
///     let ok: Result<(u8, u8), &str> = try_join!(async { Ok(1) }, async { Ok(2) });
///     assert_eq!(ok, Ok((1, 2)));
///     let err: Result<(u8, u8), &str> =
///         try_join!(async { Ok(1) }, async { Err("no") });
///     assert_eq!(err, Err("no"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__join!(@try {} [] $($fut,)+)
    };
}

/// The shared expansion of `join!` and `try_join!` (see the module docs).
#[doc(hidden)]
#[macro_export]
macro_rules! __join {
    // Pair each future with the `_`s that skip the ones before it.
    (@$kind:ident { $($done:tt)* } [ $($skip:tt)* ] $fut:expr, $($rest:tt)*) => {
        $crate::__join!(@$kind { $($done)* [ $($skip)* ] $fut, } [ $($skip)* _ ] $($rest)*)
    };
    (@join { $( [ $($skip:tt)* ] $fut:expr, )+ } $_skipped_all:tt) => {{
        let mut futures = ( $( $crate::__private::MaybeDone::new($fut), )+ );
        ::std::future::poll_fn(move |cx| {
            let mut done = true;
            $(
                let ( $($skip,)* fut, .. ) = &mut futures;
                // `futures` lives in this closure, inside the poll_fn future,
                // which is pinned while polled and never moves the closure.
                // SAFETY: see above.
                let fut = unsafe { ::std::pin::Pin::new_unchecked(fut) };
                done &= fut.poll_done(cx);
            )+
            if !done {
                return ::std::task::Poll::Pending;
            }
            ::std::task::Poll::Ready(( $( {
                let ( $($skip,)* fut, .. ) = &mut futures;
                // SAFETY: as above.
                unsafe { ::std::pin::Pin::new_unchecked(fut) }.take_output()
            }, )+ ))
        })
        .await
    }};
    (@try { $( [ $($skip:tt)* ] $fut:expr, )+ } $_skipped_all:tt) => {{
        let mut futures = ( $( $crate::__private::MaybeDone::new($fut), )+ );
        ::std::future::poll_fn(move |cx| {
            let mut done = true;
            $(
                let ( $($skip,)* fut, .. ) = &mut futures;
                // SAFETY: as in `join!`: the closure's state never moves.
                let mut fut = unsafe { ::std::pin::Pin::new_unchecked(fut) };
                if fut.as_mut().poll_done(cx) {
                    if fut.is_err() {
                        match fut.take_output() {
                            ::std::result::Result::Err(e) => {
                                return ::std::task::Poll::Ready(::std::result::Result::Err(e));
                            }
                            ::std::result::Result::Ok(_) => unreachable!(),
                        }
                    }
                } else {
                    done = false;
                }
            )+
            if !done {
                return ::std::task::Poll::Pending;
            }
            ::std::task::Poll::Ready(::std::result::Result::Ok(( $( {
                let ( $($skip,)* fut, .. ) = &mut futures;
                // SAFETY: as above.
                match unsafe { ::std::pin::Pin::new_unchecked(fut) }.take_output() {
                    ::std::result::Result::Ok(v) => v,
                    ::std::result::Result::Err(_) => unreachable!(),
                }
            }, )+ )))
        })
        .await
    }};
}
