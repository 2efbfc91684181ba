//! The widget's DOM, rendered once per mount from the payer's language.
//!
//! Why a static skeleton and not `view!`: the widget must fit 40 kB brotli (wasm + JS + CSS + loader).
//! Measured on this widget, the `view!` tree cost ~6 kB more than this skeleton plus the
//! bindings in `bind.rs`: tachys builds every element with its own code and moves one large
//! nested state value around. Here the markup is one string, and Leptos' reactive graph
//! updates only the nodes that change (see `view.rs`). Nothing dynamic is interpolated: all
//! values reach the DOM through `textContent` and attributes, never as HTML.

use crate::i18n::{Texts, Wording};

/// Classes the bindings look nodes up by.
pub mod class {
    pub const FORM: &str = "epay-checkout";
    pub const SANDBOX: &str = "epay-sandbox";
    pub const WHAT: &str = "epay-what";
    pub const TOTAL: &str = "epay-total";
    pub const AMOUNT_FIELD: &str = "epay-amount";
    pub const COMMENT_FIELD: &str = "epay-comment";
    pub const ERROR: &str = "epay-error";
    pub const SAVE: &str = "epay-save";
    pub const PAY: &str = "epay-pay";
    pub const PAY_AMOUNT: &str = "epay-pay-amount";
    pub const STATUS: &str = "epay-status";
    pub const PROBLEM: &str = "epay-problem";
    pub const RETRY: &str = "epay-retry";
    pub const OUTCOME: &str = "epay-outcome";
    pub const MESSAGE: &str = "epay-message";
    pub const CARD: &str = "epay-card";
    pub const RECEIPT: &str = "epay-receipt";
    pub const AGAIN: &str = "epay-again";
    pub const CHECK_AGAIN: &str = "epay-check-again";
}

/// Escapes text for HTML (the texts are constants, but the skeleton must not depend on it).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `id` is unique per mount so labels and error messages pair up with several widgets on a
/// page.
pub fn skeleton(texts: &Texts, wording: &Wording, id: &str) -> String {
    let t = |text: &str| escape(text);
    let amount = String::from(id) + "-amount";
    let comment = String::from(id) + "-comment";
    [
        "<form class=\"epay-checkout\" novalidate>",
        "<p class=\"epay-sandbox\" hidden>",
        &t(texts.sandbox),
        "</p>",
        "<p class=\"epay-what\"></p>",
        "<p class=\"epay-total\" hidden><span>",
        &t(wording.total),
        "</span> <strong></strong></p>",
        "<div class=\"epay-field epay-amount\" hidden>",
        "<label for=\"",
        &amount,
        "\">",
        &t(texts.amount),
        "</label>",
        "<input id=\"",
        &amount,
        "\" name=\"amount\" inputmode=\"decimal\" autocomplete=\"transaction-amount\" ",
        "aria-invalid=\"false\" aria-describedby=\"",
        &amount,
        "-error\">",
        "<p class=\"epay-error\" id=\"",
        &amount,
        "-error\"></p></div>",
        "<div class=\"epay-field epay-comment\" hidden>",
        "<label for=\"",
        &comment,
        "\">",
        &t(texts.comment),
        "</label>",
        "<input id=\"",
        &comment,
        "\" name=\"comment\" maxlength=\"125\" aria-invalid=\"false\" aria-describedby=\"",
        &comment,
        "-error\">",
        "<p class=\"epay-error\" id=\"",
        &comment,
        "-error\"></p></div>",
        "<label class=\"epay-save\" hidden><input type=\"checkbox\"> ",
        &t(texts.save_card),
        "</label>",
        "<button type=\"submit\" class=\"epay-pay\" aria-busy=\"false\">",
        "<span class=\"epay-spinner\" aria-hidden=\"true\"></span>",
        "<span>",
        &t(wording.act),
        "</span> <span class=\"epay-pay-amount\"></span></button>",
        "<p class=\"epay-status\" role=\"status\" aria-live=\"polite\"></p>",
        "<div class=\"epay-problem\" role=\"alert\" hidden><p></p>",
        "<button type=\"button\" class=\"epay-retry\">",
        &t(texts.retry),
        "</button></div>",
        "<p class=\"epay-note\">",
        &t(texts.powered_by),
        "</p>",
        "</form>",
        "<div class=\"epay-outcome\" data-outcome=\"checking\" hidden>",
        "<p class=\"epay-message\" role=\"status\" aria-live=\"polite\"></p>",
        "<p class=\"epay-card\" hidden></p>",
        "<a class=\"epay-receipt\" target=\"_blank\" rel=\"noopener\" hidden>",
        &t(texts.receipt),
        "</a>",
        "<a class=\"epay-again\" hidden>",
        &t(texts.try_again),
        "</a>",
        "<button type=\"button\" class=\"epay-check-again\" hidden>",
        &t(texts.check_again),
        "</button>",
        "</div>",
    ]
    .concat()
}
