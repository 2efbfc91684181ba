//! Sends postLink / failurePostLink notifications in the JSON shapes of the seed's samples.
//! Success notifications carry the secret_hash the token was issued with (the seed says ePay
//! returns it to the postLink); failure notifications carry none, like the seed's failure
//! sample (and `omitSecretHash` leaves it out of successes too). Like the samples, no `fee`:
//! with `feeInAmount` a transfer's amount includes it. The first attempt happens before the payer is redirected; failed
//! attempts are retried in the background with doubling delays. Only the proxy's own origin
//! is ever notified.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::state::{PaySession, Transaction};
use super::{Sandbox, amount_json};

const ATTEMPTS: u32 = 6;
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// `card_id`: the card the payment saved (`cardSave`); a success without one carries an id
/// that names no saved card (ePay's sample always has a `cardId`; whether ePay sends one
/// without `cardSave` is unconfirmed, so the proxy must not take it for a saved card).
pub async fn notify(sandbox: &Arc<Sandbox>, session: &PaySession, transaction: &Transaction, holder: &str, card_id: Option<&str>) {
    let success = transaction.reason_code == 0;
    let terms = &session.terms;
    // ePay sends failures to postLink when failurePostLink is empty.
    let url = if success || terms.failure_post_link.is_empty() { &terms.post_link } else { &terms.failure_post_link };
    if !sandbox.notifies_the_proxy(url) {
        tracing::error!(%url, "sandbox: refusing to notify a host other than this proxy");
        return;
    }
    let control = sandbox.control().clone();
    let mut body = if success { success_body(session, transaction, holder, card_id) } else { failure_body(session, transaction, holder) };
    if control.omit_secret_hash {
        body.as_object_mut().expect("a JSON object").remove("secret_hash");
    }
    // The merchant document's samples carry no fee: with `feeInAmount` the amount includes it.
    body["amount"] = amount_json(transaction.reported_amount(control.fee_in_amount));
    let first_retry = control.delivery_retry_ms.map_or(FIRST_RETRY, Duration::from_millis);

    if deliver(sandbox, url, &body).await {
        return;
    }
    let (sandbox, url) = (sandbox.clone(), url.clone());
    tokio::spawn(async move {
        let mut delay = first_retry;
        for _ in 1..ATTEMPTS {
            tokio::time::sleep(delay).await;
            if deliver(&sandbox, &url, &body).await {
                return;
            }
            delay *= 2;
        }
        tracing::warn!(%url, "sandbox: postLink given up after {ATTEMPTS} attempts");
    });
}

async fn deliver(sandbox: &Sandbox, url: &str, body: &Value) -> bool {
    match sandbox.http.post(url).json(body).send().await {
        Ok(response) if response.status().is_success() => true,
        Ok(response) => {
            tracing::warn!(%url, status = response.status().as_u16(), "sandbox: postLink refused");
            false
        }
        Err(err) => {
            tracing::warn!(%url, error = %err.without_url(), "sandbox: postLink not delivered");
            false
        }
    }
}

fn success_body(session: &PaySession, t: &Transaction, holder: &str, card_id: Option<&str>) -> Value {
    let card_id = card_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    json!({
        "accountId": session.account_id,
        "amount": amount_json(t.amount),
        "approvalCode": t.approval_code,
        "cardId": card_id,
        "cardMask": t.card_mask,
        "cardType": super::status_api::card_type(&t.card_mask),
        "code": "ok",
        "currency": t.currency,
        "dateTime": t.created_at,
        "description": session.description,
        "email": session.email,
        "id": t.id,
        "invoiceId": t.invoice_id,
        "ip": "127.0.0.1",
        "ipCity": "",
        "ipCountry": "",
        "ipDistrict": "",
        "ipLatitude": 0,
        "ipLongitude": 0,
        "ipRegion": "",
        "issuer": "HALYK BANK (SANDBOX)",
        "language": session.language,
        "name": holder,
        "phone": session.phone,
        "reason": t.reason,
        "reasonCode": t.reason_code,
        "reference": t.reference,
        "secret_hash": session.terms.secret_hash.0,
        "secure": "no",
        "secureDetails": "F",
        "terminal": t.terminal,
    })
}

fn failure_body(session: &PaySession, t: &Transaction, holder: &str) -> Value {
    json!({
        "id": t.id,
        "dateTime": t.created_at,
        "invoiceId": t.invoice_id,
        "amount": amount_json(t.amount),
        "currency": t.currency,
        "terminal": t.terminal,
        "accountId": session.account_id,
        "description": session.description,
        "language": session.language,
        "cardMask": t.card_mask,
        "cardType": super::status_api::card_type(&t.card_mask),
        "issuer": "HALYK BANK (SANDBOX)",
        "reference": "",
        "secure": "no",
        "secureDetails": "F",
        "tokenRecipient": t.receiver_mask.clone().unwrap_or_default(),
        "code": "error",
        "reason": t.reason,
        "reasonCode": t.reason_code,
        "name": holder,
        "email": session.email,
        "phone": session.phone,
        "ip": "127.0.0.1",
        "ipCountry": "",
        "ipCity": "",
        "ipRegion": "",
        "ipDistrict": "",
        "ipLongitude": 0,
        "ipLatitude": 0,
    })
}
