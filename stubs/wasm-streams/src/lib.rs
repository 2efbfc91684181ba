//! API-compatible stand-in for `wasm-streams` 0.5, for the checkout widget only.
//!
//! Leptos always links `server_fn`'s browser client, which uses wasm-streams for streaming
//! server-function bodies. wasm-streams exports three JS classes through `#[wasm_bindgen]`,
//! and exports are never dead code: they cost the widget 6 kB brotli (measured) of its
//! 45 kB budget although it calls no server function. This crate has the four functions
//! server_fn calls and no exports. Converting a Rust stream into a JS one is impossible
//! here and panics; reading a JS stream yields nothing. Remove the `[patch]` in the root
//! Cargo.toml before using streaming server functions.

use futures_util::Stream;
use wasm_bindgen::JsValue;

pub struct ReadableStream(web_sys::ReadableStream);

impl ReadableStream {
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        ReadableStream(raw)
    }

    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.0
    }

    pub fn from_stream<S: Stream<Item = Result<JsValue, JsValue>> + 'static>(_stream: S) -> Self {
        panic!("streaming server-function bodies are disabled in this build (stubs/wasm-streams)")
    }

    pub fn into_stream(self) -> futures_util::stream::Empty<Result<JsValue, JsValue>> {
        futures_util::stream::empty()
    }
}
