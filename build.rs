//! Linker settings for the plugin library.

fn main() {
    // Keep the plugin mapped once a host has loaded it. Rust's standard library registers
    // thread-exit callbacks inside the plugin's own copy of it; a host that unloads the library
    // while one of its threads that touched the plugin still runs would crash when that thread
    // exits (reproduced with clack-host: tests/clap_host.rs,
    // `unloading_the_library_does_not_crash_threads_that_used_it`).
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
