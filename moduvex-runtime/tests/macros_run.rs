//! `#[moduvex_runtime::main]` and `#[moduvex_runtime::test]` expand to
//! working code: spawning, return values, `?`, kept attributes, arguments.

use std::io;

use moduvex_runtime::{spawn, yield_now};

#[moduvex_runtime::test]
async fn test_body_runs_on_a_runtime() {
    let task = spawn(async {
        yield_now().await;
        21 * 2
    });
    assert_eq!(task.await.unwrap(), 42);
}

#[moduvex_runtime::test]
async fn test_may_return_a_result_and_use_question_mark() -> Result<(), io::Error> {
    let parsed: u8 = "7".parse().map_err(io::Error::other)?;
    if parsed != 7 {
        return Err(io::Error::other("wrong number"));
    }
    Ok(())
}

#[moduvex_runtime::test]
#[should_panic(expected = "expected failure")]
async fn other_attributes_are_kept() {
    yield_now().await;
    panic!("expected failure");
}

#[moduvex_runtime::test(flavor = "current_thread")]
async fn explicit_current_thread_runs_local_tasks() {
    let rc = std::rc::Rc::new(3);
    let n = moduvex_runtime::spawn_local(async move { *rc })
        .await
        .unwrap();
    assert_eq!(n, 3);
}

mod renamed {
    use moduvex_runtime as rt;

    #[rt::test(crate = "rt")]
    async fn crate_argument_finds_a_renamed_runtime() {
        assert_eq!(rt::spawn(async { 1 }).await.unwrap(), 1);
    }
}

/// A `main`-style entry point, called from a plain test.
#[moduvex_runtime::main(flavor = "current_thread")]
async fn entry() -> u32 {
    let task = spawn(async { 5 });
    task.await.unwrap() + 1
}

#[test]
fn main_attribute_turns_an_async_fn_into_a_blocking_one() {
    assert_eq!(entry(), 6);
}

#[moduvex_runtime::main(flavor = "current_thread")]
async fn entry_with_early_return() -> &'static str {
    if std::hint::black_box(true) {
        return "early";
    }
    "late"
}

#[test]
fn return_inside_the_body_returns_from_the_function() {
    assert_eq!(entry_with_early_return(), "early");
}
