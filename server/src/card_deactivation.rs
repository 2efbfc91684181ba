//! Deleted cards are deactivated at ePay ("Deactivation of the Card ID"): at once when deleted,
//! then by this worker until ePay confirms, on whichever instance claims them. A deactivation
//! moves no money, so sending it again is safe; the card is never charged again from its
//! deletion on, whatever ePay answers (`store::cards::claim_charge_request`).

use std::sync::Arc;
use std::time::Duration;

use crate::state::AppState;
use crate::store::cards::{self, CardRow};
use crate::store::leases::{self, DEACTIVATIONS, Due};
use crate::store::{StoreError, now, now_ms};

/// Attempts before the proxy gives up asking ePay (about a day and a half of retries).
const MAX_ATTEMPTS: i64 = 40;

/// How long the worker sleeps when nothing is due.
const IDLE: Duration = Duration::from_secs(5);

pub async fn run(app: Arc<AppState>) {
    loop {
        let lease = leases::lease_ms(app.config.epay.timeout);
        let due = leases::claim_if_due(&app.store, &DEACTIVATIONS, move |tx, now| cards::claim_due_deactivations(tx, now, now + lease, 16));
        match due.await {
            Ok(Due::Claimed(due)) => {
                for card in due {
                    if let Err(err) = deactivate(&app, &card).await {
                        tracing::error!(error = %err, "cannot record a card's deactivation");
                    }
                }
                continue;
            }
            Ok(Due::Idle { .. }) => {}
            Err(err) => tracing::error!(error = %err, "cannot read the deactivations schedule"),
        }
        tokio::time::sleep(IDLE).await;
    }
}

/// Asks ePay to deactivate `card` and records the answer: done, or tried again later (a minute
/// after the first failure, doubling to an hour). Returns whether ePay confirmed it.
pub async fn deactivate(app: &AppState, card: &CardRow) -> Result<bool, StoreError> {
    let outcome = app.epay.deactivate_card(&card.terminal, &card.epay_card_id).await;
    let id = card.id;
    // ePay's pages print no error for a card it does not know or has deactivated already:
    // after `MAX_ATTEMPTS` the proxy stops asking (the card is never charged either way).
    let retry_ms = (card.deactivate_attempts + 1 < MAX_ATTEMPTS).then(|| now_ms() + retry_delay_ms(card.deactivate_attempts));
    let done = outcome.is_ok();
    match &outcome {
        Ok(()) => tracing::info!(card = %card.card_ref, "card deactivated at ePay"),
        Err(err) => tracing::warn!(card = %card.card_ref, error = %err, "card not deactivated at ePay yet; tried again later"),
    }
    let recorded = outcome.map(|()| now()).map_err(|err| (err.to_string(), retry_ms));
    app.store.write(move |tx| cards::record_deactivation(tx, id, recorded.clone())).await?;
    Ok(done)
}

/// A minute, doubling per attempt, at most an hour. Pure.
fn retry_delay_ms(attempts: i64) -> i64 {
    60_000_i64.saturating_mul(1 << attempts.clamp(0, 6)).min(3_600_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(super::retry_delay_ms(0), 60_000);
        assert_eq!(super::retry_delay_ms(1), 120_000);
        assert_eq!(super::retry_delay_ms(40), 3_600_000);
    }
}
