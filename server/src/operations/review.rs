//! A person's way out of an operation in review: "ePay did it" (applied: `refund.succeeded`),
//! "ePay did not" (`refund.failed`: nothing moved, the order takes operations again), "send
//! it again" (the same externalID; sent only if ePay's ledger, asked just before, still shows
//! no trace of it), or "record ePay's ledger as it is" (asked now: the operation done or not
//! as ePay shows it, and what ePay returned beyond it, a refund made in its cabinet, recorded
//! as a refund of its own, so the proxy's ledger equals ePay's again). Each settles the
//! operation and its order in one transaction with the person's record and
//! `order.review_resolved`. The console (`POST /api/admin/orders/{id}/review`)
//! and the CLI (`epay-proxy operations resolve`) both come here.

use std::sync::Arc;

use axum::http::StatusCode;
use epay_api_types::{Action, ErrorCode, EventType};

use crate::epay::StatusKind;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::admin::{self, ActionRow};
use crate::store::operations::{self, OperationRow, Resolution};
use crate::store::orders::{self, OrderRow};
use crate::store::{StoreError, Tx, now_ms};

use super::confirm;

/// What a person may decide about an operation in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Done,
    NotDone,
    SendAgain,
    /// Record ePay's ledger as the status API shows it now.
    EpayLedger,
}

impl Decision {
    /// The decision about an operation that a person's decision (the console's API's word) is,
    /// if it is about one.
    pub fn of(decision: epay_api_types::Decision) -> Option<Decision> {
        match decision {
            epay_api_types::Decision::Done => Some(Decision::Done),
            epay_api_types::Decision::NotDone => Some(Decision::NotDone),
            epay_api_types::Decision::SendAgain => Some(Decision::SendAgain),
            epay_api_types::Decision::EpayLedger => Some(Decision::EpayLedger),
            epay_api_types::Decision::Paid | epay_api_types::Decision::Failed | epay_api_types::Decision::Refund => None,
        }
    }

    /// Its word in the console's API and the order's `reviewResolution`.
    pub fn wire(self) -> epay_api_types::Decision {
        match self {
            Decision::Done => epay_api_types::Decision::Done,
            Decision::NotDone => epay_api_types::Decision::NotDone,
            Decision::SendAgain => epay_api_types::Decision::SendAgain,
            Decision::EpayLedger => epay_api_types::Decision::EpayLedger,
        }
    }
}

/// Why a decision could not be taken.
#[derive(Debug)]
pub enum Refused {
    NoOrder,
    /// The order has no operation in review (it is in this state).
    NothingInReview(orders::OrderState),
    /// ePay's ledger cannot be recorded as it is; why.
    Ledger(String),
}

/// Settles the operation in review on `invoice_id` as `decision` says, in `tx`, with the
/// person's record (`action`, completed here) and `order.review_resolved`. A "send again" is
/// left claimed until `claim_until_ms`: the caller sends it then, or the lookup worker does
/// once that has passed. Returns the operation as it was and its order.
pub fn settle(
    tx: &mut Tx,
    invoice_id: &str,
    decision: Decision,
    action: ActionRow,
    claim_until_ms: i64,
    ledger: Option<&confirm::Adopted>,
) -> Result<Result<(OperationRow, OrderRow), Refused>, StoreError> {
    let Some(order) = orders::find_by_invoice(tx, invoice_id)? else { return Ok(Err(Refused::NoOrder)) };
    let Some(op) = operations::in_review(tx, order.id)? else { return Ok(Err(Refused::NothingInReview(order.status))) };
    let mut said = format!("a person decided ({}): {}", decision.wire(), action.checked.as_deref().unwrap_or_default());
    let resolution = match (decision, ledger) {
        (Decision::Done, _) => Resolution::Done,
        (Decision::NotDone, _) => Resolution::NotDone,
        (Decision::SendAgain, _) => Resolution::SendAgain(claim_until_ms),
        (Decision::EpayLedger, Some(ledger)) => {
            said = format!("{said}; {}", ledger.said);
            if ledger.done { Resolution::Done } else { Resolution::NotDone }
        }
        (Decision::EpayLedger, None) => return Ok(Err(Refused::Ledger("ePay's ledger was not asked".into()))),
    };
    let action = ActionRow {
        order_id: Some(order.id),
        operation_id: Some(op.id),
        action: Action::ResolveReview,
        decision: Some(decision.wire()),
        ..action
    };
    // The change first: the event's snapshot is the order as the decision left it.
    operations::resolve_review(tx, op.id, resolution, &said)?;
    if let Some(outside) = ledger.map(|l| l.outside_refund_minor).filter(|minor| *minor > 0) {
        let key = format!("{invoice_id}/refund/epay-ledger-{}", op.id);
        operations::record_outside_refund(tx, order.id, outside, &key, &said)?;
    }
    admin::record_action(tx, &action)?;
    orders::announce(tx, order.id, EventType::OrderReviewResolved, None)?;
    Ok(Ok((op, order)))
}

