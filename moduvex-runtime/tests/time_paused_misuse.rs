//! Misuse of the test clock: each a panic at the caller's line that names
//! the call and what to do instead, never a hang.

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;

use moduvex_runtime::time::{advance, pause, resume};
use moduvex_runtime::{Builder, Flavor};

thread_local! {
    /// The file of the last panic on this thread.
    static PANIC_FILE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records each panic's location per thread (tests run in parallel, so a
/// global slot would mix them up), keeping the default output.
fn record_panic_locations() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map(|l| l.file().to_string());
            let _ = PANIC_FILE.try_with(|f| *f.borrow_mut() = file);
            default(info);
        }));
    });
}

/// Runs `f`, which must panic; returns its message, and checks the panic
/// points at this file (`#[track_caller]`), not into the runtime.
fn panic_message(f: impl FnOnce()) -> String {
    record_panic_locations();
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    let file = PANIC_FILE.with(|f| f.borrow_mut().take());
    assert_eq!(
        file.as_deref(),
        Some(file!()),
        "the panic names the caller's line"
    );
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().unwrap_or(&"").to_string(),
    }
}

fn assert_has(msg: &str, parts: &[&str]) {
    for part in parts {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
}

#[test]
fn advance_on_a_running_clock_panics() {
    let msg = panic_message(|| {
        moduvex_runtime::block_on(async {
            drop(advance(Duration::from_secs(1)));
        })
    });
    assert_has(
        &msg,
        &[
            "`time::advance()`",
            "clock is running",
            "`time::pause()` first",
        ],
    );
}

#[test]
fn advance_after_resume_panics_when_polled() {
    // Checked when called and again when first polled.
    let payload = catch_unwind(|| {
        moduvex_runtime::block_on(async {
            pause();
            let moving = advance(Duration::from_secs(1));
            resume();
            moving.await;
        })
    })
    .expect_err("expected a panic");
    let msg = payload.downcast::<String>().map(|s| *s).unwrap_or_default();
    assert_has(&msg, &["`time::advance()`", "clock is running"]);
}

#[test]
fn resume_on_a_running_clock_panics() {
    let msg = panic_message(|| moduvex_runtime::block_on(async { resume() }));
    assert_has(
        &msg,
        &[
            "`time::resume()`",
            "clock is running",
            "`time::pause()` first",
        ],
    );
}

#[test]
fn pause_twice_panics() {
    let msg = panic_message(|| {
        moduvex_runtime::block_on(async {
            pause();
            pause();
        })
    });
    assert_has(
        &msg,
        &["`time::pause()`", "already paused", "`time::resume()`"],
    );
}

#[test]
fn pause_resume_and_advance_outside_a_runtime_panic() {
    for (call, msg) in [
        ("`time::pause()`", panic_message(|| pause())),
        ("`time::resume()`", panic_message(|| resume())),
        (
            "`time::advance()`",
            panic_message(|| drop(advance(Duration::from_secs(1)))),
        ),
    ] {
        assert_has(&msg, &[call, "outside a moduvex runtime", "start_paused"]);
    }
}

fn multi_thread() -> moduvex_runtime::Runtime {
    Builder::new(Flavor::WorkStealing)
        .worker_threads(1)
        .build()
        .unwrap()
}

#[test]
fn pause_in_a_multi_thread_block_on_panics() {
    let rt = multi_thread();
    let msg = panic_message(|| rt.block_on(async { pause() }));
    assert_has(
        &msg,
        &[
            "`time::pause()`",
            "requires a current-thread runtime",
            "Builder::new_current_thread().start_paused(true)",
            "#[moduvex_runtime::test(start_paused = true)]",
        ],
    );
}

#[test]
fn pause_and_advance_on_a_worker_panic() {
    for flavor in [Flavor::WorkStealing, Flavor::ThreadPerCore] {
        let rt = Builder::new(flavor).worker_threads(1).build().unwrap();
        let err = rt
            .block_on(rt.spawn(async { pause() }))
            .expect_err("pause on a worker must panic");
        let msg = err
            .into_panic()
            .downcast::<String>()
            .map(|s| *s)
            .unwrap_or_default();
        assert_has(
            &msg,
            &["`time::pause()`", "requires a current-thread runtime"],
        );
        let err = rt
            .block_on(rt.spawn(async { drop(advance(Duration::from_secs(1))) }))
            .expect_err("advance on a worker must panic");
        let msg = err
            .into_panic()
            .downcast::<String>()
            .map(|s| *s)
            .unwrap_or_default();
        assert_has(
            &msg,
            &["`time::advance()`", "requires a current-thread runtime"],
        );
    }
}

#[test]
fn start_paused_on_a_multi_thread_builder_is_refused() {
    for flavor in [Flavor::WorkStealing, Flavor::ThreadPerCore] {
        let err = Builder::new(flavor)
            .worker_threads(1)
            .start_paused(true)
            .build()
            .expect_err("start_paused(true) needs a current-thread runtime");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert_has(
            &err.to_string(),
            &[
                "start_paused(true)",
                "Builder::new_current_thread().start_paused(true)",
            ],
        );
    }
    // `false` is fine anywhere.
    let rt = Builder::new(Flavor::WorkStealing)
        .worker_threads(1)
        .start_paused(false)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async { 1 }), 1);
}
