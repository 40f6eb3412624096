#[moduvex_runtime::test(threads = 2)]
async fn unknown() {}

fn main() {}
