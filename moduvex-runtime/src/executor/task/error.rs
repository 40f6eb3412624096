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
    pub fn id(&self) -> Id {
        match &self.repr {
            Repr::Cancelled(id) => *id,
            Repr::Panic(p) => p.id,
        }
    }

    /// The task was aborted or its runtime shut down before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled(_))
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The panic payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// Panics if the task was cancelled rather than panicking; use
    /// [`try_into_panic`](JoinError::try_into_panic) to check.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic().expect(
            "`JoinError::into_panic` called on a cancelled task's error (check `is_panic` first)",
        )
    }

    /// The panic payload, or the error itself if the task was cancelled.
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
