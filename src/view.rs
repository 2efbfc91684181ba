//! The widget: one `RwSignal<State>`, the skeleton of `markup.rs`, and the bindings and
//! handlers that connect them. Checkout form and outcome panel share the skeleton; the
//! stage decides which one shows.

use epay_api_types::{Amount, DESCRIPTION_MAX_BYTES, WidgetConfig};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::Element;

use crate::bind::{self, find, first};
use crate::checkout::{self, Stage};
use crate::markup::{self, class};
use crate::options::Options;
use crate::outcome::{self, Outcome};
use crate::{api, dom, format, i18n, loader};

#[derive(Clone)]
struct State {
    stage: Stage,
    outcome: Outcome,
    /// What the proxy said at mount: limits, script URL, sandbox or not.
    config: Option<WidgetConfig>,
    amount: String,
    comment: String,
    /// The payer has typed or tried to pay: time to show validation messages.
    touched: bool,
    /// Idempotency-Key of the current attempt; editing the form starts a new attempt.
    attempt_key: Option<String>,
    /// Invoice and key of the order whose outcome is shown.
    order: Option<(String, String)>,
}

impl State {
    fn amount_error(&self, options: &Options) -> String {
        if options.amount.is_some() || !self.touched {
            return String::new();
        }
        let limits = self.config.as_ref().map(|c| (c.min_amount.clone(), c.max_amount.clone(), c.currency.clone()));
        let texts = i18n::texts(options.language);
        checkout::amount_problem(texts, &self.amount, limits, options.language).err().unwrap_or_default()
    }

    fn comment_error(&self, options: &Options) -> String {
        let too_long = self.comment.len() > DESCRIPTION_MAX_BYTES;
        String::from(if too_long { i18n::texts(options.language).comment_too_long } else { "" })
    }

    fn busy(&self) -> bool {
        matches!(self.stage, Stage::Creating | Stage::Leaving)
    }
}

