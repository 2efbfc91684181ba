//! What a checkout with an Idempotency-Key does when the key already has an order. Pure, like
//! `confirm::decide`: `begin_checkout` reads the order, asks this, and acts.

use super::row::OrderRow;
use super::state::OrderState;

/// A token this close to expiry is replaced rather than handed out again.
pub const TOKEN_REUSE_MARGIN_SECS: i64 = 120;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// The key was used before with a different request body: refuse.
    KeyReused,
    /// The key's order has a usable token: answer with it.
    Ready,
    /// Another request with the key is obtaining the token right now: wait for it.
    InProgress,
    /// The token failed or is about to expire: this request starts the order again.
    Restart,
    /// The order is past checkout (paid, failed, expired...).
    Finished,
    /// A merchant order past its `expires_at` that nobody paid: it cannot be started.
    Expired,
    /// A merchant order past its `payable_until`: a new token would outlive it, so none is
    /// handed out (one already handed out stays usable).
    TooLateToStart,
}

/// What to do with `existing`, the order of a key, for a request with `fingerprint` at `now`
/// (unix seconds).
pub fn replay(existing: &OrderRow, fingerprint: &str, now: i64) -> Replay {
    if existing.request_fingerprint.as_deref() != Some(fingerprint) {
        return Replay::KeyReused;
    }
    by_state(existing, now)
}

/// What a start of a merchant order's payment does with it at `now` (the order is its own
/// idempotency key).
pub fn for_order(existing: &OrderRow, now: i64) -> Replay {
    // Expired by the maintenance round or by an earlier start: the same answer either way.
    if existing.status == OrderState::Expired {
        return Replay::Expired;
    }
    let before_payment = matches!(existing.status, OrderState::Open | OrderState::Created | OrderState::Pending | OrderState::StartFailed);
    if before_payment && existing.expires_at.is_some_and(|at| now >= at) {
        return Replay::Expired;
    }
    match by_state(existing, now) {
        Replay::Restart if existing.payable_until().is_some_and(|until| now >= until) => Replay::TooLateToStart,
        replay => replay,
    }
}

fn by_state(existing: &OrderRow, now: i64) -> Replay {
    let token_fresh = existing.token_expires_at.is_some_and(|at| at > now + TOKEN_REUSE_MARGIN_SECS);
    match existing.status {
        OrderState::Created => Replay::InProgress,
        OrderState::Pending if token_fresh => Replay::Ready,
        OrderState::Open | OrderState::Pending | OrderState::StartFailed => Replay::Restart,
        OrderState::Confirming
        | OrderState::Paid
        | OrderState::Failed
        | OrderState::Review
        | OrderState::Expired
        | OrderState::Authorized
        | OrderState::Cancelled
        | OrderState::Refunded => Replay::Finished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;

    fn order(status: OrderState, token_expires_at: Option<i64>) -> OrderRow {
        let new = NewOrder { idempotency_key: Some("key".into()), ..NewOrder::example(100, Default::default()) };
        OrderRow { status, token_expires_at, ..OrderRow::created(1, "123456789012".into(), &new, 0) }
    }

    #[test]
    fn a_key_answers_by_its_orders_state_and_token() {
        let now = 10_000;
        assert_eq!(replay(&order(OrderState::Created, None), "F", now), Replay::InProgress);
        assert_eq!(replay(&order(OrderState::Pending, Some(now + 7_200)), "F", now), Replay::Ready);
        assert_eq!(replay(&order(OrderState::Pending, Some(now + TOKEN_REUSE_MARGIN_SECS)), "F", now), Replay::Restart, "about to expire");
        assert_eq!(replay(&order(OrderState::Pending, None), "F", now), Replay::Restart);
        assert_eq!(replay(&order(OrderState::StartFailed, None), "F", now), Replay::Restart);
        for finished in [OrderState::Confirming, OrderState::Paid, OrderState::Failed, OrderState::Review, OrderState::Expired] {
            assert_eq!(replay(&order(finished, Some(now + 7_200)), "F", now), Replay::Finished, "{finished:?}");
        }
    }

    #[test]
    fn a_merchant_order_hands_out_no_new_token_that_would_outlive_it() {
        let expires_at = 100_000;
        let merchant = |status, token_expires_at| OrderRow { expires_at: Some(expires_at), ..order(status, token_expires_at) };
        let until = expires_at - crate::store::orders::DOCUMENTED_LIFETIME_SECS;
        assert_eq!(for_order(&merchant(OrderState::Open, None), until - 1), Replay::Restart);
        assert_eq!(for_order(&merchant(OrderState::Open, None), until), Replay::TooLateToStart);
        assert_eq!(for_order(&merchant(OrderState::StartFailed, None), until + 10), Replay::TooLateToStart);
        assert_eq!(for_order(&merchant(OrderState::Pending, Some(until + 60)), until + 10), Replay::TooLateToStart, "too near its end");
        assert_eq!(for_order(&merchant(OrderState::Pending, Some(until - 1)), until + 10), Replay::TooLateToStart, "expired");
        assert_eq!(for_order(&merchant(OrderState::Pending, Some(expires_at)), until + 10), Replay::Ready, "handed out before");
        assert_eq!(for_order(&merchant(OrderState::Open, None), expires_at), Replay::Expired);
        assert_eq!(for_order(&merchant(OrderState::Paid, None), expires_at + 1), Replay::Finished);
        assert_eq!(for_order(&merchant(OrderState::Expired, None), expires_at + 1), Replay::Expired, "whoever expired it");
    }

    #[test]
    fn another_body_under_the_same_key_is_refused_whatever_the_state() {
        for state in [OrderState::Created, OrderState::Pending, OrderState::Paid] {
            assert_eq!(replay(&order(state, Some(20_000)), "OTHER", 10_000), Replay::KeyReused);
        }
        let no_fingerprint = OrderRow { request_fingerprint: None, ..order(OrderState::Pending, Some(20_000)) };
        assert_eq!(replay(&no_fingerprint, "F", 10_000), Replay::KeyReused);
    }
}
