//! `select!`: wait on several futures, run the handler of the first that
//! completes (and matches its pattern), drop the others — tokio's macro.
//!
//! The one idea: the branch futures live in one tuple in a block of the
//! caller's async body, polled by a `poll_fn` that, on each poll, polls
//! the enabled branches from a random starting point and returns the
//! first output that matches its branch's pattern, in a tuple of
//! `Option`s with `Some` in that branch's place. The block ends, dropping
//! the futures, and the handlers run *after* it, in a plain `match` on
//! that tuple, so `return`, `break`, `continue`, `?` and `.await` in a
//! handler act on the caller's code, and may use what the futures
//! borrowed.
//!
//! Whether an output matches is tried on a reference to it, with the
//! pattern's `mut`/`ref` removed by a proc macro (`moduvex-macros`), so
//! the try moves nothing; the pattern as written binds the handler's
//! names afterwards.
//!
//! `macro_rules!` cannot count, so the parser hands each branch a literal
//! index from a fixed list (at most 64 branches) and the list of `_`s that
//! skips the branches before it in a tuple pattern.

use std::cell::Cell;

/// Where the next `select!` starts polling, for fairness between
/// branches that are ready together (a per-thread xorshift).
#[doc(hidden)]
pub fn select_start(branches: usize) -> usize {
    thread_local! {
        static STATE: Cell<u32> = const { Cell::new(0x9E37_79B9) };
    }
    let x = STATE
        .try_with(|s| {
            let mut x = s.get();
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            s.set(x);
            x
        })
        .unwrap_or(0);
    x as usize % branches.max(1)
}

/// Waits on several branches at once and runs the handler of the first
/// one to complete, dropping the rest — tokio's `select!`.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <async expression> [, if <precondition>] => <handler>,
///     ...
///     [else => <handler>]
/// }
/// ```
///
/// 1. Every precondition is evaluated; a branch whose precondition is
///    false is disabled. Then every async expression is evaluated, in
///    order (disabled ones too, but their futures are never polled).
/// 2. The enabled futures are polled, starting from a random branch each
///    time (from the first, in order, with `biased;`). When one completes,
///    its output is matched against its pattern: on a match the other
///    futures are dropped and that branch's handler runs with the
///    pattern's bindings; otherwise the branch is disabled and the rest
///    keep going.
/// 3. If every branch is disabled, the `else` handler runs; without an
///    `else`, `select!` panics (`all branches are disabled and there is
///    no else branch`).
///
/// Handlers run in the caller's context: `return`, `break`, `?` and
/// `.await` inside them behave as written there. All handlers (and
/// `else`) must have the same type, which is the value of `select!`. The
/// futures run on the current task (nothing is spawned), so they may
/// borrow locals. A `select!` whose future is dropped cancels every
/// branch: use cancel-safe futures (`recv`, `sleep`, `accept`, ...) in
/// loops.
///
/// Operands may be anything [`IntoFuture`](std::future::IntoFuture).
/// Bindings may be `mut` or `ref mut` whatever the output's type
/// (`mut v = rx.recv() => v.push(1)`; with the `macros` feature, on by
/// default: without it a `mut` binding compiles only for `Copy` values). A `select!` with only an `else`
/// branch runs it. At most 64 branches.
///
/// ```
/// use moduvex_runtime::sync::mpsc;
/// use moduvex_runtime::{select, time::sleep};
/// use std::time::Duration;
///
/// moduvex_runtime::block_on(async {
///     let (tx, mut rx) = mpsc::channel::<u32>(4);
///     tx.send(7).await.unwrap();
///     let got = select! {
///         Some(v) = rx.recv() => v,
///         _ = sleep(Duration::from_secs(10)) => 0,
///     };
///     assert_eq!(got, 7);
/// });
/// ```
#[macro_export]
macro_rules! select {
    () => {
        ::std::compile_error!("select!: needs at least one `pattern = future => handler` branch or an `else` branch")
    };
    // (A `match` arm, not a block, so a block handler draws no
    // `unused_braces` warning.)
    ($(biased;)? else => $else:expr_2021 $(,)?) => {
        match () {
            () => $else,
        }
    };
    (biased; $($branches:tt)+) => {
        $crate::__select!(@parse true [] [] []
            [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
             32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
             60 61 62 63]
            $($branches)+)
    };
    ($($branches:tt)+) => {
        $crate::__select!(@parse false [] [] []
            [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
             32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59
             60 61 62 63]
            $($branches)+)
    };
}

