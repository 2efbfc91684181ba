//! The checks a postLink meets before it may touch an order. ePay signs nothing: the echoed
//! secret_hash authenticates it. Its other fields are compared with the order, but a genuine
//! notification that disagrees is not refused: ePay's own samples carry a different terminal
//! than the token's, so the status API decides (docs/epay-contract.md).

use super::parse::Notification;
use crate::epay::reported::{amount_agrees, shown};
use crate::secrets::constant_time_eq;
use crate::store::orders::OrderRow;

/// What the notification's secret_hash says about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// Echoes the order's own secret_hash: it came from ePay.
    Matches,
    /// Carries none, as the seed's samples do: it may come from ePay, or from anybody.
    Missing,
    /// Carries another one: forged.
    Wrong,
}

/// Compared in constant time, so a forger learns nothing from how long a refusal takes.
pub fn secret(order: &OrderRow, n: &Notification) -> Secret {
    // Compared exactly: " ABC" is not "ABC".
    match n.secret_hash.as_deref() {
        None | Some("") => Secret::Missing,
        Some(given) if constant_time_eq(given, order.secret_hash.expose()) => Secret::Matches,
        Some(_) => Secret::Wrong,
    }
}

/// Where an authentic notification disagrees with the order (terminal, currency, amount),
/// one phrase each; empty when it agrees. An amount that is the order's plus the reported
/// fee agrees: whether ePay includes a transfer's fee is not documented.
pub fn disagreements(order: &OrderRow, n: &Notification) -> Vec<String> {
    let mut found = Vec::new();
    if !n.terminal.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(&order.terminal)) {
        found.push(format!("terminal {} is not the order's {}", shown(&n.terminal), order.terminal));
    }
    if !n.currency.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(&order.currency)) {
        found.push(format!("currency {} is not the order's {}", shown(&n.currency), order.currency));
    }
    if !amount_agrees(order.amount(), n.amount(), n.fee()) {
        found.push(format!("amount {} is not the order's {}", shown(&n.amount), order.amount()));
    }
    found
}
