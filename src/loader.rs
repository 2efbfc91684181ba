//! Loads ePay's payment-api.js once per page, in the manner of Stripe's `loadStripe`: one
//! memoised promise, an existing `<script>` with the same URL is reused, a timeout, a
//! rejection when the `halyk` global is missing after load, and a failed attempt is
//! forgotten (its tag removed) so that the next call loads again.

use std::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlScriptElement;

use crate::dom;

/// How long payment-api.js may take to load.
pub const DEFAULT_TIMEOUT_MS: i32 = 15_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The script did not load (network error, 404, blocked).
    Failed,
    /// It loaded but defined no `halyk`.
    NoGlobal,
    /// Neither within the timeout.
    Timeout,
}

impl LoadError {
    fn code(self) -> &'static str {
        match self {
            LoadError::Failed => "failed",
            LoadError::NoGlobal => "no-global",
            LoadError::Timeout => "timeout",
        }
    }

    fn from_code(code: &JsValue) -> LoadError {
        match code.as_string().as_deref() {
            Some("no-global") => LoadError::NoGlobal,
            Some("timeout") => LoadError::Timeout,
            _ => LoadError::Failed,
        }
    }
}

thread_local! {
    /// The load in flight or done, by URL.
    static LOADING: RefCell<Option<(String, Promise)>> = const { RefCell::new(None) };
}

/// Starts loading `url` (or joins the load already started) and waits for it.
pub async fn load(url: &str, timeout_ms: i32) -> Result<(), LoadError> {
    JsFuture::from(start(url, timeout_ms)).await.map(|_| ()).map_err(|code| LoadError::from_code(&code))
}

/// Starts loading without waiting: the widget calls this at mount so a click never waits.
pub fn preload(url: &str) {
    let _ = start(url, DEFAULT_TIMEOUT_MS);
}

fn start(url: &str, timeout_ms: i32) -> Promise {
    if let Some(promise) = LOADING.with_borrow(|l| l.as_ref().filter(|(u, _)| u == url).map(|(_, p)| p.clone())) {
        return promise;
    }
    let promise = if has_halyk() { Promise::resolve(&JsValue::TRUE) } else { inject(url, timeout_ms) };
    LOADING.set(Some((url.to_owned(), promise.clone())));
    promise
}

fn has_halyk() -> bool {
    dom::get(&dom::window(), "halyk").is_object()
}

fn inject(url: &str, timeout_ms: i32) -> Promise {
    let url = url.to_owned();
    Promise::new(&mut move |resolve, reject| {
        let document = dom::document();
        let selector = String::from("script[src=\"") + &url.replace('"', "\\\"") + "\"]";
        let existing = document.query_selector(&selector).ok().flatten().and_then(|e| e.dyn_into::<HtmlScriptElement>().ok());
        let script = existing.unwrap_or_else(|| {
            let script: HtmlScriptElement = document.create_element("script").expect("script element").unchecked_into();
            script.set_src(&url);
            script.set_async(true);
            if let Some(head) = document.head() {
                let _ = head.append_child(&script);
            }
            script
        });

        // Each outcome settles the promise once; later calls to `settle` do nothing.
        let settled = std::rc::Rc::new(std::cell::Cell::new(false));
        let settle = {
            let (script, url) = (script.clone(), url.clone());
            move |outcome: Result<(), LoadError>| {
                if settled.replace(true) {
                    return;
                }
                match outcome {
                    Ok(()) => drop(resolve.call1(&JsValue::NULL, &JsValue::TRUE)),
                    Err(error) => {
                        // Forget this attempt so Retry loads again.
                        script.remove();
                        LOADING.with_borrow_mut(|l| {
                            if l.as_ref().is_some_and(|(u, _)| *u == url) {
                                *l = None;
                            }
                        });
                        drop(reject.call1(&JsValue::NULL, &JsValue::from_str(error.code())));
                    }
                }
            }
        };
        let settle = std::rc::Rc::new(settle);

        let on_load = {
            let settle = settle.clone();
            Closure::once_into_js(move || settle(if has_halyk() { Ok(()) } else { Err(LoadError::NoGlobal) }))
        };
        let on_error = {
            let settle = settle.clone();
            Closure::once_into_js(move || settle(Err(LoadError::Failed)))
        };
        let on_timeout = Closure::once_into_js(move || settle(Err(LoadError::Timeout)));
        let _ = script.add_event_listener_with_callback("load", on_load.unchecked_ref());
        let _ = script.add_event_listener_with_callback("error", on_error.unchecked_ref());
        let _ = dom::window().set_timeout_with_callback_and_timeout_and_arguments_0(on_timeout.unchecked_ref(), timeout_ms);
    })
}
