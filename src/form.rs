//! The checkout form: the total or the amount and comment fields, Pay, the status line, and
//! a problem with Retry.

use epay_api_types::Amount;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use crate::bind;
use crate::logic::stage::Stage;
use crate::nodes::Nodes;
use crate::view::Widget;
use crate::{checkout, dom, format};

pub fn bind(widget: &Widget, nodes: &Nodes) {
    let Widget { state, options, texts, wording } = widget.clone();
    let language = options.language;
    bind::flag(nodes.form.clone(), "hidden", widget.flag_of(|s| s.stage == Stage::Outcome));
    bind::flag(nodes.sandbox.clone(), "hidden", widget.flag_of(|s| !s.config.as_ref().is_some_and(|c| c.sandbox)));

    let preset = options.amount;
    if let Some(amount) = preset {
        let total = Signal::derive(move || {
            let currency = state.with(|s| s.config.as_ref().map_or_else(|| String::from("KZT"), |c| c.currency.clone()));
            format::money(amount, &currency, language)
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
    if options.description.is_none() {
        let error = Signal::derive(move || state.with(|s| s.comment_error(texts)));
        bind::field(&nodes.comment_field, error, move |value| {
            state.update(|s| {
                s.comment = value;
                s.attempt_key = None;
            })
        });
    }

    bind::flag(nodes.pay.clone(), "disabled", widget.flag_of(|s| s.stage.busy()));
    bind::attribute(nodes.pay.clone(), "aria-busy", widget.text_of(|s| s.stage.busy().to_string()));
    bind::text(
        nodes.status.clone(),
        Signal::derive(move || {
            state.with(|s| {
                String::from(match s.stage {
                    Stage::Creating => wording.creating,
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
    let retry = submit.clone();
    bind::on(&nodes.form, "submit", move |event| {
        event.prevent_default();
        submit();
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

/// Pay: validate, take this attempt's Idempotency-Key, ask the proxy, hand over to ePay.
fn pay(widget: &Widget, amount_input: &web_sys::HtmlElement) {
    let Widget { state, options, texts, .. } = widget;
    let (state, texts) = (*state, *texts);
    let attempt = state
        .try_update(|s| {
            if s.stage.busy() {
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
            Some((amount, s.comment.clone(), key))
        })
        .flatten();
    let Some((amount, comment, key)) = attempt else {
        if !state.with_untracked(|s| s.stage.busy()) {
            let _ = amount_input.focus();
        }
        return;
    };
    let request = checkout::request(options, amount, &comment);
    let widget = widget.clone();
    spawn_local(async move {
        let overlay_widget = widget.clone();
        let on_overlay_closed = move |order| overlay_widget.check_outcome(order);
        let result = checkout::pay(&widget.options.proxy, widget.options.method, &request, &key, widget.texts, on_overlay_closed).await;
        let _ = widget.state.try_update(|s| s.stage = s.stage.after_checkout(result));
    });
}
