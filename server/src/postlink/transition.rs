//! What an authentic notification does to an order. A final state never regresses; the
//! same notification twice changes nothing.

use super::parse::Notification;
use crate::store::orders::{OrderRow, OrderState};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Move the order to this state.
    Move(OrderState),
    /// Seen before: nothing to do.
    Duplicate,
    /// Authentic but too late or out of place; recorded, the order keeps its state.
    Ignore(&'static str),
    /// Authentic, recorded, the order keeps its state, and a human should look at it.
    IgnoreAndFlag(&'static str),
}

/// `success` is the notification's own verdict (`code == "ok"`). A success never pays by
/// itself: it makes the order `confirming`, and the status API decides (crate::confirm).
pub fn decide(order: &OrderRow, n: &Notification, success: bool) -> Decision {
    let same_transaction = match (&order.transaction_id, &n.transaction_id) {
        (Some(known), Some(new)) => known == new,
        // Without a transaction id to compare, a repeat for the same outcome is a duplicate.
        _ => true,
    };
    use OrderState::*;
    match (success, order.status) {
        (true, Paid | Confirming | Authorized | Cancelled | Refunded) if same_transaction => Decision::Duplicate,
        (true, Paid | Confirming | Authorized | Cancelled | Refunded) => {
            Decision::IgnoreAndFlag("a second successful transaction for an order already paid")
        }
        (true, Review) => Decision::Ignore("the order is under review"),
        // Money moved: even an expired or failed order takes the success.
        (true, Open | Created | Pending | StartFailed | Failed | Expired) => Decision::Move(Confirming),

        (false, Failed) if same_transaction => Decision::Duplicate,
        (false, Paid | Authorized | Cancelled | Refunded) => Decision::Ignore("a failure after the order was paid"),
        (false, Confirming) => Decision::Ignore("a failure while a success is being confirmed"),
        (false, Review) => Decision::Ignore("the order is under review"),
        (false, Open | Created | Pending | StartFailed | Failed | Expired) => Decision::Move(Failed),
    }
}
