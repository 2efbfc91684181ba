//! What the checkout form (`form.rs`) and the outcome panel (`panel.rs`) share: one
//! `RwSignal<State>` (the stage decides which of them shows), the options, the texts and the
//! host element events are dispatched on.

use std::cell::Cell;

use epay_api_types::{Amount, DESCRIPTION_MAX_BYTES, OrderView, WidgetConfig};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlElement;

use crate::events::{self, Detail};
use crate::i18n::{self, Texts};
use crate::logic::amount::{self, AmountProblem};
use crate::logic::failure::Failure;
use crate::logic::order::{self as merchant_order, OrderStart};
use crate::logic::outcome::Outcome;
use crate::logic::stage::Stage;
use crate::options::Options;
use crate::{format, outcome};

#[derive(Clone)]
pub struct State {
    pub stage: Stage,
    pub outcome: Outcome,
    /// What the proxy said at mount: limits, script URL, sandbox or not.
    pub config: Option<WidgetConfig>,
    pub amount: String,
    pub comment: String,
    /// The payer has typed or tried to pay: time to show validation messages.
    pub touched: bool,
    /// Idempotency-Key of the current attempt; editing the form starts a new attempt.
    pub attempt_key: Option<String>,
    /// Invoice and key of the order whose outcome is shown.
    pub order: Option<(String, String)>,
    /// The merchant order being paid (`data-order`), as the proxy described it.
    pub merchant_order: Option<OrderView>,
    /// The payer ticked the consent to save the card (shown only when the shop offers it).
    pub save_card: bool,
}

impl State {
    pub fn amount_problem(&self, options: &Options) -> Option<AmountProblem> {
        if options.amount.is_some() || !self.touched {
            return None;
        }
        let limits = self.config.as_ref().and_then(|c| Some((Amount::parse(&c.min_amount).ok()?, Amount::parse(&c.max_amount).ok()?)));
        amount::check(&self.amount, limits).err()
    }

    pub fn amount_error(&self, options: &Options) -> String {
        let Some(problem) = self.amount_problem(options) else { return String::new() };
        let currency = self.config.as_ref().map_or("KZT", |c| c.currency.as_str());
        amount::message(i18n::texts(options.language), problem, |a| format::money(a, currency, options.language))
    }

    pub fn comment_error(&self, texts: &Texts) -> String {
        String::from(if self.comment.len() > DESCRIPTION_MAX_BYTES { texts.comment_too_long } else { "" })
    }
}

/// What the form and the panel share.
#[derive(Clone)]
pub struct Widget {
    pub state: RwSignal<State>,
    pub options: Options,
    pub texts: &'static Texts,
    /// Where the host-page events are dispatched.
    pub host: HtmlElement,
}

impl Widget {
    pub fn text_of(&self, f: fn(&State) -> String) -> Signal<String> {
        let state = self.state;
        Signal::derive(move || state.with(f))
    }

    pub fn flag_of(&self, f: fn(&State) -> bool) -> Signal<bool> {
        let state = self.state;
        Signal::derive(move || state.with(f))
    }

    /// Shows the outcome of `order`, asking the proxy until it is final. Stops when the widget
    /// is unmounted (its state is gone) or shows the form again. With `may_pay` (a merchant
    /// order, at mount) the first answer may instead open the form to pay it.
    pub fn check_outcome(&self, order: (String, String), may_pay: bool) {
        let state = self.state;
        state.update(|s| {
            s.order = Some(order.clone());
            s.stage = Stage::Outcome;
            s.outcome = Outcome::Checking;
        });
        let options = &self.options;
        let (proxy, language, method, poll_base_ms, returning) =
            (options.proxy.clone(), options.language, options.method, options.poll_base_ms, options.returning);
        let (host, invoice_id) = (self.host.clone(), order.0.clone());
        // Each status is announced once per follow (the view asks again while pending).
        let announced = Cell::new(None);
        let heard = move |view: &OrderView| {
            let first = announced.get().is_none();
            if may_pay && first {
                events::emit(&host, "epay:ready", Detail::of_view(&invoice_id, view));
                if merchant_order::start(view.status, view.payable, returning) == OrderStart::Pay {
                    announced.set(Some(view.status));
                    let view = view.clone();
                    state.update(|s| {
                        s.merchant_order = Some(view);
                        s.stage = Stage::Ready;
                    });
                    return;
                }
            }
            if announced.replace(Some(view.status)) != Some(view.status) {
                events::emit(&host, merchant_order::event_for(view.status), Detail::of_view(&invoice_id, view));
            }
        };
        spawn_local(async move {
            let show = move |o: Outcome| {
                state
                    .try_update(|s| {
                        s.outcome = o;
                        s.stage == Stage::Outcome
                    })
                    .unwrap_or(false)
            };
            outcome::follow(&proxy, &order, language, method, poll_base_ms, heard, show).await
        });
    }

    /// Tells the host page that a request to the proxy failed (`reason`: the error code).
    pub fn emit_failure(&self, invoice_id: Option<&str>, failure: &Failure) {
        events::emit(&self.host, "epay:error", Detail { invoice_id, reason: Some(failure.code_name()), ..Detail::default() });
    }
}
