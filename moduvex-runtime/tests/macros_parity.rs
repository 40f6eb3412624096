//! The macros as tokio has them: `join!`/`try_join!` rotate the branch
//! polled first (or keep order with `biased;`), every macro takes
//! `IntoFuture` operands, `select!` with only `else`, disabled `if false`
//! branches, `mut`/`ref mut` bindings of non-`Copy` outputs, and `pin!`.

use std::cell::RefCell;
use std::future::{pending, ready, Future, IntoFuture, Ready};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use moduvex_runtime::{join, pin, select, try_join};

/// Pending `left` more times (waking itself each time); records `id` in
/// `log` on every poll.
struct Recorder {
    id: usize,
    left: u32,
    log: Rc<RefCell<Vec<usize>>>,
}

impl Future for Recorder {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.log.borrow_mut().push(self.id);
        if self.left == 0 {
            return Poll::Ready(self.id);
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn recorders(n: usize, pendings: u32) -> (Rc<RefCell<Vec<usize>>>, Vec<Recorder>) {
    let log = Rc::new(RefCell::new(Vec::new()));
    let futs = (0..n)
        .map(|id| Recorder {
            id,
            left: pendings,
            log: log.clone(),
        })
        .collect();
    (log, futs)
}

/// The branch polled first on each poll: every poll polls all `n`.
fn firsts(log: &[usize], n: usize) -> Vec<usize> {
    log.chunks(n).map(|poll| poll[0]).collect()
}

#[moduvex_runtime::test]
async fn join_rotates_the_branch_polled_first_on_each_poll() {
    let (log, mut f) = recorders(3, 3);
    let (c, b, a) = (f.pop().unwrap(), f.pop().unwrap(), f.pop().unwrap());
    assert_eq!(join!(a, b, c), (0, 1, 2));
    let log = log.borrow();
    assert_eq!(log.len(), 12, "four polls of three branches: {log:?}");
    assert_eq!(firsts(&log, 3), [0, 1, 2, 0], "log: {log:?}");
    // Every poll still polls every branch exactly once.
    for poll in log.chunks(3) {
        let mut ids = poll.to_vec();
        ids.sort();
        assert_eq!(ids, [0, 1, 2]);
    }
}

#[moduvex_runtime::test]
async fn join_biased_polls_in_the_order_written() {
    let (log, mut f) = recorders(3, 3);
    let (c, b, a) = (f.pop().unwrap(), f.pop().unwrap(), f.pop().unwrap());
    assert_eq!(join!(biased; a, b, c), (0, 1, 2));
    let log = log.borrow();
    assert_eq!(*log, [0, 1, 2].repeat(4));
}

#[moduvex_runtime::test]
async fn try_join_rotates_and_try_join_biased_does_not() {
    let ok = |r: Recorder| async move { Ok::<usize, ()>(r.await) };
    let (log, mut f) = recorders(2, 2);
    let (b, a) = (f.pop().unwrap(), f.pop().unwrap());
    assert_eq!(try_join!(ok(a), ok(b)), Ok((0, 1)));
    assert_eq!(firsts(&log.borrow(), 2), [0, 1, 0]);

    let (log, mut f) = recorders(2, 2);
    let (b, a) = (f.pop().unwrap(), f.pop().unwrap());
    assert_eq!(try_join!(biased; ok(a), ok(b)), Ok((0, 1)));
    assert_eq!(firsts(&log.borrow(), 2), [0, 0, 0]);
}

#[moduvex_runtime::test]
async fn try_join_biased_stops_at_the_first_error_in_order() {
    let polled = Rc::new(RefCell::new(false));
    let p = polled.clone();
    let second = async move {
        *p.borrow_mut() = true;
        Ok::<u8, &str>(2)
    };
    let res = try_join!(biased; async { Err::<u8, &str>("first") }, second);
    assert_eq!(res, Err("first"));
    assert!(
        !*polled.borrow(),
        "biased: the failing first branch ends it"
    );
}

#[moduvex_runtime::test]
async fn empty_join_and_try_join() {
    let () = join!();
    let () = join!(biased;);
    let r: Result<(), ()> = try_join!();
    assert_eq!(r, Ok(()));
}

/// Not a future itself: awaiting it means converting it first.
struct Later(u32);

impl IntoFuture for Later {
    type Output = u32;
    type IntoFuture = Ready<u32>;
    fn into_future(self) -> Ready<u32> {
        ready(self.0)
    }
}

struct LaterOk(u32);

impl IntoFuture for LaterOk {
    type Output = Result<u32, String>;
    type IntoFuture = Ready<Result<u32, String>>;
    fn into_future(self) -> Self::IntoFuture {
        ready(Ok(self.0))
    }
}

#[moduvex_runtime::test]
async fn every_macro_takes_into_future_operands() {
    assert_eq!(join!(Later(1), async { 2 }), (1, 2));
    assert_eq!(join!(biased; Later(3)), (3,));
    assert_eq!(try_join!(LaterOk(4), LaterOk(5)), Ok((4, 5)));
    let got = select! {
        v = Later(6) => v,
        v = pending::<u32>() => v,
    };
    assert_eq!(got, 6);
}

#[moduvex_runtime::test]
async fn temporaries_in_operands_live_through_the_macro() {
    // `&mut` of a temporary: kept alive by the `let` the macro stores it in.
    let v = select! {
        v = &mut ready(7u8) => v,
    };
    assert_eq!(v, 7);
    assert_eq!(join!(&mut ready(1u8), &mut ready(2u8)), (1, 2));
}

#[moduvex_runtime::test]
async fn select_with_only_else_runs_it() {
    let a: u32 = select! {
        else => 1,
    };
    let b: u32 = select! {
        biased;
        else => { 2 }
    };
    assert_eq!((a, b), (1, 2));
}

#[moduvex_runtime::test]
async fn a_disabled_branch_does_not_break_inference() {
    // The disabled branch's output type is known only from its handler.
    let got = select! {
        v = pending(), if false => v,
        v = async { 3u64 } => v,
    };
    assert_eq!(got, 3u64);
    // Its pattern is refutable over a type inferred the same way.
    let got = select! {
        Some(v) = pending(), if false => v,
        v = async { 4u64 } => v,
    };
    assert_eq!(got, 4u64);
    // Every branch disabled: `else` decides.
    let got = select! {
        Some(v) = pending(), if false => v,
        else => 5u64,
    };
    assert_eq!(got, 5);
    // A diverging handler of a disabled branch takes the other's type.
    let got = select! {
        _ = pending::<()>(), if false => unreachable!(),
        v = async { 6u64 } => v,
    };
    assert_eq!(got, 6);
}

#[moduvex_runtime::test]
async fn select_binds_non_copy_outputs_mut_and_ref_mut() {
    let v = select! {
        mut v = async { vec![1u8] } => {
            v.push(2);
            v
        }
    };
    assert_eq!(v, [1, 2]);

    let s = select! {
        Some(mut s) = async { Some(String::from("a")) } => {
            s.push('b');
            s
        }
        else => String::new(),
    };
    assert_eq!(s, "ab");

    let len = select! {
        (ref mut v, n) = async { (vec![0u8; 2], 3usize) } => {
            v.resize(n, 0);
            v.len()
        }
    };
    assert_eq!(len, 3);

    let r = select! {
        biased;
        Err(ref e) = async { Ok::<String, String>("x".into()) } => e.len(),
        Ok(ref mut s) = async { Ok::<String, String>("yz".into()) } => {
            s.push('!');
            s.len()
        }
    };
    assert_eq!(
        r, 3,
        "the first branch's pattern did not match: it was disabled"
    );
}

#[moduvex_runtime::test]
async fn pin_shadows_idents_and_pins_let_statements() {
    let a = async { 1u8 };
    let b = async { 2u8 };
    pin!(a, b);
    // Pinned `&mut` futures are `Unpin`: they can be polled again after a
    // `select!` that lost, as tokio users do in loops.
    let first = select! {
        biased;
        v = &mut a => v,
        v = &mut b => v,
    };
    assert_eq!(first, 1);
    assert_eq!(b.await, 2);

    pin! {
        let c = async { 3u8 };
        let d = async { 4u8 };
    }
    assert_eq!(join!(&mut c, &mut d), (3, 4));
    fn is_pinned<T>(_: &Pin<&mut T>) {}
    is_pinned(&c);

    // The expression form is std's.
    let e = pin!(async { 5u8 });
    assert_eq!(e.await, 5);
}

#[test]
fn futures_using_the_macros_stay_send() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let task = assert_send(async {
        let (a, b) = join!(async { 1u32 }, Later(2));
        let c = select! {
            mut v = async { vec![a] } => {
                v.push(b);
                v
            }
        };
        let d: Result<(usize,), ()> = try_join!(biased; async { Ok(c.len()) });
        d
    });
    let got = moduvex_runtime::block_on(async { moduvex_runtime::spawn(task).await });
    assert_eq!(got.unwrap(), Ok((2,)));
}
