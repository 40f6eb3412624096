fn main() {
    moduvex_runtime::block_on(async {
        let _: u32 = moduvex_runtime::select! {
            else => 1,
        };
    });
}