/// Renders the widget into `root` and starts it (config fetch, or the outcome check when
/// the page is a return from ePay). Must run inside a reactive `Owner`.
pub fn start(root: &Element, options: Options, id: &str) {
    let texts = i18n::texts(options.language);
    let wording = texts.wording(options.method);
    let language = options.language;
    root.set_inner_html(&markup::skeleton(texts, wording, id));
    let state = RwSignal::new(State {
        stage: Stage::Ready,
        outcome: Outcome::Checking,
        config: None,
        amount: String::new(),
        comment: String::new(),
        touched: false,
        attempt_key: None,
        order: None,
    });
    let text_of = move |f: fn(&State) -> String| Signal::derive(move || state.with(f));
    let flag_of = move |f: fn(&State) -> bool| Signal::derive(move || state.with(f));

    let check_outcome = {
        let proxy = options.proxy.clone();
        let poll_base_ms = options.poll_base_ms;
        let method = options.method;
        move |order: (String, String)| {
            state.update(|s| {
                s.order = Some(order.clone());
                s.stage = Stage::Outcome;
                s.outcome = Outcome::Checking;
            });
            let proxy = proxy.clone();
            spawn_local(async move {
                outcome::follow(&proxy, &order, language, method, poll_base_ms, move |o| state.update(|s| s.outcome = o)).await
            });
        }
    };

    // Checkout form.
    let form = find(root, class::FORM);
    bind::flag(form.clone(), "hidden", flag_of(|s| s.stage == Stage::Outcome));
    bind::flag(find(root, class::SANDBOX), "hidden", flag_of(|s| !s.config.as_ref().is_some_and(|c| c.sandbox)));
    let preset = options.amount;
    let total = Signal::derive(move || {
        let currency = state.with(|s| s.config.as_ref().map_or_else(|| String::from("KZT"), |c| c.currency.clone()));
        preset.map(|amount| format::money(amount, &currency, language)).unwrap_or_default()
    });
    let total_row = find(root, class::TOTAL);
    if preset.is_some() {
        let _ = total_row.remove_attribute("hidden");
        bind::text(first(&total_row, "strong"), total);
        bind::text(find(root, class::PAY_AMOUNT), total);
    }

    let amount_field = find(root, class::AMOUNT_FIELD);
    let amount_input = first(&amount_field, "input");
    if preset.is_none() {
        let options = options.clone();
        let error = Signal::derive(move || state.with(|s| s.amount_error(&options)));
        bind::field(&amount_field, error, move |value| {
            state.update(|s| {
                s.amount = value;
                s.attempt_key = None;
                s.touched = true;
            })
        });
    }
    if options.description.is_none() {
        let options = options.clone();
        let error = Signal::derive(move || state.with(|s| s.comment_error(&options)));
        bind::field(&find(root, class::COMMENT_FIELD), error, move |value| {
            state.update(|s| {
                s.comment = value;
                s.attempt_key = None;
            })
        });
    }

    let pay = find(root, class::PAY);
    bind::flag(pay.clone(), "disabled", flag_of(State::busy));
    bind::attribute(pay, "aria-busy", text_of(|s| s.busy().to_string()));
    bind::text(find(root, class::STATUS), Signal::derive(move || state.with(|s| stage_status(s, texts, wording))));
    let problem = find(root, class::PROBLEM);
    bind::flag(problem.clone(), "hidden", flag_of(|s| !matches!(s.stage, Stage::Problem(_))));
    bind::text(
        first(&problem, "p"),
        text_of(|s| match s.stage {
            Stage::Problem(text) => String::from(text),
            _ => String::new(),
        }),
    );

    let submit = {
        let options = options.clone();
        let check_outcome = check_outcome.clone();
        move || {
            let attempt = state
                .try_update(|s| {
                    if s.busy() {
                        return None;
                    }
                    s.touched = true;
                    let amount = options.amount.map_or_else(|| Amount::parse_typed(&s.amount), Ok).ok()?;
                    if !s.amount_error(&options).is_empty() || !s.comment_error(&options).is_empty() {
                        return None;
                    }
                    // Without the browser's CSPRNG there is no safe Idempotency-Key: say so
                    // rather than send a guessable one.
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
                if !state.with_untracked(State::busy) {
                    let _ = wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&amount_input).focus();
                }
                return;
            };
            let request = checkout::request(&options, amount, &comment);
            let (proxy, method, check_outcome) = (options.proxy.clone(), options.method, check_outcome.clone());
            spawn_local(async move {
                let stage = checkout::pay(&proxy, method, &request, &key, texts, check_outcome).await;
                state.update(|s| {
                    // The overlay may already have closed and switched to the outcome.
                    if s.stage == Stage::Creating {
                        s.stage = stage;
                    }
                });
            });
        }
    };
    let retry = submit.clone();
    bind::on(&form, "submit", move |event| {
        event.prevent_default();
        submit();
    });
    bind::on(&find(&problem, class::RETRY), "click", move |_| {
        state.update(|s| s.stage = Stage::Ready);
        retry();
    });
    // Back from ePay with the browser's Back button, the page may come from the
    // back-forward cache with the button still busy.
    dom::on_window("pageshow", move || {
        state.update(|s| {
            if s.stage == Stage::Leaving {
                s.stage = Stage::Ready;
            }
        })
    });

    // Outcome panel.
    let panel = find(root, class::OUTCOME);
    bind::flag(panel.clone(), "hidden", flag_of(|s| s.stage != Stage::Outcome));
    bind::attribute(panel.clone(), "data-outcome", text_of(|s| String::from(s.outcome.name())));
    bind::text(find(&panel, class::MESSAGE), Signal::derive(move || state.with(|s| s.outcome.message(texts))));
    let card = find(&panel, class::CARD);
    bind::flag(card.clone(), "hidden", flag_of(|s| !matches!(s.outcome, Outcome::Paid { card: Some(_), .. })));
    bind::text(card, Signal::derive(move || state.with(|s| s.outcome.card(texts))));
    let again = find(&panel, class::AGAIN);
    let _ = again.set_attribute("href", &dom::path());
    bind::flag(again, "hidden", flag_of(|s| !s.outcome.can_pay_again()));
    let check_again = find(&panel, class::CHECK_AGAIN);
    bind::flag(check_again.clone(), "hidden", flag_of(|s| s.outcome != Outcome::StillWaiting));
    {
        let check_outcome = check_outcome.clone();
        bind::on(&check_again, "click", move |_| {
            if let Some(order) = state.with_untracked(|s| s.order.clone()) {
                check_outcome(order);
            }
        });
    }

    match options.order.clone() {
        Some(order) => check_outcome(order),
        None => {
            // Limits and the script URL; payment-api.js starts loading now so a click never waits.
            let proxy = options.proxy.clone();
            spawn_local(async move {
                if let Ok(config) = api::widget_config(&proxy).await {
                    loader::preload(&config.script_url);
                    state.update(|s| s.config = Some(config));
                }
            });
        }
    }
}

fn stage_status(state: &State, texts: &i18n::Texts, wording: &i18n::Wording) -> String {
    String::from(match state.stage {
        Stage::Creating => wording.creating,
        Stage::Leaving => texts.redirecting,
        _ => "",
    })
}
