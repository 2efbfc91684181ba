//! Issues due receipts (docs/fiscal-receipts.md), one at a time per instance, on whichever
//! instance claims each: what it lists is fixed before its first request; a receipt whose request
//! may have arrived is looked up under its external number before it is ever sent again; an
//! answer that says a person must act raises the cash register's alert, and the receipt waits.
//! Payments never wait for receipts.

use std::sync::Arc;
use std::time::Duration;

use super::plan::{Plan, plan};
use super::registrar::{Answer, Found, Registrar};
use super::webkassa::{Issued, Receipt};
use crate::state::AppState;
use crate::store::leases::{self, Due};
use crate::store::receipts::{self, ISSUING, IssuedReceipt, ReceiptRow};
use crate::store::{StoreError, now_ms};

/// How often an idle worker looks for due receipts.
const IDLE: Duration = Duration::from_secs(1);

/// How long an instance holds a receipt it claimed: twice a worker's usual lease, as an attempt
/// may authorise, look up, send, close the shift and send again.
pub fn lease_ms(timeout: Duration) -> i64 {
    leases::lease_ms(timeout) * 2
}

pub async fn run(app: Arc<AppState>, registrar: Arc<dyn Registrar>, timeout: Duration) {
    let lease = lease_ms(timeout);
    // An attempt is cut short well before its claim ends, so that no other instance takes the
    // receipt while a request of this one may still reach the registrar.
    let attempt_limit = Duration::from_millis((lease * 3 / 4) as u64);
    loop {
        let due = leases::claim_if_due(&app.store, &ISSUING, move |tx, now| {
            Ok(receipts::claim_due(tx, now, now + lease)?.into_iter().map(|row| (row, now + lease)).collect())
        });
        match due.await {
            Ok(Due::Claimed(claimed)) => {
                for (receipt, claimed_until) in claimed {
                    let id = receipt.id;
                    match tokio::time::timeout(attempt_limit, issue(&app, registrar.as_ref(), receipt, claimed_until)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => {
                            tracing::error!(receipt = id, error = %err, "cannot record a receipt's attempt; it is tried again when its claim ends")
                        }
                        Err(_) => tracing::warn!(
                            receipt = id,
                            "a receipt's attempt took too long and was cut short; it is looked up when its claim ends"
                        ),
                    }
                }
                continue;
            }
            Ok(Due::Idle { .. }) => {}
            Err(err) => tracing::error!(error = %err, "cannot read the receipts' schedule"),
        }
        tokio::time::sleep(IDLE).await;
    }
}

/// One attempt at `receipt`, claimed until `claimed_until`.
pub async fn issue(app: &AppState, registrar: &dyn Registrar, receipt: ReceiptRow, claimed_until: i64) -> Result<(), StoreError> {
    let (order_id, first) = (receipt.order_id, receipt.clone());
    let (order, earlier) = app.store.read(move |db| Ok((receipts::order_of(db, order_id)?, receipts::earlier(db, &first)?))).await?;
    let id = receipt.id;
    let Some(order) = order else { return record_failed(app, id, claimed_until, "its order is gone".to_owned()).await };
    let Plan { positions, return_basis } = match plan(&receipt, &order, &earlier) {
        Ok(planned) => planned,
        Err(why) => {
            tracing::error!(receipt = id, invoice_id = %receipt.invoice_id, error = %why, "a receipt cannot be made; a person looks");
            return record_failed(app, id, claimed_until, why).await;
        }
    };
    // Fixed before the first request: every later one sends the same receipt.
    let fixed = serde_json::to_string(&positions).expect("positions serialize");
    let fixed = app.store.write(move |tx| receipts::fix_positions(tx, id, &fixed)).await?;
    let positions: Vec<super::lines::Position> = match serde_json::from_str(&fixed) {
        Ok(positions) => positions,
        Err(err) => return record_failed(app, id, claimed_until, format!("its stored positions cannot be read: {err}")).await,
    };

    // Its request may have arrived before: if the registrar has it, it was issued.
    if receipt.sent_ms.is_some() {
        match registrar.look_up(&receipt.external_number).await {
            Answer::Done(Found::Issued(issued)) => return record_issued(app, registrar, id, claimed_until, issued).await,
            Answer::Done(Found::Nothing) => {}
            other => return wait(app, registrar, &receipt, claimed_until, other.describe()).await,
        }
    }
    let sent_at = now_ms();
    if !app.store.write(move |tx| receipts::mark_sent(tx, id, claimed_until, sent_at)).await? {
        return Ok(());
    }
    let to_issue = Receipt {
        positions: &positions,
        external_number: &receipt.external_number,
        order_number: &order.invoice_id,
        customer_email: Some(order.email.as_str()).filter(|e| !e.is_empty()),
        customer_phone: Some(order.phone.as_str()).filter(|p| !p.is_empty()),
        return_basis: return_basis.as_ref(),
    };
    match registrar.issue(&to_issue).await {
        Answer::Done(issued) => record_issued(app, registrar, id, claimed_until, issued).await,
        Answer::Refused(why) => {
            tracing::error!(receipt = id, invoice_id = %receipt.invoice_id, error = %why, "the registrar refused a receipt; a person looks");
            record_failed(app, id, claimed_until, why).await
        }
        other => wait(app, registrar, &receipt, claimed_until, other.describe()).await,
    }
}

