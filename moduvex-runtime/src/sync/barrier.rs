//! A barrier: `n` tasks wait until all `n` have arrived, then all proceed.
//!
//! The one idea: arrivals are counted per *generation*. The `n`-th arrival
//! becomes the leader, starts a new generation and wakes the others; the
//! barrier is then ready for reuse. A waiting future that is dropped before
//! its generation completes withdraws its arrival, so a cancelled task
//! never lets the others through one participant short.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::loom_facade::Mutex;
use super::wait_queue::WaitQueue;
use super::wake_list::{register, WakeList};

/// A reusable barrier for a fixed number of tasks.
///
/// ```
/// use std::sync::Arc;
/// use moduvex_runtime::sync::Barrier;
///
/// moduvex_runtime::block_on(async {
///     let barrier = Arc::new(Barrier::new(3));
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             moduvex_runtime::spawn(async move { barrier.wait().await.is_leader() })
///         })
///         .collect();
///     let mut leaders = 0;
///     for t in tasks {
///         leaders += t.await.unwrap() as usize;
///     }
///     assert_eq!(leaders, 1);
/// });
/// ```
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    waiters: WaitQueue<Option<Waker>>,
}

/// What [`Barrier::wait`] returns; exactly one task per generation is the
/// leader.
///
/// ```
/// use moduvex_runtime::sync::Barrier;
///
/// moduvex_runtime::block_on(async {
///     let barrier = Barrier::new(1);
///     let result = barrier.wait().await; // a group of one: released at once
///     assert!(result.is_leader());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the last to arrive (one per generation).
    ///
    /// ```
    /// use moduvex_runtime::sync::Barrier;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let barrier = Barrier::new(2);
    ///     let (a, b) = moduvex_runtime::join!(barrier.wait(), barrier.wait());
    ///     assert!(a.is_leader() != b.is_leader(), "exactly one leader");
    /// });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier releasing tasks in groups of `n` (`n == 0` acts as 1).
    ///
    /// ```
    /// use moduvex_runtime::sync::Barrier;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let barrier = Barrier::new(0); // acts as 1
    ///     assert!(barrier.wait().await.is_leader());
    /// });
    /// ```
    pub fn new(n: usize) -> Self {
        Barrier {
            n: n.max(1),
            state: Mutex::new(State {
                arrived: 0,
                waiters: WaitQueue::new(),
            }),
        }
    }

    /// Waits until `n` tasks (this one included) are waiting.
    ///
    /// Cancel safety: dropping the future before the group completes
    /// withdraws this task's arrival.
    ///
    /// ```
    /// use moduvex_runtime::sync::Barrier;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let barrier = Barrier::new(2);
    ///     // Each generation releases two waiters; the barrier is reusable.
    ///     for _ in 0..2 {
    ///         let (a, b) = moduvex_runtime::join!(barrier.wait(), barrier.wait());
    ///         assert_eq!(a.is_leader() as u8 + b.is_leader() as u8, 1);
    ///     }
    /// });
    /// ```
    pub async fn wait(&self) -> BarrierWaitResult {
        Wait {
            barrier: self,
            key: None,
        }
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

struct Wait<'a> {
    barrier: &'a Barrier,
    key: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        crate::coop::budgeted(cx, |cx| this.poll_wait(cx))
    }
}

impl Wait<'_> {
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self;
        // Declared before the guard, so dropped after it is released: a
        // waker's `Drop` may use this barrier.
        let _displaced;
        let mut st = this.barrier.state.lock();
        if let Some(key) = this.key {
            if st.waiters.is_linked(key) {
                _displaced = register(st.waiters.get_mut(key), cx.waker());
                return Poll::Pending;
            }
            _displaced = st.waiters.remove(key);
            this.key = None;
            return Poll::Ready(BarrierWaitResult(false));
        }
        st.arrived += 1;
        if st.arrived < this.barrier.n {
            this.key = Some(st.waiters.push_back(Some(cx.waker().clone())));
            return Poll::Pending;
        }
        st.arrived = 0;
        let mut wakers = WakeList::new();
        st.waiters.drain_linked(|w| wakers.push_opt(w.take()));
        drop(st);
        wakers.wake_all();
        Poll::Ready(BarrierWaitResult(true))
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut st = self.barrier.state.lock();
            if st.waiters.is_linked(key) {
                st.arrived -= 1;
            }
            let waker = st.waiters.remove(key);
            drop(st);
            drop(waker);
        }
    }
}
