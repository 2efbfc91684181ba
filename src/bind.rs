//! Reactive bindings from Leptos signals to nodes of the skeleton (`markup.rs`), and event
//! listeners, all owned by the mount's reactive `Owner`: `unmount` disposes it, and with it
//! every effect and every listener (leptos-use's `use_event_listener` pattern), never
//! `forget`.
//!
//! Each binding is a `RenderEffect`: it runs at once and again whenever the signals it reads
//! change, and touches the DOM only when its value did change. Every binding of a kind has
//! the same type (`Signal<String>` or `Signal<bool>`), so each kind costs its code once.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Event, EventTarget};

/// Keeps `element`'s text equal to `value`.
pub fn text(element: Element, value: Signal<String>) {
    owned(RenderEffect::new(move |previous: Option<String>| {
        let value = value.get();
        if previous.as_ref() != Some(&value) {
            element.set_text_content(Some(&value));
        }
        value
    }));
}

/// Keeps attribute `name` of `element` equal to `value`.
pub fn attribute(element: Element, name: &'static str, value: Signal<String>) {
    owned(RenderEffect::new(move |previous: Option<String>| {
        let value = value.get();
        if previous.as_ref() != Some(&value) {
            let _ = element.set_attribute(name, &value);
        }
        value
    }));
}

/// Sets boolean attribute `name` (`hidden`, `disabled`) on `element` while `on` holds.
pub fn flag(element: Element, name: &'static str, on: Signal<bool>) {
    owned(RenderEffect::new(move |_| {
        let _ = element.toggle_attribute_with_force(name, on.get());
    }));
}

/// Keeps `value` alive until the current owner is cleaned up (dropping an effect cancels it).
fn owned<T: 'static>(value: T) {
    keep(Box::new(value));
}

/// `owned` without a type: one cleanup function for every kind of effect.
fn keep(value: Box<dyn std::any::Any>) {
    let value = SingleThreaded(value);
    on_cleanup(move || drop(value.into_inner()));
}

/// Leptos' cleanups must be `Send + Sync`; browser objects are not. The widget runs on
/// wasm32's only thread, so nothing is ever sent anywhere. (`send_wrapper` would check the
/// thread on every use and bring std's thread machinery into the wasm: 1 kB brotli.)
struct SingleThreaded<T>(T);

impl<T> SingleThreaded<T> {
    /// Moves the whole wrapper into a closure (a closure would otherwise capture the field).
    fn into_inner(self) -> T {
        self.0
    }
}

// SAFETY: wasm32-unknown-unknown without atomics has one thread; the value never leaves it.
#[allow(unsafe_code)]
unsafe impl<T> Send for SingleThreaded<T> {}
// SAFETY: as above: there is no other thread to share it with.
#[allow(unsafe_code)]
unsafe impl<T> Sync for SingleThreaded<T> {}

/// Calls `handler` on every `event` on `target`, until the current owner is cleaned up, which
/// removes the listener.
pub fn on(target: &EventTarget, event: &'static str, handler: impl Fn(Event) + 'static) {
    listen(target, event, Closure::<dyn Fn(Event)>::new(handler));
}

/// `on` once the handler is a JS function: one copy of this code for every listener.
fn listen(target: &EventTarget, event: &'static str, handler: Closure<dyn Fn(Event)>) {
    let _ = target.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    let release = SingleThreaded((target.clone(), handler));
    on_cleanup(move || {
        let (target, handler) = release.into_inner();
        let _ = target.remove_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    });
}

/// Shows a form field of the skeleton: its message is `error` (tied to the input by
/// `aria-describedby` in the markup, flagged by `aria-invalid` here) and every value typed goes
/// to `on_value`.
pub fn field(field: &Element, error: Signal<String>, on_value: impl Fn(String) + 'static) {
    let _ = field.remove_attribute("hidden");
    let (Some(input), Some(message)) =
        (field.get_elements_by_tag_name("input").item(0), field.get_elements_by_class_name(crate::markup::class::ERROR).item(0))
    else {
        return;
    };
    text(message, error);
    attribute(input.clone(), "aria-invalid", Signal::derive(move || (!error.get().is_empty()).to_string()));
    on(&input, "input", move |event| on_value(input_value(&event)));
}

/// The value of the input an event came from.
pub fn input_value(event: &Event) -> String {
    event.target().map(|t| t.unchecked_into::<web_sys::HtmlInputElement>().value()).unwrap_or_default()
}
