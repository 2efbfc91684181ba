//! The checks a postLink must pass before it may touch an order. ePay signs nothing: the
//! echoed secret_hash authenticates it, and the order's own fields must match.

use super::parse::Notification;
use crate::secrets::constant_time_eq;
use crate::store::orders::OrderRow;

/// Why a notification was rejected (stored with it, returned to the caller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    SecretHash,
    Terminal { got: Option<String> },
    Currency { got: Option<String> },
    Amount { got: Option<String> },
}

impl Mismatch {
    pub fn describe(&self, order: &OrderRow) -> String {
        match self {
            Mismatch::SecretHash => "secret_hash missing or wrong".to_owned(),
            Mismatch::Terminal { got } => format!("terminal {got:?} is not the order's"),
            Mismatch::Currency { got } => format!("currency {got:?} is not the order's {}", order.currency),
            Mismatch::Amount { got } => format!("amount {got:?} is not the order's {}", order.amount()),
        }
    }
}

/// Checks secret_hash first (in constant time) so nothing else is revealed to a forger, then
/// terminal, currency and amount.
pub fn check(order: &OrderRow, n: &Notification) -> Result<(), Mismatch> {
    let secret_ok = n.secret_hash.as_deref().is_some_and(|given| constant_time_eq(given, &order.secret_hash));
    if !secret_ok {
        return Err(Mismatch::SecretHash);
    }
    if !n.terminal.as_deref().is_some_and(|t| t.trim().eq_ignore_ascii_case(&order.terminal)) {
        return Err(Mismatch::Terminal { got: n.terminal.clone() });
    }
    if !n.currency.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(&order.currency)) {
        return Err(Mismatch::Currency { got: n.currency.clone() });
    }
    if n.amount() != Some(order.amount()) {
        return Err(Mismatch::Amount { got: n.amount.clone() });
    }
    Ok(())
}
