//! Runs `examples/compat_cost.rs` (see `examples_common`) with a few
//! rounds: every measurement works, and the thread figures say what the
//! feature adds — one tokio thread per runtime, nothing without it.

mod examples_common;

#[path = "../examples/compat_cost.rs"]
#[allow(dead_code)] // the example's `main`
mod example;

#[test]
fn compat_cost_measures_every_figure() {
    let report = examples_common::guard("the compat_cost example", || {
        example::run(example::Rounds {
            builds: 3,
            kept: 2,
            round_trips: 50,
        })
    });
    let extra = usize::from(example::COMPAT);
    assert_eq!(report.threads_current_thread, extra, "{report:?}");
    assert_eq!(report.threads_two_workers, 2 + extra, "{report:?}");
    let round_trips = report
        .figures
        .iter()
        .filter(|f| f.what.starts_with("round trip"))
        .count();
    assert_eq!(round_trips, 4 + 2 * extra, "{report:?}");
}
