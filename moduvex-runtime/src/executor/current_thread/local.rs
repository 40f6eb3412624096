//! Local tasks: `spawn_local` futures, which are not `Send`, polled and
//! dropped only on the thread that spawned them.
//!
//! The one idea: a local task belongs to a [`LocalSet`] of one thread,
//! and a `LocalSet` cannot leave its thread (it is `!Send`): it is the only
//! thing that runs or cancels the tasks it owns. Wakers (which are `Send`)
//! reach a local task through its scheduler handle, a [`LocalHandle`]: on
//! the owner thread, into the set's run queue; from anywhere else, into the
//! set's inbox, which only the owner drains. So another thread driving the
//! same runtime never even sees a local task. On top of that, every local
//! task records its thread and `Notified::run` refuses any other (a
//! backstop against a scheduler bug).
//!
//! The same machinery backs the user-facing [`crate::task::LocalSet`]: a
//! set made by [`LocalSet::new_polled`] is not woken through its thread's
//! reactor but through the waker of whoever polls it (`run_until`, or
//! awaiting the set), and while it is polled (or entered with
//! `LocalSet::enter`) it is this thread's *entered* set ([`enter`]):
//! `spawn_local` spawns onto it (the innermost entered set wins), and while
//! it is polled, wakes on this thread go straight to its queue.
//!
//! A `Runtime`'s sets outlive one `block_on` call: each thread keeps its
//! own in a thread-local list, so its local tasks resume when that thread
//! calls `block_on` again. When the runtime shuts down from another
//! thread, the sets are closed (new wakes are dropped) and each thread
//! cancels its own tasks the next time it enters a runtime, or when it
//! exits — never on another thread.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

use super::wake::ThreadParker;
use super::{lock, Shared};
use crate::executor::context::{self, Current};
use crate::executor::owned::OwnedTasks;
use crate::executor::task::{new_local_task, JoinHandle, Notified, Schedule, Task};

/// The scheduler handle of a local task.
pub(crate) type LocalHandle = Arc<LocalShared>;

struct Inbox {
    tasks: VecDeque<Notified<LocalHandle>>,
    closed: bool,
}

/// The part of a [`LocalSet`] that wakers on other threads reach.
pub(crate) struct LocalShared {
    /// The set's tasks. Cancelled only through the `LocalSet`, on its thread.
    owned: OwnedTasks<LocalHandle>,
    /// Tasks woken on other threads.
    inbox: Mutex<Inbox>,
    /// Set when `inbox` may be non-empty.
    inbox_pending: AtomicBool,
    /// How a wake from another thread reaches the owner.
    notify: Notify,
}

/// Who drains a set's inbox, and so whom a remote wake must rouse.
enum Notify {
    /// A runtime's per-thread set: its thread's scheduler loop, parked in
    /// the reactor.
    Thread(Arc<ThreadParker>),
    /// A user's set: whoever polls it last registered this waker.
    ///
    /// # Invariant
    /// A poller registers its waker here *before* it drains the inbox, and
    /// a remote wake publishes its task (and `inbox_pending`) *before* it
    /// takes the waker out (both under this lock): so either the drain
    /// sees the task or the wake finds the new waker.
    Poller(Mutex<Option<Waker>>),
}

impl LocalShared {
    fn push_inbox(&self, task: Notified<LocalHandle>) {
        let mut inbox = lock(&self.inbox);
        if inbox.closed {
            drop(inbox);
            // The set was shut down; dropping this reference never frees
            // the task here: the set cancelled (and so dropped) the future
            // on its own thread already.
            drop(task);
            return;
        }
        inbox.tasks.push_back(task);
        drop(inbox);
        self.inbox_pending.store(true, Ordering::SeqCst);
        match &self.notify {
            Notify::Thread(thread) => thread.unpark_if_parked(),
            Notify::Poller(_) => self.wake_poller(),
        }
    }