async fn record_issued(app: &AppState, registrar: &dyn Registrar, id: i64, claimed_until: i64, issued: Issued) -> Result<(), StoreError> {
    let cashbox = registrar.cashbox().to_owned();
    let issued = IssuedReceipt {
        check_number: issued.check_number,
        ticket_url: issued.ticket_url,
        registration_number: issued.registration_number,
        local_time: issued.date_time,
        utc_time: issued.utc_time,
        offline: issued.offline,
        shift_number: issued.shift_number,
        issued_ms: now_ms(),
    };
    tracing::info!(receipt = id, fiscal_sign = %issued.check_number, offline = issued.offline, "fiscal receipt issued");
    let recorded = app.store.write(move |tx| receipts::record_issued(tx, id, claimed_until, &cashbox, &issued)).await?;
    if !recorded {
        tracing::warn!(receipt = id, "a receipt was issued after its claim ran out; the instance that has it now finds it by its number");
    }
    Ok(())
}

async fn record_failed(app: &AppState, id: i64, claimed_until: i64, why: String) -> Result<(), StoreError> {
    app.store.write(move |tx| receipts::record_failed(tx, id, claimed_until, &why)).await.map(|_| ())
}

/// Not issued this time: tried again after a pause that grows with its attempts; an alert is
/// kept on the cash register for a person.
async fn wait(
    app: &AppState,
    registrar: &dyn Registrar,
    receipt: &ReceiptRow,
    claimed_until: i64,
    (why, alert): (String, Option<&'static str>),
) -> Result<(), StoreError> {
    let (id, next) = (receipt.id, now_ms() + retry_delay_ms(receipt.attempts));
    let cashbox = registrar.cashbox().to_owned();
    match alert {
        Some(code) => tracing::error!(receipt = id, alert = code, error = %why, "the cash register needs a person; receipts wait"),
        None => tracing::warn!(receipt = id, error = %why, "receipt not issued yet; tried again later"),
    }
    app.store
        .write(move |tx| {
            if let Some(code) = alert {
                receipts::raise_alert(tx, &cashbox, code, &why)?;
            }
            receipts::retry_later(tx, id, claimed_until, &why, next)
        })
        .await
        .map(|_| ())
}

/// 10 s after the first attempt, doubling, at most an hour: tried for as long as it takes. Pure.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    10_000_i64.saturating_mul(1 << attempts.clamp(0, 9)).min(3_600_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_to_an_hour_and_go_on() {
        let delays: Vec<i64> = [0, 1, 2, 8, 9, 50].into_iter().map(super::retry_delay_ms).collect();
        assert_eq!(delays, [10_000, 20_000, 40_000, 2_560_000, 3_600_000, 3_600_000]);
    }
}
