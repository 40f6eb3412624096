// A multi-thread runtime's clock cannot pause (as tokio's): each of these
// is a compile error naming the flavor to use.

#[moduvex_runtime::main(start_paused = true)]
async fn main() {}

#[moduvex_runtime::test(flavor = "work_stealing", start_paused = true)]
async fn paused_work_stealing() {}

#[moduvex_runtime::test(worker_threads = 2, start_paused = false)]
async fn paused_workers() {}

#[moduvex_runtime::test(start_paused = "yes")]
async fn not_a_bool() {}
