//! The widget: one `RwSignal<State>` over the skeleton of `markup.rs`, found once as `Nodes`.
//! The checkout form (`form.rs`) and the outcome panel (`panel.rs`) share the state; the
//! stage decides which one shows. Runs inside the mount's `Owner`, which owns every binding
//! and listener.

use epay_api_types::{Amount, DESCRIPTION_MAX_BYTES, WidgetConfig};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::Element;

use crate::i18n::{self, Texts, Wording};
use crate::logic::amount::{self, AmountProblem};
use crate::logic::outcome::Outcome;
use crate::logic::stage::Stage;
use crate::nodes::{MissingNode, Nodes};
use crate::options::Options;
use crate::{api, form, format, loader, markup, outcome, panel};

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
    pub wording: &'static Wording,
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
    /// is unmounted (its state is gone).
    pub fn check_outcome(&self, order: (String, String)) {
        let state = self.state;
        state.update(|s| {
            s.order = Some(order.clone());
            s.stage = Stage::Outcome;
            s.outcome = Outcome::Checking;
        });
        let (proxy, language, method, poll_base_ms) =
            (self.options.proxy.clone(), self.options.language, self.options.method, self.options.poll_base_ms);
        spawn_local(async move {
            outcome::follow(&proxy, &order, language, method, poll_base_ms, move |o| state.try_update(|s| s.outcome = o).is_some()).await
        });
    }
}

/// Renders the widget into `root` and starts it (config fetch, or the outcome check when the
/// page is a return from ePay). Must run inside the mount's reactive `Owner`.
pub fn start(root: &Element, options: Options, id: &str) -> Result<(), MissingNode> {
    let texts = i18n::texts(options.language);
    let wording = texts.wording(options.method);
    root.set_inner_html(&markup::skeleton(texts, wording, id));
    let nodes = Nodes::find(root)?;
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
    let widget = Widget { state, options, texts, wording };
    form::bind(&widget, &nodes);
    panel::bind(&widget, &nodes);

    match widget.options.order.clone() {
        Some(order) => widget.check_outcome(order),
        None => {
            // Limits and the script URL; payment-api.js starts loading now so a click never waits.
            let proxy = widget.options.proxy.clone();
            spawn_local(async move {
                if let Ok(config) = api::widget_config(&proxy).await {
                    loader::preload(&config.script_url);
                    let _ = state.try_update(|s| s.config = Some(config));
                }
            });
        }
    }
    Ok(())
}
