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
#![cfg(target_arch = "wasm32")]

pub mod api;
mod bind;
mod checkout;
pub mod dom;
pub mod format;
pub mod halyk;
pub mod i18n;
pub mod loader;
mod markup;
pub mod options;
pub mod wire;
mod outcome;
mod view;

use std::cell::Cell;

use leptos::prelude::Owner;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use options::Options;

/// Attribute that marks a host element (and, once mounted, is set to "mounted").
const HOST_ATTRIBUTE: &str = "data-epay-checkout";

thread_local! {
    static MOUNTS: Cell<u32> = const { Cell::new(0) };
}

/// Mounts the widget into `host`, reading its options from the element's `data-*`
/// attributes. Mounting the same element twice does nothing.
#[wasm_bindgen]
pub fn mount(host: HtmlElement) {
    if host.get_attribute(HOST_ATTRIBUTE).as_deref() == Some("mounted") {
        return;
    }
    let _ = host.set_attribute(HOST_ATTRIBUTE, "mounted");
    let options = Options::from_element(&host);
    let id = MOUNTS.with(|n| {
        n.set(n.get() + 1);
        String::from("epay") + &n.get().to_string()
    });
    // Leptos' executor runs the widget's futures (spawn_local); it may already be set up.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let root: web_sys::Element = dom::document().create_element("div").unwrap_throw();
    root.set_class_name("epay");
    let _ = root.set_attribute("lang", options.language.tag());
    let owner = Owner::new();
    owner.with(|| view::start(&root, options, &id));
    let _ = host.append_child(&root);
    // The widget lives as long as the page: its reactive owner is never dropped.
    std::mem::forget(owner);
}

/// Mounts the widget on every `[data-epay-checkout]` element of the page not yet mounted.
#[wasm_bindgen(js_name = mountAll)]
pub fn mount_all() {
    let Ok(hosts) = dom::document().query_selector_all("[data-epay-checkout]") else { return };
    for i in 0..hosts.length() {
        if let Some(host) = hosts.item(i).and_then(|node| node.dyn_into::<HtmlElement>().ok()) {
            mount(host);
        }
    }
}
