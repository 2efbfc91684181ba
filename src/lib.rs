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

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
mod bind;
#[cfg(target_arch = "wasm32")]
mod checkout;
#[cfg(target_arch = "wasm32")]
pub mod dom;
#[cfg(target_arch = "wasm32")]
mod form;
#[cfg(target_arch = "wasm32")]
pub mod format;
#[cfg(target_arch = "wasm32")]
pub mod halyk;
#[cfg(target_arch = "wasm32")]
pub mod loader;
#[cfg(target_arch = "wasm32")]
mod markup;
#[cfg(target_arch = "wasm32")]
mod mounts;
#[cfg(target_arch = "wasm32")]
pub mod nodes;
#[cfg(target_arch = "wasm32")]
pub mod options;
#[cfg(target_arch = "wasm32")]
mod outcome;
#[cfg(target_arch = "wasm32")]
mod panel;
#[cfg(target_arch = "wasm32")]
mod view;
#[cfg(target_arch = "wasm32")]
pub mod wire;

#[cfg(target_arch = "wasm32")]
pub use mounts::{mount, mount_all, unmount};