    /// Wakes whoever polls a user's set (no-op for a runtime's set).
    fn wake_poller(&self) {
        if let Notify::Poller(slot) = &self.notify {
            // Taken out, so it is woken (and dropped) with the lock
            // released; the next poll registers a waker again.
            let waker = lock(slot).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// Registers the waker of the poller of a user's set (see
    /// [`Notify::Poller`]); call before draining the inbox.
    pub(crate) fn register(&self, waker: &Waker) {
        let Notify::Poller(slot) = &self.notify else {
            return;
        };
        let mut slot = lock(slot);
        let replaced = match &*slot {
            Some(w) if w.will_wake(waker) => None,
            _ => slot.replace(waker.clone()),
        };
        drop(slot);
        // Dropped with the lock released: its drop may run any code.
        drop(replaced);
    }

    /// Forgets the poller's waker (the set is gone).
    pub(crate) fn clear_waker(&self) {
        if let Notify::Poller(slot) = &self.notify {
            let old = lock(slot).take();
            drop(old);
        }
    }

    /// Whether the set owns no task any more.
    pub(crate) fn owns_none(&self) -> bool {
        self.owned.len() == 0
    }

    /// Refuses new wakes (the runtime shut down).
    pub(crate) fn close(&self) {
        let queued = {
            let mut inbox = lock(&self.inbox);
            inbox.closed = true;
            std::mem::take(&mut inbox.tasks)
        };
        drop(queued);
    }
}

impl Schedule for LocalHandle {
    fn schedule(&self, task: Notified<LocalHandle>) {
        if let Some(set) = set_on_this_thread(self) {
            // `try_borrow_mut`: a task dropped while the set drains its
            // queue may wake a sibling; the inbox takes that one.
            if let Ok(mut queue) = set.queue.try_borrow_mut() {
                queue.push_back(task);
                return;
            }
        }
        self.push_inbox(task);
    }

    fn release(&self, task: &Task<LocalHandle>) -> Option<Task<LocalHandle>> {
        self.owned.remove(task)
    }
}

/// The set of `handle` if it is this thread's entered set, or belongs to
/// the `block_on` running on this thread.
fn set_on_this_thread(handle: &LocalHandle) -> Option<Rc<LocalSet>> {
    if let Some((set, true)) = entered_set() {
        if Arc::ptr_eq(set.handle(), handle) {
            return Some(set);
        }
    }
    let Current::CurrentThread(core) = context::current() else {
        return None;
    };
    // SAFETY: the context points to the live Core of the `block_on` running on this thread.
    let core = unsafe { &*core };
    core.local_set_if(handle)
}

/// One thread's local tasks of one runtime (see the module docs).
pub(crate) struct LocalSet {
    shared: LocalHandle,
    queue: RefCell<VecDeque<Notified<LocalHandle>>>,
    /// A set never leaves its thread.
    _not_send: PhantomData<*const ()>,
}

impl LocalSet {
    /// A runtime's set for the calling thread, woken through its reactor.
    pub(crate) fn new() -> Rc<LocalSet> {
        Self::with_notify(Notify::Thread(ThreadParker::for_this_thread()))
    }

    /// A user's set, woken through the waker of whoever polls it.
    pub(crate) fn new_polled() -> Rc<LocalSet> {
        Self::with_notify(Notify::Poller(Mutex::new(None)))
    }

    fn with_notify(notify: Notify) -> Rc<LocalSet> {
        Rc::new(LocalSet {
            shared: Arc::new(LocalShared {
                owned: OwnedTasks::new(),
                inbox: Mutex::new(Inbox {
                    tasks: VecDeque::new(),
                    closed: false,
                }),
                inbox_pending: AtomicBool::new(false),
                notify,
            }),
            queue: RefCell::new(VecDeque::new()),
            _not_send: PhantomData,
        })
    }

    pub(crate) fn handle(&self) -> &LocalHandle {
        &self.shared
    }

    /// Spawns a task that only this thread polls.
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (task, notified, join) = new_local_task(future, self.shared.clone());
        if let Some(notified) = self.shared.owned.bind(task, notified) {
            self.queue.borrow_mut().push_back(notified);
            if !self.is_polled_here() {
                // Spawned from outside the set's polls: its poller must
                // come back to run the task (tokio does the same).
                self.shared.wake_poller();
            }
        }
        join
    }

    /// The next runnable local task: the queue first, then the inbox.
    pub(crate) fn pop(&self) -> Option<Notified<LocalHandle>> {
        if let Some(task) = self.queue.borrow_mut().pop_front() {
            return Some(task);
        }
        if !self.shared.inbox_pending.load(Ordering::Acquire) {
            return None;
        }
        self.shared.inbox_pending.store(false, Ordering::SeqCst);
        let mut inbox = lock(&self.shared.inbox);
        let mut queue = self.queue.borrow_mut();
        queue.extend(inbox.tasks.drain(..));
        queue.pop_front()
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.queue.borrow().is_empty() || self.shared.inbox_pending.load(Ordering::SeqCst)
    }

    fn is_closed(&self) -> bool {
        lock(&self.shared.inbox).closed
    }

    /// Cancels every task of the set, here on its own thread.
    pub(crate) fn shutdown(&self) {
        self.shared.close();
        self.shared.owned.close_and_shutdown_all();
        // Tasks woken while their siblings were dropped.
        loop {
            let task = self.queue.borrow_mut().pop_front();
            match task {
                Some(task) => drop(task),
                None => break,
            }
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The user set entered on this thread.
struct Entered {
    set: Rc<LocalSet>,
    /// Entered by a poll of the set, which runs what lands in its queue
    /// before it returns; not by `LocalSet::enter`, after which the set's
    /// poller must be woken for new work.
    polled: bool,
}

thread_local! {
    /// The innermost user set entered on this thread: `spawn_local` here
    /// spawns onto it, and while it is polled, wakes here go straight to
    /// its queue.
    static ENTERED: RefCell<Option<Entered>> = const { RefCell::new(None) };
}

impl LocalSet {
    /// Whether this set is being polled on this thread (innermost).
    fn is_polled_here(&self) -> bool {
        ENTERED
            .try_with(|e| {
                e.try_borrow().is_ok_and(|e| {
                    e.as_ref()
                        .is_some_and(|e| e.polled && std::ptr::eq(&*e.set, self))
                })
            })
            .unwrap_or(false)
    }
}

/// This thread's entered set, if any, and whether it is being polled.
fn entered_set() -> Option<(Rc<LocalSet>, bool)> {
    ENTERED
        .try_with(|e| {
            e.try_borrow()
                .ok()
                .and_then(|e| e.as_ref().map(|e| (e.set.clone(), e.polled)))
        })
        .ok()
        .flatten()
}

/// This thread's entered set, if any: where `spawn_local` spawns.
pub(crate) fn entered() -> Option<Rc<LocalSet>> {
    entered_set().map(|(set, _)| set)
}

/// Makes `set` this thread's entered set until the guard drops (also on
/// unwind), restoring the one it replaced. `polled`: the caller is a poll
/// of the set, which runs its queue before returning.
pub(crate) fn enter(set: &Rc<LocalSet>, polled: bool) -> EnterGuard {
    let entered = Entered {
        set: set.clone(),
        polled,
    };
    // During thread teardown (a set kept in a thread-local) there is no
    // cell left to enter: the guard then restores nothing.
    let prev = ENTERED.try_with(|e| e.replace(Some(entered))).ok();
    EnterGuard {
        prev,
        _not_send: PhantomData,
    }
}

/// Restores the previously entered set.
pub(crate) struct EnterGuard {
    /// `Some(previous)` if this guard entered a set.
    prev: Option<Option<Entered>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let Some(prev) = self.prev.take() else {
            return;
        };
        let left = ENTERED.try_with(|e| e.replace(prev)).ok().flatten();
        // The set we leave is released with the cell no longer borrowed.
        drop(left);
    }
}

thread_local! {
    /// This thread's local sets of `Runtime`s, kept between `block_on` calls.
    static SETS: RefCell<Vec<(Weak<Shared>, Rc<LocalSet>)>> = const { RefCell::new(Vec::new()) };
}

/// This thread's set for `shared`, if it has one. Sets of runtimes that
/// shut down meanwhile are cancelled first, here on their thread.
pub(crate) fn take_thread_set(shared: &Arc<Shared>) -> Option<Rc<LocalSet>> {
    let (found, closed) = SETS
        .try_with(|sets| {
            let mut sets = sets.borrow_mut();
            let mut closed = Vec::new();
            let mut found = None;
            let mut i = 0;
            while i < sets.len() {
                if sets[i].1.is_closed() {
                    closed.push(sets.swap_remove(i).1);
                } else if std::ptr::eq(sets[i].0.as_ptr(), Arc::as_ptr(shared)) {
                    found = Some(sets.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
            (found, closed)
        })
        .unwrap_or_default();
    // Dropped (and so cancelled) with the list no longer borrowed.
    drop(closed);
    found
}

/// Cancels, here, this thread's sets of runtimes that shut down.
pub(crate) fn sweep_closed() {
    let closed = SETS
        .try_with(|sets| {
            let mut sets = sets.borrow_mut();
            if sets.is_empty() {
                return Vec::new();
            }
            let (closed, open) = std::mem::take(&mut *sets)
                .into_iter()
                .partition(|(_, set)| set.is_closed());
            *sets = open;
            closed
        })
        .unwrap_or_default();
    drop(closed);
}

/// Keeps `set` on this thread for the next `block_on` of `shared`.
pub(crate) fn keep_thread_set(shared: &Arc<Shared>, set: Rc<LocalSet>) {
    let kept = SETS.try_with(|sets| {
        sets.borrow_mut()
            .push((Arc::downgrade(shared), set.clone()));
    });
    if kept.is_err() {
        // The thread is exiting: cancel the tasks now, on their thread.
        set.shutdown();
    }
}

/// Cancels this thread's set of `shared` now (the runtime shuts down on
/// this thread).
pub(crate) fn shutdown_thread_set(shared: &Arc<Shared>) {
    drop(take_thread_set(shared));
}

/// A registry entry: lets the runtime close a thread's set from anywhere.
pub(crate) fn registry_entry(set: &LocalSet) -> Weak<LocalShared> {
    Arc::downgrade(set.handle())
}

#[cfg(test)]
mod tests;
