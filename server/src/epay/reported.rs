//! What ePay reports, held against what the proxy has: shared by the postLink's checks and
//! the status API's decision. Pure.

use epay_api_types::Amount;

/// The order's amount, or the order's amount plus the fee ePay reports beside it.
pub fn amount_agrees(order: Amount, reported: Option<Amount>, fee: Option<Amount>) -> bool {
    let Some(reported) = reported else { return false };
    reported == order || fee.is_some_and(|fee| reported.minor() == order.minor() + fee.minor())
}

/// A reported value as a person reads it: the value, or "none".
pub fn shown(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("none")
}
