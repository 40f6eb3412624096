//! Task-local values: [`task_local!`](crate::task_local), [`LocalKey`],
//! [`TaskLocalFuture`].
//!
//! The one idea: a task-local is a thread-local that a future *carries*.
//! Each key is backed by its own `thread_local!` cell holding
//! `Option<T>`. [`TaskLocalFuture`] owns the value between polls; around
//! each poll of its inner future it swaps the value into the cell and, when
//! the poll returns or unwinds, swaps it back out (a guard's `Drop` does
//! it). So the value is visible across awaits and in nested scopes, the
//! previous value comes back when a scope ends, and tasks spawned from
//! inside see nothing: they are polled outside the scope's polls.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Declares task-local keys: `static NAME: Type;` items of type
/// [`LocalKey<Type>`](LocalKey).
///
/// ```
/// moduvex_runtime::task_local! {
///     /// The request being served.
///     static REQUEST_ID: u64;
///     pub static USER: String;
/// }
///
/// moduvex_runtime::block_on(REQUEST_ID.scope(7, async {
///     moduvex_runtime::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 7);
/// }));
/// assert!(REQUEST_ID.try_with(|_| ()).is_err());
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_key!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_key {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __MODUVEX_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&__MODUVEX_TASK_LOCAL, ::std::stringify!($name))
        };
    };
}

