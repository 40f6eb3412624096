//! `pin!`: pin a future (or any value) to the stack — tokio's macro.
//!
//! The one idea: moving the value into a new local that is then shadowed
//! by a `Pin<&mut _>` to it makes the value unreachable by name, so it can
//! never move again; `std::pin::pin!` does the pinning, no `unsafe` here.

/// Pins values to the stack, as tokio's `pin!` does.
///
/// Three forms:
///
/// - `pin!(a, b);` — a statement: each named local is moved and shadowed
///   by a `Pin<&mut _>` to it, so `&mut a` can be polled again and again
///   (in a `select!` loop, say) although the future is not `Unpin`.
/// - `pin! { let a = expr; let b = expr; }` — binds and pins in one go.
/// - `let p = pin!(expr);` — any other expression: std's `pin!`, giving a
///   `Pin<&mut _>` to a temporary that lives as long as the `let`. (A lone
///   identifier takes the statement form, as in tokio.)
///
/// ```
/// use moduvex_runtime::{pin, select, time::sleep};
/// use std::time::Duration;
///
/// moduvex_runtime::block_on(async {
///     let done = async { 42 };
///     pin!(done);
///     let mut ticks = 0;
///     let out = loop {
///         select! {
///             biased;
///             v = &mut done, if ticks == 2 => break v,
///             _ = sleep(Duration::from_millis(1)) => ticks += 1,
///         }
///     };
///     assert_eq!((out, ticks), (42, 2));
///
///     pin! {
///         let later = async { 7 };
///     }
///     assert_eq!((&mut later).await, 7);
/// });
/// ```
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => { $(
        #[allow(unused_mut)]
        let mut $x = ::std::pin::pin!($x);
    )* };
    ($(let $x:ident = $init:expr_2021;)*) => { $(
        let $x = $init;
        $crate::pin!($x);
    )* };
    ($e:expr_2021) => {
        ::std::pin::pin!($e)
    };
}
