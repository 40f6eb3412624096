//! `task_local!`: scopes across awaits, nesting, spawned tasks, panics and
//! misuse.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use moduvex_runtime::task::{self, AccessError};
use moduvex_runtime::{block_on, spawn, yield_now};

moduvex_runtime::task_local! {
    /// A request id, for the tests.
    static REQUEST: u32;
    pub static NAME: String;
}

moduvex_runtime::task_local! {
    static UNIT_A: ();
    static UNIT_B: ();
}

#[moduvex_runtime::test]
async fn visible_across_awaits() {
    REQUEST
        .scope(7, async {
            assert_eq!(REQUEST.get(), 7);
            for _ in 0..3 {
                yield_now().await;
                assert_eq!(REQUEST.get(), 7);
            }
            NAME.scope("inner".to_string(), async {
                yield_now().await;
                assert_eq!(NAME.with(|n| n.len()), 5);
                assert_eq!(REQUEST.get(), 7);
            })
            .await;
        })
        .await;
    assert!(REQUEST.try_with(|_| ()).is_err());
}

#[moduvex_runtime::test]
async fn nested_scopes_shadow_and_restore() {
    REQUEST
        .scope(1, async {
            REQUEST
                .scope(2, async {
                    yield_now().await;
                    assert_eq!(REQUEST.get(), 2);
                    assert_eq!(REQUEST.sync_scope(3, || REQUEST.get()), 3);
                    assert_eq!(REQUEST.get(), 2);
                })
                .await;
            assert_eq!(REQUEST.get(), 1);
        })
        .await;
}

#[moduvex_runtime::test]
async fn interleaved_tasks_each_see_their_own_value() {
    let a = spawn(REQUEST.scope(10, async {
        for _ in 0..5 {
            yield_now().await;
            assert_eq!(REQUEST.get(), 10);
        }
    }));
    let b = spawn(REQUEST.scope(20, async {
        for _ in 0..5 {
            yield_now().await;
            assert_eq!(REQUEST.get(), 20);
        }
    }));
    a.await.unwrap();
    b.await.unwrap();
}

#[moduvex_runtime::test]
async fn not_visible_in_spawned_tasks() {
    let seen = REQUEST
        .scope(5, async {
            let child = task::spawn(async { REQUEST.try_with(|v| *v) });
            child.await.unwrap()
        })
        .await;
    assert!(seen.is_err());
}

#[test]
fn restored_after_a_panic() {
    REQUEST.sync_scope(1, || {
        let caught = catch_unwind(|| REQUEST.sync_scope(2, || panic!("boom")));
        assert!(caught.is_err());
        assert_eq!(REQUEST.get(), 1);

        let caught = catch_unwind(|| {
            block_on(REQUEST.scope(3, async {
                yield_now().await;
                panic!("boom in a future")
            }))
        });
        assert!(caught.is_err());
        assert_eq!(REQUEST.get(), 1);
    });
    assert!(REQUEST.try_with(|_| ()).is_err());
}

#[moduvex_runtime::test]
async fn panicking_task_does_not_leak_its_value() {
    let failed = spawn(REQUEST.scope(9, async {
        yield_now().await;
        panic!("task fails inside its scope")
    }));
    assert!(failed.await.unwrap_err().is_panic());
    // The next task on this thread sees nothing.
    let after = spawn(async { REQUEST.try_with(|v| *v) });
    assert!(after.await.unwrap().is_err());
}

#[test]
fn with_outside_a_scope_panics_naming_the_key() {
    let err = catch_unwind(|| REQUEST.with(|v| *v)).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .expect("panic message is a String");
    assert!(msg.contains("REQUEST"), "message was: {msg}");
}

#[test]
fn try_with_outside_a_scope_is_an_access_error() {
    let err: AccessError = NAME.try_with(|n| n.clone()).unwrap_err();
    assert_eq!(err.key_name(), "NAME");
    assert!(err.to_string().contains("NAME"));
    let _: &dyn std::error::Error = &err;
}

#[test]
fn zero_sized_keys_never_collide() {
    UNIT_A.sync_scope((), || {
        assert!(UNIT_A.try_with(|_| ()).is_ok());
        assert!(UNIT_B.try_with(|_| ()).is_err());
    });
}

#[test]
fn dropping_the_scope_future_drops_the_inner_future_inside_the_scope() {
    struct SeesValue(Rc<Cell<Option<u32>>>);
    impl Drop for SeesValue {
        fn drop(&mut self) {
            self.0.set(REQUEST.try_with(|v| *v).ok());
        }
    }
    let seen = Rc::new(Cell::new(None));
    let guard = SeesValue(seen.clone());
    let fut = REQUEST.scope(42, async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    drop(fut);
    assert_eq!(seen.get(), Some(42));
    assert!(REQUEST.try_with(|_| ()).is_err());
}

#[test]
fn scope_inside_with_of_the_same_key_panics() {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        REQUEST.sync_scope(1, || REQUEST.with(|_| REQUEST.sync_scope(2, || ())))
    }));
    let err = caught.unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("REQUEST"), "message was: {msg}");
}