/// A key to a task-local value, declared with
/// [`task_local!`](crate::task_local).
///
/// A value is set for the duration of a [`scope`](LocalKey::scope) (a
/// future) or a [`sync_scope`](LocalKey::sync_scope) (a closure) and read
/// with [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or
/// [`get`](LocalKey::get).
///
/// ```
/// moduvex_runtime::task_local! {
///     static USER: String;
/// }
///
/// moduvex_runtime::block_on(USER.scope("ada".into(), async {
///     moduvex_runtime::task::yield_now().await;
///     assert_eq!(USER.get(), "ada");
/// }));
/// ```
pub struct LocalKey<T: 'static> {
    cell: &'static std::thread::LocalKey<RefCell<Option<T>>>,
    name: &'static str,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not public API.
    #[doc(hidden)]
    pub const fn __new(
        cell: &'static std::thread::LocalKey<RefCell<Option<T>>>,
        name: &'static str,
    ) -> LocalKey<T> {
        LocalKey { cell, name }
    }

    /// Runs `future` with the task-local set to `value`: every poll of
    /// `future` (and its drop) sees it, whichever thread polls it.
    ///
    /// ```
    /// moduvex_runtime::task_local! { static DEPTH: u32; }
    /// moduvex_runtime::block_on(DEPTH.scope(1, async {
    ///     DEPTH.scope(2, async { assert_eq!(DEPTH.get(), 2) }).await;
    ///     assert_eq!(DEPTH.get(), 1);
    /// }));
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            slot: Some(value),
            future: Some(future),
        }
    }

    /// Runs `f` with the task-local set to `value`, and returns its result.
    ///
    /// # Panics
    /// Panics if called from inside [`with`](LocalKey::with) on the same
    /// key (the value is borrowed there), or while the thread is exiting.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// let len = USER.sync_scope("bob".into(), || USER.with(|u| u.len()));
    /// assert_eq!(len, 3);
    /// ```
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.enter(&mut slot, f) {
            Ok(out) => out,
            Err(e) => e.panic(self.name),
        }
    }

    /// Calls `f` with a reference to the current value.
    ///
    /// # Panics
    /// Panics, naming the key, if no scope of this key is active on the
    /// current task (for example inside a spawned task): use
    /// [`try_with`](LocalKey::try_with) to check instead.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// USER.sync_scope("carol".into(), || {
    ///     USER.with(|u| assert_eq!(u, "carol"));
    /// });
    /// ```
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(out) => out,
            Err(_) => panic!(
                "task-local `{}` is not set: `with` was called outside a `{}.scope(..)` \
                 (tasks spawned inside a scope do not inherit it); use `try_with` to check",
                self.name, self.name
            ),
        }
    }

    /// Calls `f` with a reference to the current value, or returns an
    /// [`AccessError`] if no scope of this key is active.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// assert!(USER.try_with(|u| u.len()).is_err(), "outside any scope");
    /// assert_eq!(USER.sync_scope("d".into(), || USER.try_with(|u| u.len())), Ok(1));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        let err = AccessError { name: self.name };
        self.cell
            .try_with(|cell| {
                // A mutable borrow exists only inside `enter`'s swap, which
                // calls no user code, so this borrow cannot fail.
                let value = cell.borrow();
                value.as_ref().map(f).ok_or(err)
            })
            .unwrap_or(Err(err))
    }

    /// A clone of the current value.
    ///
    /// # Panics
    /// As [`with`](LocalKey::with): panics if no scope is active.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// assert_eq!(USER.sync_scope("eve".into(), || USER.get()), "eve");
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// A clone of the current value, or an [`AccessError`] if no scope of
    /// this key is active (tokio's `try_get`).
    ///
    /// ```
    /// moduvex_runtime::task_local! { static ID: u32; }
    /// assert!(ID.try_get().is_err());
    /// assert_eq!(ID.sync_scope(3, || ID.try_get()), Ok(3));
    /// ```
    ///
    /// # Errors
    ///
    /// [`AccessError`] outside every scope of the key.
    pub fn try_get(&'static self) -> Result<T, AccessError>
    where
        T: Clone,
    {
        self.try_with(T::clone)
    }

    /// The key's name, as declared.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// assert!(USER.name().contains("USER"));
    /// ```
    pub fn name(&'static self) -> &'static str {
        self.name
    }

    /// Swaps `slot` into the cell, runs `f`, and swaps back, even if `f`
    /// unwinds. Afterwards `slot` holds the scope's value again.
    fn enter<F, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, EnterError>
    where
        F: FnOnce() -> R,
    {
        struct Restore<'a, T: 'static> {
            cell: &'static std::thread::LocalKey<RefCell<Option<T>>>,
            slot: &'a mut Option<T>,
        }
        impl<T: 'static> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                // The cell was alive and unborrowed when we swapped in, and
                // user code cannot hold a borrow past its own call: both
                // accesses succeed; ignoring a failure is the safe fallback.
                let _ = self.cell.try_with(|cell| {
                    if let Ok(mut current) = cell.try_borrow_mut() {
                        std::mem::swap(self.slot, &mut *current);
                    }
                });
            }
        }

        self.cell
            .try_with(|cell| {
                let mut current = cell.try_borrow_mut().map_err(|_| EnterError::Borrowed)?;
                std::mem::swap(slot, &mut *current);
                Ok(())
            })
            .map_err(|_| EnterError::Destroyed)??;
        let _restore = Restore {
            cell: self.cell,
            slot,
        };
        Ok(f())
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a scope could not be entered.
#[derive(Debug)]
enum EnterError {
    /// The value is borrowed by a `with` call up the stack.
    Borrowed,
    /// The thread is exiting and its thread-locals are gone.
    Destroyed,
}

impl EnterError {
    #[track_caller]
    fn panic(self, name: &str) -> ! {
        match self {
            EnterError::Borrowed => panic!(
                "cannot enter a scope of task-local `{name}` from inside `{name}.with(..)`: \
                 the value is borrowed there"
            ),
            EnterError::Destroyed => panic!(
                "cannot enter a scope of task-local `{name}`: the thread is exiting and its \
                 thread-locals are destroyed"
            ),
        }
    }
}

/// A future that runs its inner future with a task-local set; made by
/// [`LocalKey::scope`].
///
/// Dropping it drops the inner future inside the scope too, so the inner
/// future's destructors see the value.
///
/// ```
/// moduvex_runtime::task_local! {
///     static USER: String;
/// }
///
/// // `scope` returns this future; it sets the value around each poll.
/// let fut = USER.scope("fay".into(), async { USER.get() });
/// assert_eq!(moduvex_runtime::block_on(fut), "fay");
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    /// The value, while the inner future is not being polled. Not pinned.
    slot: Option<T>,
    /// The inner future, until it completes. Structurally pinned: never
    /// moved while pinned, only dropped in place (set to `None`).
    future: Option<F>,
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Splits a pinned reference into the key, the value slot and the
    /// pinned inner future.
    fn project(
        self: Pin<&mut Self>,
    ) -> (&'static LocalKey<T>, &mut Option<T>, Pin<&mut Option<F>>) {
        // SAFETY: `future` is structurally pinned (never moved out while pinned: it is only polled in place or dropped in place), and `slot` and `key` are not pinned, so handing out `&mut` to them moves nothing that was promised to stay put.
        unsafe {
            let this = self.get_unchecked_mut();
            (
                this.key,
                &mut this.slot,
                Pin::new_unchecked(&mut this.future),
            )
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of this scope: `Some` the first time, `None` once
    /// taken. Allowed before the inner future completes, but then later
    /// polls (and the drop) of the inner future run with the key unset.
    ///
    /// ```
    /// use std::pin::pin;
    /// moduvex_runtime::task_local! { static NAME: String; }
    /// moduvex_runtime::block_on(async {
    ///     let mut fut = pin!(NAME.scope(String::from("a"), async { NAME.get() }));
    ///     assert_eq!(fut.as_mut().await, "a");
    ///     assert_eq!(fut.as_mut().take_value().as_deref(), Some("a"));
    ///     assert_eq!(fut.as_mut().take_value(), None);
    /// });
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        let (_, slot, _) = self.project();
        slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let (key, slot, mut future) = self.project();
        let polled = key.enter(slot, || {
            let poll = match future.as_mut().as_pin_mut() {
                Some(fut) => fut.poll(cx),
                None => panic!("`TaskLocalFuture` polled after completion"),
            };
            if poll.is_ready() {
                // Drop the finished future now, still inside the scope.
                future.set(None);
            }
            poll
        });
        match polled {
            Ok(poll) => poll,
            Err(e) => e.panic(key.name),
        }
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        // SAFETY: this is the value's last use and it may be pinned: we only drop the inner future in place through the pin, never move it.
        let pinned = unsafe { Pin::new_unchecked(self) };
        let (key, slot, mut future) = pinned.project();
        if future.is_none() {
            return;
        }
        // Drop the inner future inside the scope so its destructors see the
        // value. If the scope cannot be entered (thread exiting, or dropped
        // inside `with`), drop it outside rather than leak it.
        if key.enter(slot, || future.set(None)).is_err() {
            future.set(None);
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("key", &self.key.name)
            .field("value", &self.slot)
            .finish_non_exhaustive()
    }
}

/// The task-local was read outside any of its scopes.
///
/// ```
/// moduvex_runtime::task_local! {
///     static USER: String;
/// }
///
/// let err = USER.try_get().unwrap_err();
/// assert_eq!(err.key_name(), USER.name());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    name: &'static str,
}

impl AccessError {
    /// The name of the key that was not set.
    ///
    /// ```
    /// moduvex_runtime::task_local! {
    ///     static USER: String;
    /// }
    ///
    /// assert!(USER.try_with(|_| ()).unwrap_err().key_name().contains("USER"));
    /// ```
    pub fn key_name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError")
            .field("key", &self.name)
            .finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task-local `{}` is not set in this task", self.name)
    }
}

impl Error for AccessError {}
