//! The checkout form: the total or the amount and comment fields, Pay, the status line, and
//! a problem with Retry.

use epay_api_types::Amount;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::bind;
use crate::logic::stage::Stage;
use crate::nodes::Nodes;
use crate::widget::Widget;
use crate::checkout::{self, Start};
use crate::{dom, format};

pub fn bind(widget: &Widget, nodes: &Nodes) {
    let Widget { state, options, texts, .. } = widget.clone();
    let language = options.language;
    let widget_wording = texts.wording(options.method);
    bind::flag(nodes.form.clone(), "hidden", widget.flag_of(|s| s.stage == Stage::Outcome));
    bind::flag(nodes.sandbox.clone(), "hidden", widget.flag_of(|s| !s.config.as_ref().is_some_and(|c| c.sandbox)));
    // A merchant order: what is paid for, as the proxy says (the CSS hides it while empty).
    bind::text(nodes.what.clone(), widget.text_of(|s| s.merchant_order.as_ref().and_then(|o| o.description.clone()).unwrap_or_default()));

    let preset = options.amount;
    if preset.is_some() || options.order_on_page {
        // The page's amount, or the merchant order's from the proxy (never the page's).
        let total = Signal::derive(move || {
            state.with(|s| {
                let (amount, currency) = match &s.merchant_order {
                    Some(order) => (Amount::parse(&order.amount).ok(), order.currency.as_str()),
                    None => (preset, s.config.as_ref().map_or("KZT", |c| c.currency.as_str())),
                };
                amount.map(|a| format::money(a, currency, language)).unwrap_or_default()
            })
        });
        let _ = nodes.total.remove_attribute("hidden");
        bind::text(nodes.total_amount.clone(), total);
        bind::text(nodes.pay_amount.clone(), total);
    } else {
        let error = Signal::derive({
            let options = options.clone();
            move || state.with(|s| s.amount_error(&options))
        });
        bind::field(&nodes.amount_field, error, move |value| {
            state.update(|s| {
                s.amount = value;
                s.attempt_key = None;
                s.touched = true;
            })
        });
    }
    if options.description.is_none() && !options.order_on_page {
        let error = Signal::derive(move || state.with(|s| s.comment_error(texts)));
        bind::field(&nodes.comment_field, error, move |value| {
            state.update(|s| {
                s.comment = value;
                s.attempt_key = None;
            })
        });
    }

    // The consent to save the card: only where the shop offers it, unticked until the payer ticks it.
    let offers_saving = options.card_save;
    bind::flag(
        nodes.save.clone(),
        "hidden",
        Signal::derive(move || !state.with(|s| s.merchant_order.as_ref().map_or(offers_saving, |o| o.allow_save_card))),
    );
    let save_input = nodes.save_input.clone();
    bind::on(&nodes.save_input, "change", move |_| {
        let ticked = js_sys::Reflect::get(&save_input, &"checked".into()).is_ok_and(|v| v.is_truthy());
        state.update(|s| s.save_card = ticked);
    });
    bind::flag(nodes.pay.clone(), "disabled", widget.flag_of(|s| s.stage.busy()));
    bind::attribute(nodes.pay.clone(), "aria-busy", widget.text_of(|s| s.stage.busy().to_string()));
    bind::text(
        nodes.status.clone(),
        Signal::derive(move || {
            state.with(|s| {
                String::from(match s.stage {
                    Stage::Creating => widget_wording.creating,
                    Stage::Leaving => texts.redirecting,
                    _ => "",
                })
            })
        }),
    );
    bind::flag(nodes.problem.clone(), "hidden", widget.flag_of(|s| !matches!(s.stage, Stage::Problem(_))));
    bind::text(
        nodes.problem_text.clone(),
        widget.text_of(|s| match s.stage {
            Stage::Problem(text) => String::from(text),
            _ => String::new(),
        }),
    );

    let submit = {
        let (widget, amount_input) = (widget.clone(), nodes.amount_input.clone());
        move || pay(&widget, &amount_input)
    };
    let (retry, on_click) = (submit.clone(), submit.clone());
    bind::on(&nodes.form, "submit", move |event| {
        event.prevent_default();
        submit();
    });
    // The button's click, not the form's submit, starts paying: Chromium fires submit some
    // milliseconds after the click (scripts/perf-browser). Enter in a field clicks the button
    // too (implicit submission); preventing the click's default skips the submit.
    bind::on(&nodes.pay, "click", move |event| {
        event.prevent_default();
        on_click();
    });
    bind::on(&nodes.retry, "click", move |_| {
        state.update(|s| s.stage = Stage::Ready);
        retry();
    });
    // Back from ePay with the browser's Back button, the page may come from the
    // back-forward cache with the button still busy.
    bind::on(dom::window().unchecked_ref(), "pageshow", move |_| {
        let _ = state.try_update(|s| s.stage = s.stage.after_pageshow());
    });
}

