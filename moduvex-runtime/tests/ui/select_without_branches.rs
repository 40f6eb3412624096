fn main() {
    moduvex_runtime::block_on(async {
        moduvex_runtime::select! {};
    });
}
