//! Mounting and unmounting. Each mounted element has one reactive `Owner` that owns every
//! binding, effect and listener of its widget; `unmount` cleans it up, which releases them all
//! (a single-page shop mounts and unmounts as it routes), and removes the widget's DOM.

use std::cell::RefCell;

use leptos::prelude::Owner;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::options::Options;
use crate::{dom, view};

/// Attribute that marks a host element (and, once mounted, is set to "mounted").
const HOST_ATTRIBUTE: &str = "data-epay-checkout";

struct Mounted {
    host: HtmlElement,
    root: Element,
    owner: Owner,
}

thread_local! {
    static MOUNTED: RefCell<Vec<Mounted>> = const { RefCell::new(Vec::new()) };
    static MOUNTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Mounts the widget into `host`, reading its options from the element's `data-*`
/// attributes. Mounting the same element twice does nothing. (`widget.js` wraps it so that a
/// page's `mount(element)` returns a handle with `unmount()`: no wasm-bindgen class for it.)
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
    let root: Element = dom::document().create_element("div").unwrap_throw();
    root.set_class_name("epay");
    let _ = root.set_attribute("lang", options.language.tag());
    let owner = Owner::new();
    if owner.with(|| view::start(host.clone(), &root, options, &id)).is_err() {
        // The skeleton lacks a node the widget binds: a build error, shown rather than half-bound.
        root.set_text_content(Some("epay widget: broken skeleton"));
    }
    let _ = host.append_child(&root);
    MOUNTED.with_borrow_mut(|mounted| mounted.push(Mounted { host, root, owner }));
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

/// Removes the widget from `host`: every listener, effect and pending answer of it is
/// released, its DOM removed, and `host` may be mounted again. Does nothing for an element
/// that holds no widget.
#[wasm_bindgen]
pub fn unmount(host: HtmlElement) {
    let found = MOUNTED.with_borrow_mut(|mounted| {
        let index = mounted.iter().position(|m| m.host == host)?;
        Some(mounted.swap_remove(index))
    });
    let Some(Mounted { host, root, owner }) = found else { return };
    owner.cleanup();
    drop(owner);
    root.remove();
    let _ = host.set_attribute(HOST_ATTRIBUTE, "");
}
