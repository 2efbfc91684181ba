//! Small helpers over web-sys that every part of the widget uses.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

pub fn window() -> web_sys::Window {
    web_sys::window().expect_throw("the widget runs in a browser window")
}

pub fn document() -> web_sys::Document {
    window().document().expect_throw("the window has a document")
}

/// A query parameter of the page URL, when present and not empty.
pub fn query_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(name).filter(|v| !v.is_empty())
}

/// The page's path with only its `lang` parameter: where "pay again" starts over.
pub fn path() -> String {
    let path = window().location().pathname().unwrap_or_default();
    match query_param("lang") {
        Some(lang) => path + "?lang=" + &String::from(js_sys::encode_uri_component(&lang)),
        None => path,
    }
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A fresh random key (128 bits, hex) from the browser's CSPRNG; `None` when the browser
/// has none (never a key of zeros that every such browser would share).
pub fn random_key() -> Option<String> {
    let mut bytes = [0u8; 16];
    let crypto = js_sys::Reflect::get(&window(), &JsValue::from_str("crypto")).ok().filter(|c| c.is_object())?;
    let crypto: web_sys::Crypto = crypto.unchecked_into();
    crypto.get_random_values_with_u8_array(&mut bytes).ok()?;
    if bytes == [0u8; 16] {
        return None;
    }
    let mut key = String::with_capacity(32);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 15] {
            key.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    Some(key)
}

/// A parameter of the page URL's fragment (`#key=...`), when present and not empty.
pub fn fragment_param(name: &str) -> Option<String> {
    let hash = window().location().hash().ok()?;
    web_sys::UrlSearchParams::new_with_str(hash.trim_start_matches('#')).ok()?.get(name).filter(|v| !v.is_empty())
}

/// `Reflect.get`, treating every failure as `undefined`.
pub fn get(target: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

pub fn set(target: &JsValue, name: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(name), value);
}

#[wasm_bindgen]
extern "C" {
    /// `JSON.stringify`, which never fails on the values the widget sends.
    #[wasm_bindgen(js_namespace = JSON, js_name = stringify)]
    pub fn json_stringify(value: &JsValue) -> String;
}
