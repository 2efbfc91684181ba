//! The safety properties of `evaluate`, as a checker the property tests and the fuzz targets
//! run over millions of notifications: a postLink moves an order only with the order's own
//! secret_hash; it never makes an order paid (only the status API does); a paid order never
//! leaves paid; a hint changes nothing.

use super::transition::Decision;
use super::verify::{self, Secret};
use super::{Evaluation, Notification};
use crate::store::orders::{OrderRow, OrderState};

/// The first property `evaluation` breaks for this order and notification, if any.
pub fn violation(order: Option<&OrderRow>, n: &Notification, evaluation: &Evaluation) -> Option<&'static str> {
    let Evaluation::Apply { decision, .. } = evaluation else { return None };
    let Some(order) = order else { return Some("applied to no order") };
    if verify::secret(order, n) != Secret::Matches {
        return Some("applied without the order's secret_hash");
    }
    match decision {
        Decision::Move(OrderState::Paid) => Some("a postLink made an order paid"),
        Decision::Move(_) if order.status == OrderState::Paid => Some("a paid order left paid"),
        _ => None,
    }
}
