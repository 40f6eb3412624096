//! Runs `examples/reqwest.rs` (see `examples_common` for the pattern): it
//! starts a local server and fetches from it with reqwest.

mod examples_common;

#[path = "../examples/reqwest.rs"]
#[allow(dead_code)] // the example's `main`
mod example;

#[test]
fn reqwest_example_fetches_from_its_local_server() {
    let (status, body) = examples_common::guard("the reqwest example", || {
        example::run(None).map_err(|e| e.to_string())
    })
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, example::GREETING);
}