/// The parser and expansion of `select!` (see the module docs).
///
/// Parser state: `@parse biased [branches] [indices used] [skip] [indices
/// left] tokens...`; each parsed branch is `{ index [skip] (pattern)
/// (future) (precondition) (handler) }`.
#[doc(hidden)]
#[macro_export]
macro_rules! __select {
    // `else` first: a `pat` fragment must never be asked to parse it.
    (@parse $b:tt $br:tt $used:tt $s:tt $left:tt else => $h:block $(,)?) => {
        $crate::__select!(@emit $b $br $used $h)
    };
    (@parse $b:tt $br:tt $used:tt $s:tt $left:tt else => $h:expr_2021 $(,)?) => {
        $crate::__select!(@emit $b $br $used $h)
    };
    (@parse $b:tt $br:tt $used:tt $s:tt $left:tt) => {
        $crate::__select!(@emit $b $br $used {
            ::std::panic!("select!: all branches are disabled and there is no else branch")
        })
    };
    (@parse $b:tt $br:tt $used:tt $s:tt []  $($rest:tt)+) => {
        ::std::compile_error!("select!: at most 64 branches")
    };
    // A branch: with or without a precondition; a block handler (comma
    // optional: the rules with the comma come first, or the comma would be
    // ambiguous) or an expression handler (comma unless last).
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021, if $c:expr_2021 => $h:block, $($rest:tt)*) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) ($c) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021 => $h:block, $($rest:tt)*) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) (true) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021, if $c:expr_2021 => $h:block $($rest:tt)*) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) ($c) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021 => $h:block $($rest:tt)*) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) (true) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($rest)*)
    };
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021, if $c:expr_2021 => $h:expr_2021 $(, $($rest:tt)*)?) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) ($c) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($($rest)*)?)
    };
    (@parse $b:tt [$($br:tt)*] [$($used:tt)*] [$($s:tt)*] [$i:tt $($left:tt)*]
        $p:pat = $f:expr_2021 => $h:expr_2021 $(, $($rest:tt)*)?) => {
        $crate::__select!(@parse $b [$($br)* { $i [$($s)*] ($p) ($f) (true) ($h) }]
            [$($used)* $i] [$($s)* _] [$($left)*] $($($rest)*)?)
    };

    (@emit $b:tt [] $used:tt $else:tt) => {
        match () {
            () => $else,
        }
    };
    (@emit $biased:tt
        [ $( { $i:tt [$($s:tt)*] ($p:tt) ($f:tt) ($c:tt) ($h:tt) } )+ ]
        $used:tt $else:tt) => {{
        // The futures (and what they borrow) are dropped at the end of this
        // block, before a handler runs.
        let __out = {
            let __n: usize = $crate::__select!(@count $used);
            let mut __disabled = ( $( !$c, )+ );
            // The operands are stored as written first, so temporaries they
            // borrow (`&mut ready(1)`) live as long as this `let`; then each is
            // turned into its future.
            let __init = ( $( $f, )+ );
            let mut __futures = ( $(
                ::std::future::IntoFuture::into_future({
                    let ( $($s,)* __f, .. ) = __init;
                    __f
                }),
            )+ );
            // # Invariant: the futures stay in `__futures`, a local of the
            // enclosing async body (pinned while it is awaited), and are never
            // moved: the name is shadowed by this reference.
            let __futures = &mut __futures;
            ::std::future::poll_fn(move |__cx| {
                let __start = if $biased { 0 } else { $crate::__private::select_start(__n) };
                let mut __pending = false;
                for __k in 0..__n {
                    match (__start + __k) % __n {
                        $( $i => {
                            let ( $($s,)* __dis, .. ) = &mut __disabled;
                            if *__dis {
                                continue;
                            }
                            let ( $($s,)* __fut, .. ) = &mut *__futures;
                            // SAFETY: `__fut` is never moved (the invariant on `__futures`).
                            let __fut = unsafe { ::std::pin::Pin::new_unchecked(__fut) };
                            match ::std::future::Future::poll(__fut, __cx) {
                                ::std::task::Poll::Ready(__v) => {
                                    // The pattern is tried on a reference with its
                                    // `mut`/`ref`/`ref mut` removed, so the check
                                    // moves nothing out of the output.
                                    #[allow(unreachable_patterns, unused_variables, unused_mut)]
                                    let __matches = match &__v {
                                        $crate::__private::select_check_pattern!($p) => true,
                                        _ => false,
                                    };
                                    if !__matches {
                                        *__dis = true;
                                        continue;
                                    }
                                    let mut __ret = $crate::__select!(@nones $used);
                                    let ( $($s,)* __slot, .. ) = &mut __ret;
                                    *__slot = ::std::option::Option::Some(__v);
                                    return ::std::task::Poll::Ready(::std::option::Option::Some(__ret));
                                }
                                ::std::task::Poll::Pending => __pending = true,
                            }
                        } )+
                        _ => ::std::unreachable!(),
                    }
                }
                if __pending {
                    ::std::task::Poll::Pending
                } else {
                    ::std::task::Poll::Ready(::std::option::Option::None)
                }
            })
            .await
        };
        match __out {
            // `mut` so a `ref mut` binding in a pattern may borrow the output.
            #[allow(unused_mut)]
            ::std::option::Option::Some(mut __ret) => match __ret {
                $( ( $($s,)* ::std::option::Option::Some($p), .. ) => $h, )+
                _ => ::std::unreachable!("select!: a completed branch's output matched its pattern"),
            },
            ::std::option::Option::None => $else,
        }
    }};

    (@count [$($i:tt)*]) => { 0 $( + $crate::__select!(@one $i) )* };
    (@one $i:tt) => { 1 };
    (@nones [$($i:tt)*]) => { ( $( $crate::__select!(@none $i), )* ) };
    (@none $i:tt) => { ::std::option::Option::None };
}

/// Without the `macros` feature there is no pattern cleaner: the check
/// uses the pattern as written (a `mut` binding then needs a `Copy` value).
#[cfg(not(feature = "macros"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __select_pattern_as_written {
    ($p:pat) => {
        $p
    };
}
