#[moduvex_runtime::main]
fn main() {}
