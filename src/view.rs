//! The widget started: the skeleton of `markup.rs` rendered and found once as `Nodes`, the
//! form (`form.rs`) and the outcome panel (`panel.rs`) bound to one `Widget` (`widget.rs`),
//! and the first request (the settings, or the outcome of the order on the page). Runs
//! inside the mount's `Owner`, which owns every binding and listener.

use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::{Element, HtmlElement};

use crate::events::{self, Detail};
use crate::i18n;
use crate::logic::outcome::Outcome;
use crate::logic::stage::Stage;
use crate::nodes::{MissingNode, Nodes};
use crate::options::Options;
use crate::widget::{State, Widget};
use crate::{api, dom, form, loader, markup, panel};

/// Renders the widget into `root` and starts it (config fetch, or the outcome check when the
/// page is a return from ePay). Must run inside the mount's reactive `Owner`.
pub fn start(host: HtmlElement, root: &Element, options: Options, id: &str) -> Result<(), MissingNode> {
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
        merchant_order: None,
        save_card: false,
    });
    let widget = Widget { state, options, texts, host };
    form::bind(&widget, &nodes);
    panel::bind(&widget, &nodes);

    // A merchant order on the page: the proxy says what it costs and whether it can still be
    // paid; the payer pays it, or sees what became of it.
    let merchant = widget.options.order_on_page;
    match widget.options.order.clone() {
        Some(order) if merchant => widget.check_outcome(order, true),
        Some(order) => {
            widget.check_outcome(order, false);
            return Ok(());
        }
        None => {}
    }
    // Limits and the script URL; payment-api.js starts loading now so a click never waits.
    let pending = dom::get(&widget.host, "epayConfig");
    spawn_local(async move {
        match api::widget_config(&widget.options.proxy, pending).await {
            Ok(config) => {
                loader::preload(&config.script_url);
                if !merchant {
                    events::emit(&widget.host, "epay:ready", Detail { currency: Some(&config.currency), ..Detail::default() });
                }
                let _ = state.try_update(|s| s.config = Some(config));
            }
            Err(failure) => widget.emit_failure(None, &failure),
        }
    });
    Ok(())
}
