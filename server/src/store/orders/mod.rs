//! Orders, one concern per file: the state machine (`state`), the one writer of its moves with
//! their history and events (`change`), the moves themselves (`transitions`), the order as an
//! event keeps it (`snapshot`), the row model (`row`), the idempotency policy (`idempotency`,
//! pure), the start of a checkout (`begin`), invoice ids and their suffixes (`invoice_ids`),
//! the status API's schedule (`schedule`) and reads (`reads`).

mod begin;
mod change;
pub mod idempotency;
mod invoice_ids;
mod merchant;
mod reads;
mod row;
mod schedule;
mod snapshot;
mod state;
mod transitions;

pub use begin::{Begin, begin_checkout};
pub(crate) use change::{Move, change};
pub use change::{announce, announce_subscription, flag_for_review};
// The maintenance statements, for the test of their query plans.
#[cfg(test)]
pub(crate) use invoice_ids::{COUNT_HOLDING_SUFFIX, COUNT_MERCHANT_HOLDING_SUFFIX, RELEASE_SUFFIXES};
pub use invoice_ids::{OpenOrders, count_holding_suffix, count_merchant_holding_suffix, reclaim_suffix, release_suffixes};
#[cfg(test)]
pub(crate) use merchant::EXPIRE_OPEN_ORDERS;
pub use merchant::{Created, HistoryRow, OrderFilter, begin_order_checkout, create_merchant_order, expire_open_orders, history, list};
pub(in crate::store) use reads::lock_all;
pub use reads::{
    OrderKey, Related, created_between, find_by_id, find_by_idempotency_key, find_by_invoice, find_by_merchant_idempotency_key,
    find_by_reference, latest, lock_by_id, lock_by_invoice, related,
};
pub use row::{DOCUMENTED_LIFETIME_SECS, MerchantTerms, NewOrder, OrderRow, Outcome};
pub use schedule::{STATUS_CHECKS, claim_due_checks, schedule_check, schedule_hinted_check, stop_checking};
pub use snapshot::{OperationSnapshot, OrderSnapshot};
pub use state::{OrderState, announced_as, may_become};
#[cfg(test)]
pub(crate) use transitions::INTERRUPTED_STARTS;
pub use transitions::{
    expire, fail_interrupted_starts, record_start_failure, record_token, resolve_review, review_late_payment, send_to_review, set_outcome,
};