/// The busy state (disabled button, spinner) shows this long after the click, not at once: a
/// checkout answered sooner goes straight to the hand-over, which a re-render and a paint
/// would otherwise delay by a frame (scripts/perf-browser). A second click meanwhile is
/// refused by the state itself.
const BUSY_SHOWN_AFTER_MS: i32 = 100;

/// Pay: validate, take this attempt's Idempotency-Key, ask the proxy, hand over to ePay. A
/// merchant order needs none of that: the order is its own key.
fn pay(widget: &Widget, amount_input: &web_sys::HtmlElement) {
    let Widget { state, options, texts, .. } = widget;
    let (state, texts) = (*state, *texts);
    let merchant_order = state
        .try_update_untracked(|s| {
            if s.stage.busy() || s.merchant_order.is_none() {
                return None;
            }
            s.stage = Stage::Creating;
            let offered = s.merchant_order.as_ref().is_some_and(|o| o.allow_save_card);
            s.order.clone().map(|(invoice_id, key)| (invoice_id, key, offered && s.save_card))
        })
        .flatten();
    if let Some((invoice_id, key, save_card)) = merchant_order {
        return begin(widget, Start::Order(invoice_id, key, save_card));
    }
    let attempt = state
        .try_update_untracked(|s| {
            if s.stage.busy() || s.merchant_order.is_some() {
                return None;
            }
            s.touched = true;
            let amount = options.amount.map_or_else(|| Amount::parse_typed(&s.amount), Ok).ok()?;
            if s.amount_problem(options).is_some() || !s.comment_error(texts).is_empty() {
                return None;
            }
            // Without the browser's CSPRNG there is no safe Idempotency-Key: say so rather
            // than send a guessable one.
            let Some(key) = s.attempt_key.clone().or_else(dom::random_key) else {
                s.stage = Stage::Problem(texts.no_secure_random);
                return None;
            };
            s.attempt_key = Some(key.clone());
            s.stage = Stage::Creating;
            Some((amount, s.comment.clone(), key, s.save_card))
        })
        .flatten();
    let Some((amount, comment, key, save_card)) = attempt else {
        // Nothing started: show the field errors or the problem now.
        let _ = state.try_update(|_| ());
        if !state.with_untracked(|s| s.stage.busy()) {
            let _ = amount_input.focus();
        }
        return;
    };
    begin(widget, Start::Open(checkout::request(options, amount, &comment, save_card), key));
}

fn begin(widget: &Widget, start: Start) {
    let widget = widget.clone();
    let sent = checkout::send(&widget.options.proxy, &start);
    let state = widget.state;
    spawn_local(async move {
        dom::sleep(BUSY_SHOWN_AFTER_MS).await;
        let _ = state.try_update(|_| ());
    });
    spawn_local(async move {
        let result = checkout::pay(&widget, start, sent).await;
        let _ = widget.state.try_update(|s| s.stage = s.stage.after_checkout(result));
    });
}
