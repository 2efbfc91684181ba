//! A person's way out of an operation in review: "ePay did it" (applied: `refund.succeeded`),
//! "ePay did not" (`refund.failed`: nothing moved, the order takes operations again) or "send
//! it again" (the same externalID; sent only if ePay's ledger, asked just before, still shows
//! no trace of it). Each settles the operation and its order in one transaction with the
//! person's record and `order.review_resolved`. The console (`POST /api/admin/orders/{id}/review`)
//! and the CLI (`epay-proxy operations resolve`) both come here.

use std::sync::Arc;

use axum::http::StatusCode;
use epay_api_types::ErrorCode;

use crate::AppState;
use crate::error::AppError;
use crate::store::admin::{self, ActionRow};
use crate::store::operations::{self, OperationRow, Resolution};
use crate::store::orders::{self, OrderRow};
use crate::store::{StoreError, Tx, now_ms};

/// What a person may decide about an operation in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Done,
    NotDone,
    SendAgain,
}

impl Decision {
    /// The decision's name in the console's API and the order's `reviewResolution`.
    pub fn parse(name: &str) -> Option<Decision> {
        match name {
            "done" => Some(Decision::Done),
            "not_done" => Some(Decision::NotDone),
            "send_again" => Some(Decision::SendAgain),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Decision::Done => "done",
            Decision::NotDone => "not_done",
            Decision::SendAgain => "send_again",
        }
    }
}

/// Why a decision could not be taken.
#[derive(Debug)]
pub enum Refused {
    NoOrder,
    /// The order has no operation in review (it is in this state).
    NothingInReview(orders::OrderState),
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
) -> Result<Result<(OperationRow, OrderRow), Refused>, StoreError> {
    let Some(order) = orders::find_by_invoice(tx, invoice_id)? else { return Ok(Err(Refused::NoOrder)) };
    let Some(op) = operations::in_review(tx, order.id)? else { return Ok(Err(Refused::NothingInReview(order.status))) };
    let said = format!("a person decided ({}): {}", decision.name(), action.checked.as_deref().unwrap_or_default());
    let resolution = match decision {
        Decision::Done => Resolution::Done,
        Decision::NotDone => Resolution::NotDone,
        Decision::SendAgain => Resolution::SendAgain(claim_until_ms),
    };
    let action = ActionRow {
        order_id: Some(order.id),
        operation_id: Some(op.id),
        action: crate::admin::actions::RESOLVE_REVIEW.into(),
        decision: Some(decision.name().into()),
        ..action
    };
    admin::record_action(tx, &action)?;
    crate::admin::actions::make_event(tx, order.id, "order.review_resolved")?;
    operations::resolve_review(tx, op.id, resolution, &said)?;
    Ok(Ok((op, order)))
}

/// The console's decision: settled, and a "send again" sent now (by this request, claimed for
/// one step). Returns the order as it then stands.
pub async fn decide(app: &Arc<AppState>, invoice_id: &str, decision: Decision, action: ActionRow) -> Result<OrderRow, AppError> {
    let claim = now_ms() + super::lease_ms(app);
    let invoice = invoice_id.to_owned();
    let settled = app.store.write(move |tx| settle(tx, &invoice, decision, action.clone(), claim)).await?;
    let (op, order) = match settled {
        Ok(settled) => settled,
        Err(Refused::NoOrder) => return Err(AppError::not_found(format!("no order with invoice id `{invoice_id}`"))),
        Err(Refused::NothingInReview(state)) => return Err(nothing_in_review(invoice_id, state)),
    };
    if decision == Decision::SendAgain {
        let (id, order_id) = (op.id, order.id);
        let op = app.store.read(move |db| operations::find(db, id)).await?.ok_or_else(|| AppError::internal("an operation vanished"))?;
        // Claimed by this request: on its own task, so a person who leaves does not leave it half sent.
        let order = app.store.read(move |db| orders::find_by_id(db, order_id)).await?.ok_or_else(|| AppError::internal("vanished"))?;
        tokio::spawn(super::perform(app.clone(), op, order)).await.map_err(AppError::internal)??;
    }
    let order_id = order.id;
    app.store.read(move |db| orders::find_by_id(db, order_id)).await?.ok_or_else(|| AppError::internal("an order vanished"))
}

pub fn nothing_in_review(invoice_id: &str, state: orders::OrderState) -> AppError {
    AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, nothing_in_review_text(invoice_id, state))
}

fn nothing_in_review_text(invoice_id: &str, state: orders::OrderState) -> String {
    format!(
        "order {invoice_id} has no capture, cancel or refund in review (it is {}): done, not_done and send_again decide one",
        state.name()
    )
}

/// `epay-proxy operations resolve <invoiceId> done|not-done|send-again --checked TEXT [--by NAME]
/// [--note TEXT]`: the same decision from a shell on call. A "send again" is due at once for the
/// running proxy's lookup worker, which sends it only if ePay still shows no trace. Returns what
/// to print, or why nothing was done.
pub async fn from_cli(store: &crate::store::Store, args: &[&str]) -> Result<String, String> {
    let [invoice_id, decision, options @ ..] = args else { return Err(CLI_USAGE.into()) };
    let decision = Decision::parse(&decision.replace('-', "_")).ok_or_else(|| format!("`{decision}`: {CLI_USAGE}"))?;
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
    let action = ActionRow { actor: format!("{by} (cli)"), checked: Some(checked), note, at: crate::store::now(), ..ActionRow::default() };
    let invoice = (*invoice_id).to_owned();
    let settled = store.write(move |tx| settle(tx, &invoice, decision, action.clone(), now_ms())).await.map_err(|e| e.to_string())?;
    match settled {
        Ok((op, _)) => Ok(match decision {
            Decision::SendAgain => format!(
                "{} op_{} on order {invoice_id} is due to be sent again: a running proxy sends it within a second if ePay still shows no trace of it",
                op.kind.as_str(),
                op.id
            ),
            _ => format!("{} op_{} on order {invoice_id} settled: {}", op.kind.as_str(), op.id, decision.name()),
        }),
        Err(Refused::NoOrder) => Err(format!("no order {invoice_id}")),
        Err(Refused::NothingInReview(state)) => Err(nothing_in_review_text(invoice_id, state)),
    }
}

const CLI_USAGE: &str =
    "usage: epay-proxy operations resolve <invoiceId> done|not-done|send-again --checked \"what you looked at\" [--by NAME] [--note TEXT]";
