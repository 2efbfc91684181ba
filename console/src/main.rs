//! The console's entry point (console/index.html, built by trunk).

fn main() {
    #[cfg(target_arch = "wasm32")]
    epay_console::mount();
}
