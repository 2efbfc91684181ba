//! Halyk ePay checkout widget: Leptos (CSR) compiled to WebAssembly.
//!
//! A storefront embeds it with one element and one script:
//!
//! ```html
//! <div data-epay-checkout data-amount="1500" data-description="Order 42"></div>
//! <script type="module" src="https://pay.shop.kz/widget.js"></script>
//! ```
//!
//! The widget asks the token proxy for a checkout, calls `halyk.p2p` (or another method)
//! with it, and on the page ePay sends the payer back to, shows what the proxy confirms.
//!
//! Its decisions (`logic`, `i18n`) compile for every target and are tested natively; the
//! browser code around them exists only for wasm32.

pub mod i18n;
pub mod logic;

/// Modules that exist only in the browser (wasm32).
macro_rules! browser_only {
    ($($vis:vis mod $name:ident;)*) => { $( #[cfg(target_arch = "wasm32")] $vis mod $name; )* };
}

browser_only! {
    pub mod api;
    mod bind;
    mod checkout;
    pub mod events;
    pub mod dom;
    mod form;
    pub mod format;
    pub mod halyk;
    pub mod loader;
    mod markup;
    mod mounts;
    pub mod nodes;
    pub mod options;
    mod outcome;
    mod panel;
    mod view;
    mod widget;
    pub mod wire;
}

#[cfg(target_arch = "wasm32")]
pub use mounts::{mount, mount_all, unmount};

/// Talc instead of std's dlmalloc: a smaller wasm (docs/performance.md, "Size") and a faster
/// allocator; wasm32-unknown-unknown here has one thread and no atomics.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
