//! `join!` and `try_join!`: await several futures at once, on the current
//! task.
//!
//! The one idea: the futures live side by side in one tuple in the
//! caller's async body, each wrapped in a [`MaybeDone`] that keeps its
//! output once it finishes; every poll polls the unfinished ones, starting
//! one branch later than the poll before (tokio's rotation; `biased;`
//! keeps the written order). Nothing is spawned, so the futures need not
//! be `Send` or `'static`, and they run concurrently but never in parallel
//! (spawn them for that).
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
/// they may borrow from the caller and need not be `Send`. Operands may be
/// anything [`IntoFuture`](std::future::IntoFuture).
///
/// Each poll of the `join!` polls every unfinished future once, starting
/// one branch further along each time (the first poll starts with the
/// first future, the next with the second, ...), so a future that spends
/// the task's whole budget cannot starve the ones after it. With
/// `join!(biased; a, b, c)` every poll goes in the order written.
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
///     assert_eq!(join!(biased; async { 3 }, async { 4 }), (3, 4));
/// });
/// ```
#[macro_export]
macro_rules! join {
    (biased; $($fut:expr_2021),+ $(,)?) => {
        $crate::__join!(@join true {} [] $($fut,)+)
    };
    (biased;) => {
        async {}.await
    };
    () => {
        async {}.await
    };
    ($($fut:expr_2021),+ $(,)?) => {
        $crate::__join!(@join false {} [] $($fut,)+)
    };
}

/// Waits for every future to return `Ok` and returns the values as a
/// tuple; returns the first `Err` as soon as one arrives, dropping the
/// other futures — tokio's `try_join!`.
///
/// Polling order is `join!`'s: rotating, or the order written with
/// `try_join!(biased; ...)`. Operands may be anything
/// [`IntoFuture`](std::future::IntoFuture).
///
/// ```
/// use moduvex_runtime::try_join;
///
/// moduvex_runtime::block_on(async {
///     let ok: Result<(u8, u8), &str> = try_join!(async { Ok(1) }, async { Ok(2) });
///     assert_eq!(ok, Ok((1, 2)));
///     let err: Result<(u8, u8), &str> =
///         try_join!(biased; async { Ok(1) }, async { Err("no") });
///     assert_eq!(err, Err("no"));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    (biased; $($fut:expr_2021),+ $(,)?) => {
        $crate::__join!(@try true {} [] $($fut,)+)
    };
    (biased;) => {
        async { ::std::result::Result::Ok(()) }.await
    };
    () => {
        async { ::std::result::Result::Ok(()) }.await
    };
    ($($fut:expr_2021),+ $(,)?) => {
        $crate::__join!(@try false {} [] $($fut,)+)
    };
}

/// The shared expansion of `join!` and `try_join!` (see the module docs).
///
/// The polling loop is tokio's: a counter says how many branches to skip
/// before polling starts (it grows by one per poll unless biased); the
/// loop goes round the branches twice, skipping first and stopping once
/// every branch was polled.
#[doc(hidden)]
#[macro_export]
macro_rules! __join {
    // Pair each future with the `_`s that skip the ones before it.
    (@$kind:ident $biased:tt { $($done:tt)* } [ $($skip:tt)* ] $fut:expr_2021, $($rest:tt)*) => {
        $crate::__join!(@$kind $biased { $($done)* [ $($skip)* ] $fut, } [ $($skip)* _ ] $($rest)*)
    };
    (@$kind:ident $biased:tt { $( [ $($skip:tt)* ] $fut:expr_2021, )+ } [ $($all:tt)* ]) => {{
        // The operands are stored as written first, so temporaries they
        // borrow (`&mut ready(1)`) live as long as this `let`; then each is
        // turned into its future.
        let __init = ( $( $fut, )+ );
        let mut __futures = ( $(
            $crate::__private::MaybeDone::new(::std::future::IntoFuture::into_future({
                let ( $($skip,)* __f, .. ) = __init;
                __f
            })),
        )+ );
        // # Invariant: the futures stay in `__futures`, a local of the
        // enclosing async body (pinned while it is awaited), and are never
        // moved: the name is shadowed by this reference.
        let __futures = &mut __futures;
        let mut __next_start: u32 = 0;
        ::std::future::poll_fn(move |__cx| {
            const __COUNT: u32 = 0 $( + $crate::__join!(@one $all) )*;
            let mut __skip = __next_start;
            if !$biased {
                __next_start = if __next_start + 1 == __COUNT { 0 } else { __next_start + 1 };
            }
            let mut __to_run = __COUNT;
            let mut __done = true;
            loop {
                $(
                    if __skip == 0 {
                        if __to_run == 0 {
                            break;
                        }
                        __to_run -= 1;
                        let ( $($skip,)* __fut, .. ) = &mut *__futures;
                        // SAFETY: `__fut` is never moved (the invariant on `__futures`).
                        let __fut = unsafe { ::std::pin::Pin::new_unchecked(__fut) };
                        $crate::__join!(@poll $kind __fut __cx __done);
                    } else {
                        __skip -= 1;
                    }
                )+
            }
            if !__done {
                return ::std::task::Poll::Pending;
            }
            $crate::__join!(@ready $kind $( {
                let ( $($skip,)* __fut, .. ) = &mut *__futures;
                // SAFETY: as above.
                unsafe { ::std::pin::Pin::new_unchecked(__fut) }.take_output()
            } )+)
        })
        .await
    }};
    (@poll join $fut:ident $cx:ident $done:ident) => {
        $done &= $fut.poll_done($cx);
    };
    (@poll try $fut:ident $cx:ident $done:ident) => {
        let mut $fut = $fut;
        if $fut.as_mut().poll_done($cx) {
            if $fut.is_err() {
                match $fut.take_output() {
                    ::std::result::Result::Err(e) => {
                        return ::std::task::Poll::Ready(::std::result::Result::Err(e));
                    }
                    ::std::result::Result::Ok(_) => ::std::unreachable!(),
                }
            }
        } else {
            $done = false;
        }
    };
    (@ready join $($out:block)+) => {
        ::std::task::Poll::Ready(( $( $out, )+ ))
    };
    (@ready try $($out:block)+) => {
        ::std::task::Poll::Ready(::std::result::Result::Ok(( $(
            match $out {
                ::std::result::Result::Ok(v) => v,
                ::std::result::Result::Err(_) => ::std::unreachable!(),
            },
        )+ )))
    };
    (@one $t:tt) => { 1 };
}
