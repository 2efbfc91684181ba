//! The outcome panel: what the proxy says of an order, the masked card, "pay again" after a
//! failure, and "check again" after a long wait.

use crate::bind;
use crate::dom;
use crate::logic::outcome::Outcome;
use crate::logic::stage::Stage;
use crate::nodes::Nodes;
use crate::widget::Widget;
use leptos::prelude::*;

pub fn bind(widget: &Widget, nodes: &Nodes) {
    let (state, texts) = (widget.state, widget.texts);
    bind::flag(nodes.outcome.clone(), "hidden", widget.flag_of(|s| s.stage != Stage::Outcome));
    bind::attribute(nodes.outcome.clone(), "data-outcome", widget.text_of(|s| String::from(s.outcome.name())));
    bind::text(nodes.message.clone(), Signal::derive(move || state.with(|s| s.outcome.message(texts))));
    bind::flag(nodes.card.clone(), "hidden", widget.flag_of(|s| !matches!(s.outcome, Outcome::Paid { card: Some(_), .. })));
    bind::text(nodes.card.clone(), Signal::derive(move || state.with(|s| s.outcome.card(texts))));
    bind::flag(nodes.receipt.clone(), "hidden", widget.flag_of(|s| s.outcome.receipt().is_none()));
    bind::attribute(nodes.receipt.clone(), "href", widget.text_of(|s| s.outcome.receipt().unwrap_or_default()));
    let _ = nodes.again.set_attribute("href", &dom::path());
    bind::flag(nodes.again.clone(), "hidden", widget.flag_of(|s| !s.outcome.can_pay_again()));
    bind::flag(nodes.check_again.clone(), "hidden", widget.flag_of(|s| !matches!(s.outcome, Outcome::StillWaiting | Outcome::Unreachable)));
    let widget = widget.clone();
    bind::on(&nodes.check_again, "click", move |_| {
        if let Some(order) = state.with_untracked(|s| s.order.clone()) {
            widget.check_outcome(order, false);
        }
    });
}
