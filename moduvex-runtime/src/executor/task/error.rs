//! `JoinError`: why a task produced no output.

use std::any::Any;
use std::fmt;

use super::Id;

enum Repr {
    Cancelled(Id),
    /// Boxed with its id, so a `JoinError` (and every task's
    /// `Result<T, JoinError>` slot) stays two words: the panic path pays
    /// one allocation, the cancelled and successful ones nothing.
    Panic(Box<Panicked>),
}

struct Panicked {
    id: Id,
    payload: SyncPanic,
}

/// A panic payload that can be shared between threads.
///
/// Through a shared reference the payload is only asked its type and, if it
/// is a `&'static str` or a `String` (both `Sync`), read as text.
struct SyncPanic(Box<dyn Any + Send + 'static>);

// SAFETY: shared access only calls `Any::type_id` (which reads no data)
// and reads the payload after downcasting it to `&str` or `String`, both
// `Sync`; any other payload is only reached by value (`into_panic`).
unsafe impl Sync for SyncPanic {}

/// The task failed to complete: it was cancelled, or it panicked.
///
/// ```
/// use moduvex_runtime::spawn;
///
/// moduvex_runtime::block_on(async {
///     let err = spawn(async { panic!("oops") }).await.unwrap_err();
///     assert!(err.is_panic() && !err.is_cancelled());
///     assert!(err.to_string().contains("oops"));
/// });
/// ```
pub struct JoinError {
    repr: Repr,
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            repr: Repr::Cancelled(id),
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send + 'static>, id: Id) -> JoinError {
        JoinError {
            repr: Repr::Panic(Box::new(Panicked {
                id,
                payload: SyncPanic(payload),
            })),
        }
    }

    /// The id of the task that failed (the same as its
    /// [`JoinHandle::id`](crate::JoinHandle::id)).
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     let id = t.id();
    ///     t.abort();
    ///     assert_eq!(t.await.unwrap_err().id(), id);
    /// });
    /// ```
    pub fn id(&self) -> Id {
        match &self.repr {
            Repr::Cancelled(id) => *id,
            Repr::Panic(p) => p.id,
        }
    }

    /// The task was aborted or its runtime shut down before it finished.
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     t.abort();
    ///     assert!(t.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled(_))
    }

    /// The task panicked.
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let err = spawn(async { panic!("bad") }).await.unwrap_err();
    ///     assert!(err.is_panic());
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// Panics if the task was cancelled rather than panicking; use
    /// [`try_into_panic`](JoinError::try_into_panic) to check.
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let err = spawn(async { std::panic::panic_any(42u32) }).await.unwrap_err();
    ///     let payload = err.into_panic();
    ///     assert_eq!(payload.downcast_ref::<u32>(), Some(&42));
    ///     // or: std::panic::resume_unwind(payload) to re-raise it here
    /// });
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect(
            "`JoinError::into_panic` called on a cancelled task's error (check `is_panic` first)",
        )
    }

    /// The panic payload, or the error itself if the task was cancelled.
    ///
    /// ```
    /// use moduvex_runtime::spawn;
    ///
    /// moduvex_runtime::block_on(async {
    ///     let t = spawn(std::future::pending::<()>());
    ///     t.abort();
    ///     let err = t.await.unwrap_err();
    ///     let err = err.try_into_panic().unwrap_err(); // not a panic: the error comes back
    ///     assert!(err.is_cancelled());
    /// });
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.payload.0),
            Repr::Cancelled(_) => Err(self),
        }
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panic(p) => (p.payload.0)
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.payload.0.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled(_) => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled(_), _) => write!(f, "task {} was cancelled", self.id()),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "task {} panicked with message {msg:?}", self.id())
            }
            (Repr::Panic(_), None) => write!(f, "task {} panicked", self.id()),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.repr, self.panic_message()) {
            (Repr::Cancelled(_), _) => write!(f, "JoinError::Cancelled({:?})", self.id()),
            (Repr::Panic(_), Some(msg)) => {
                write!(f, "JoinError::Panic({:?}, {msg:?}, ..)", self.id())
            }
            (Repr::Panic(_), None) => write!(f, "JoinError::Panic({:?}, ..)", self.id()),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}
