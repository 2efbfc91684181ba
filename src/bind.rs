//! Reactive bindings from Leptos signals to nodes of the skeleton (`markup.rs`).
//!
//! Each binding is a `RenderEffect`: it runs at once and again whenever the signals it reads
//! change, and touches the DOM only when its value did change. Every binding of a kind has
//! the same type (`Signal<String>` or `Signal<bool>`), so each kind costs its code once.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, UnwrapThrowExt};
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Event};

/// The first element under `root` with class `class`.
pub fn find(root: &Element, class: &str) -> Element {
    root.get_elements_by_class_name(class).item(0).expect_throw("the skeleton has every class the bindings use")
}

/// The first `tag` element under `root`.
pub fn first(root: &Element, tag: &str) -> Element {
    root.get_elements_by_tag_name(tag).item(0).expect_throw("the skeleton has every element the bindings use")
}

/// Keeps `element`'s text equal to `value`.
pub fn text(element: Element, value: Signal<String>) {
    keep(RenderEffect::new(move |previous: Option<String>| {
        let value = value.get();
        if previous.as_ref() != Some(&value) {
            element.set_text_content(Some(&value));
        }
        value
    }));
}

/// Keeps attribute `name` of `element` equal to `value`.
pub fn attribute(element: Element, name: &'static str, value: Signal<String>) {
    keep(RenderEffect::new(move |previous: Option<String>| {
        let value = value.get();
        if previous.as_ref() != Some(&value) {
            let _ = element.set_attribute(name, &value);
        }
        value
    }));
}

/// Sets boolean attribute `name` (`hidden`, `disabled`) on `element` while `on` holds.
pub fn flag(element: Element, name: &'static str, on: Signal<bool>) {
    keep(RenderEffect::new(move |_| {
        let _ = element.toggle_attribute_with_force(name, on.get());
    }));
}

/// A binding lives as long as the widget, which lives as long as the page: dropping the
/// effect would cancel it.
fn keep<T>(effect: RenderEffect<T>) {
    std::mem::forget(effect);
}

/// Calls `handler` on every `event` on `element`, for the widget's life.
pub fn on(element: &Element, event: &str, handler: impl Fn(Event) + 'static) {
    let handler = Closure::<dyn Fn(Event)>::new(handler);
    let _ = element.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    handler.forget();
}

/// Shows a form field of the skeleton: its message is `error` (tied to the input by
/// `aria-describedby` in the markup, flagged by `aria-invalid` here) and every value typed goes
/// to `on_value`. Returns the input.
pub fn field(field: &Element, error: Signal<String>, on_value: impl Fn(String) + 'static) -> Element {
    let _ = field.remove_attribute("hidden");
    let input = first(field, "input");
    text(find(field, crate::markup::class::ERROR), error);
    attribute(input.clone(), "aria-invalid", Signal::derive(move || (!error.get().is_empty()).to_string()));
    on(&input, "input", move |event| on_value(input_value(&event)));
    input
}

/// The value of the input an event came from.
pub fn input_value(event: &Event) -> String {
    event.target().map(|t| t.unchecked_into::<web_sys::HtmlInputElement>().value()).unwrap_or_default()
}