/// The console's decision: settled, and a "send again" sent now (by this request, claimed for
/// one step). Returns the order as it then stands.
pub async fn decide(app: &Arc<AppState>, invoice_id: &str, decision: Decision, action: ActionRow) -> Result<OrderRow, AppError> {
    let claim = now_ms() + super::lease_ms(app);
    let invoice = invoice_id.to_owned();
    let ledger = match decision {
        Decision::EpayLedger => Some(ask_ledger(&app.store, &app.epay, invoice_id).await.map_err(|refused| refusal(invoice_id, refused))?),
        _ => None,
    };
    let settled = app.store.write(move |tx| settle(tx, &invoice, decision, action.clone(), claim, ledger.as_ref())).await?;
    let (op, order) = settled.map_err(|refused| refusal(invoice_id, refused))?;
    if decision == Decision::SendAgain {
        let (id, order_id) = (op.id, order.id);
        let rows = app.store.read(move |db| Ok(operations::find(db, id)?.zip(orders::find_by_id(db, order_id)?))).await?;
        let (op, order) = rows.ok_or_else(|| AppError::internal("an operation or its order vanished"))?;
        // Claimed by this request: on its own task, so a person who leaves does not leave it half sent.
        tokio::spawn(super::perform(app.clone(), op, order)).await.map_err(AppError::internal)??;
    }
    let order_id = order.id;
    app.store.read(move |db| orders::find_by_id(db, order_id)).await?.ok_or_else(|| AppError::internal("an order vanished"))
}

/// What ePay's ledger says of the operation in review on `invoice_id`, asked now.
async fn ask_ledger(store: &crate::store::Store, epay: &crate::epay::EpayClient, invoice_id: &str) -> Result<confirm::Adopted, Refused> {
    let invoice = invoice_id.to_owned();
    let found = store
        .read(move |db| {
            let Some(order) = orders::find_by_invoice(db, &invoice)? else { return Ok(Err(Refused::NoOrder)) };
            Ok(match operations::in_review(db, order.id)? {
                Some(op) => Ok((op, order)),
                None => Err(Refused::NothingInReview(order.status)),
            })
        })
        .await
        .map_err(|err| Refused::Ledger(format!("the store could not be read ({err})")))??;
    let (op, order) = found;
    let answer = epay
        .transaction_status(StatusKind::for_method(order.method), &order.invoice_id, &order.terminal)
        .await
        .map_err(|err| Refused::Ledger(format!("ePay's status API could not be asked ({err}); try again")))?;
    confirm::adopt(&op, &order, &answer).map_err(Refused::Ledger)
}

fn refusal(invoice_id: &str, refused: Refused) -> AppError {
    match refused {
        Refused::NoOrder => AppError::not_found(format!("no order with invoice id `{invoice_id}`")),
        Refused::NothingInReview(state) => nothing_in_review(invoice_id, state),
        Refused::Ledger(why) => AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, format!("order {invoice_id}: {why}")),
    }
}

pub fn nothing_in_review(invoice_id: &str, state: orders::OrderState) -> AppError {
    AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, nothing_in_review_text(invoice_id, state))
}

fn nothing_in_review_text(invoice_id: &str, state: orders::OrderState) -> String {
    format!(
        "order {invoice_id} has no capture, cancel or refund in review (it is {}): done, not_done and send_again decide one",
        state.as_str()
    )
}

/// `epay-proxy operations resolve <invoiceId> done|not-done|send-again --checked TEXT [--by NAME]
/// [--note TEXT]`: the same decision from a shell on call. A "send again" is due at once for the
/// running proxy's lookup worker, which sends it only if ePay still shows no trace. Returns what
/// to print, or why nothing was done.
pub async fn from_cli(store: &crate::store::Store, epay: &crate::epay::EpayClient, args: &[&str]) -> Result<String, String> {
    let [invoice_id, decision, options @ ..] = args else { return Err(CLI_USAGE.into()) };
    let decision = epay_api_types::Decision::from_wire(&decision.replace('-', "_"))
        .and_then(Decision::of)
        .ok_or_else(|| format!("`{decision}`: {CLI_USAGE}"))?;
    let mut by = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "cli".into());
    let (mut checked, mut note) = (None, None);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let value = options.next().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        match (*option, value) {
            ("--checked", Some(value)) => checked = Some(value),
            ("--note", Some(value)) => note = Some(value),
            ("--by", Some(value)) => by = value,
            _ => return Err(CLI_USAGE.into()),
        }
    }
    let checked = checked.ok_or("--checked: say what you looked at, e.g. \"ePay cabinet: REFUND 500 at 14:02\"")?;
    let action =
        ActionRow { checked: Some(checked), note, ..ActionRow::new(Action::ResolveReview, format!("{by} (cli)"), crate::store::now()) };
    let ledger = match decision {
        Decision::EpayLedger => Some(ask_ledger(store, epay, invoice_id).await.map_err(|refused| refusal(invoice_id, refused).message)?),
        _ => None,
    };
    let invoice = (*invoice_id).to_owned();
    let settled = store
        .write(move |tx| settle(tx, &invoice, decision, action.clone(), now_ms(), ledger.as_ref()))
        .await
        .map_err(|e| e.to_string())?;
    match settled {
        Ok((op, _)) => Ok(match decision {
            Decision::SendAgain => format!(
                "{} op_{} on order {invoice_id} is due to be sent again: a running proxy sends it within a second if ePay still shows no trace of it",
                op.kind.as_str(),
                op.id
            ),
            _ => format!("{} op_{} on order {invoice_id} settled: {}", op.kind.as_str(), op.id, decision.wire()),
        }),
        Err(Refused::NoOrder) => Err(format!("no order {invoice_id}")),
        Err(Refused::NothingInReview(state)) => Err(nothing_in_review_text(invoice_id, state)),
        Err(Refused::Ledger(why)) => Err(why),
    }
}

const CLI_USAGE: &str = "usage: epay-proxy operations resolve <invoiceId> done|not-done|send-again|epay-ledger --checked \"what you looked at\" [--by NAME] [--note TEXT]";
