//! The merchant's console: sign-in, the home figures, orders (search, filters, export), an
//! order's page (timeline, payment, postLinks, operations, webhooks) and what operators do
//! (refund, capture, cancel, resend, resolve a review). Pure parts (`route`, `i18n`,
//! `format`) compile and are tested everywhere; the app is wasm32 only.

pub mod format;
pub mod i18n;
pub mod route;
pub mod timeline;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod ctx;
#[cfg(target_arch = "wasm32")]
mod pages;

#[cfg(target_arch = "wasm32")]
pub use app::mount;
