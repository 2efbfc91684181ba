//! The demo storefront's entry point (index.html, built by trunk): mounts the widget on
//! every `[data-epay-checkout]` element of the page.

fn main() {
    #[cfg(target_arch = "wasm32")]
    epay_widget::mount_all();
}
