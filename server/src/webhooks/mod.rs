//! Webhooks (Standard Webhooks 1.0): every event of the outbox (`store::webhooks`, written by
//! `store::orders::change` in the transaction of the change it announces) is POSTed to `WEBHOOK_URL`
//! as `{type, timestamp, data}`, signed with `WEBHOOK_SECRET` by the `standardwebhooks` crate.
//! A 2xx answer delivers it; anything else, a redirect or a timeout is retried with growing
//! pauses for 3 days (`schedule.rs`), with the same `webhook-id` every time, so a receiver
//! deduplicates. The schedule lives in the database: a restart resumes it.

pub mod schedule;

use std::sync::Arc;
use std::time::{Duration, Instant};

use epay_api_types::WebhookPayload;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::store::leases::{self, Due};
use crate::store::webhooks::{self, Attempt, EventRow};
use crate::store::{Store, StoreError, now_ms, orders};

/// The most events claimed from the schedule at a time (never more than there are free slots).
const BATCH: i64 = 256;
/// The longest the worker sleeps without looking at the schedule.
const IDLE_MS: i64 = 1_000;
/// How much of a receiver's answer is kept.
const RESPONSE_KEPT: usize = 1_024;

/// The signer and the HTTP client, built once.
pub struct Sender {
    url: url::Url,
    signer: standardwebhooks::Webhook,
    http: reqwest::Client,
    first_retry_ms: i64,
    concurrency: usize,
    /// How long a claimed event is this instance's to send (`leases::lease_ms`).
    lease_ms: i64,
}

impl Sender {
    pub fn new(settings: &crate::config::WebhookSettings) -> Option<Sender> {
        let (url, secret) = (settings.url.clone()?, settings.secret.as_ref()?);
        let signer = standardwebhooks::Webhook::new(secret.expose_secret()).ok()?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect is not a delivery: the receiver must answer at WEBHOOK_URL itself.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .ok()?;
        let (first_retry_ms, lease_ms) = (settings.first_retry.as_millis() as i64, leases::lease_ms(settings.timeout));
        Some(Sender { url, signer, http, first_retry_ms, concurrency: settings.concurrency, lease_ms })
    }
}

/// What each attempt needs: the store, the signer, and the settings its body is made with.
struct Deliveries {
    store: Store,
    sender: Sender,
    config: Arc<Config>,
}

/// A new signing secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Delivers due events, each attempt on its own task: at most `WEBHOOK_CONCURRENCY` in flight,
/// and a request the receiver holds open delays only its own event; the others are claimed and
/// sent meanwhile. When `stop` resolves, the attempts in flight are cut short and their events
/// handed back, due at once, instead of staying claimed until their leases end.
pub async fn run(store: Store, config: Arc<Config>, stop: impl Future<Output = ()>) {
    let Some(sender) = Sender::new(&config.webhooks) else { return };
    let app = Arc::new(Deliveries { store, sender, config });
    let sender = &app.sender;
    let mut stop = std::pin::pin!(stop);
    let mut in_flight = tokio::task::JoinSet::new();
    // The claim (event id, claimed until) of every attempt not finished yet.
    let mut claims = std::collections::HashMap::new();
    loop {
        while let Some(done) = in_flight.try_join_next_with_id() {
            claims.remove(&task_of(done));
        }
        let free = sender.concurrency.saturating_sub(in_flight.len());
        let next = if free == 0 {
            None
        } else {
            let (lease_ms, limit) = (sender.lease_ms, (free as i64).min(BATCH));
            let due =
                leases::claim_if_due(&app.store, &webhooks::DELIVERIES, move |tx, now| webhooks::claim_due(tx, now, now + lease_ms, limit));
            match due.await {
                Ok(Due::Claimed(due)) => {
                    for event in due {
                        let claim = (event.id, event.next_attempt_ms.unwrap_or_default());
                        let app = app.clone();
                        let task = in_flight.spawn(async move { deliver_logged(&app, event).await });
                        claims.insert(task.id(), claim);
                    }
                    continue;
                }
                Ok(Due::Idle { next_ms }) => next_ms,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read the webhook schedule");
                    None
                }
            }
        };
        let wait = next.map_or(IDLE_MS, |at| (at - now_ms()).clamp(5, IDLE_MS));
        tokio::select! {
            _ = &mut stop => break,
            _ = app.store.committed(), if free > 0 => {}
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)), if free > 0 => {}
            // An attempt ended: its slot is free.
            Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                claims.remove(&task_of(done));
            }
        }
    }
    in_flight.shutdown().await;
    let claims: Vec<(i64, i64)> = claims.into_values().collect();
    if !claims.is_empty() {
        let count = claims.len();
        match app.store.write(move |tx| webhooks::hand_back(tx, &claims, now_ms())).await {
            Ok(()) => tracing::info!(count, "webhook deliveries in flight handed back"),
            Err(err) => tracing::warn!(error = %err, "cannot hand back the webhook deliveries in flight; they wait for their leases"),
        }
    }
}

/// The task an attempt ran on, whether it finished or was cut short.
fn task_of(done: Result<(tokio::task::Id, ()), tokio::task::JoinError>) -> tokio::task::Id {
    done.map_or_else(|err| err.id(), |(id, ())| id)
}

async fn deliver_logged(app: &Deliveries, event: EventRow) {
    if let Err(err) = deliver(app, event).await {
        tracing::error!(error = %err, "cannot record a webhook attempt");
    }
}

/// One attempt at an event this instance claimed: fix the body (first attempt only), sign,
/// POST, record.
async fn deliver(app: &Deliveries, event: EventRow) -> Result<(), StoreError> {
    let sender = &app.sender;
    let body = match &event.payload {
        Some(body) => body.clone(),
        None => {
            let body = payload(app, &event).await?;
            let id = event.id;
            app.store.write(move |tx| webhooks::fix_payload(tx, id, &body)).await?
        }
    };
    let timestamp = crate::store::now();
    let signature = sender.signer.sign(&event.event_id, timestamp, body.as_bytes()).unwrap_or_default();
    let started = Instant::now();
    let at_ms = now_ms();
    let sent = sender
        .http
        .post(sender.url.clone())
        .header("content-type", "application/json")
        .header(standardwebhooks::HEADER_WEBHOOK_ID, &event.event_id)
        .header(standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, timestamp.to_string())
        .header(standardwebhooks::HEADER_WEBHOOK_SIGNATURE, signature)
        .body(body)
        .send()
        .await;
    let (status_code, error, response) = match sent {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let text = reply_prefix(answer).await;
            (Some(i64::from(status)), None, Some(text))
        }
        Err(err) if err.is_timeout() => (None, Some("timed out".to_owned()), None),
        Err(err) => (None, Some(format!("no answer: {}", err.without_url())), None),
    };
    let delivered = status_code.is_some_and(|s| (200..300).contains(&s));
    let attempt = Attempt { at_ms, status_code, error, response, duration_ms: started.elapsed().as_millis() as i64 };
    let next =
        (!delivered).then(|| schedule::next_attempt_ms(event.attempts + 1, event.created_ms, now_ms(), sender.first_retry_ms)).flatten();
    if delivered {
        tracing::info!(event = %event.event_id, r#type = %event.r#type, invoice_id = ?event.invoice_id, subscription = ?event.subscription_ref, "webhook delivered");
    } else {
        tracing::warn!(event = %event.event_id, status = ?attempt.status_code, error = ?attempt.error, gave_up = next.is_none(), "webhook not delivered");
    }
    let (id, claimed_until) = (event.id, event.next_attempt_ms.unwrap_or_default());
    let moved = app.store.write(move |tx| webhooks::record_attempt(tx, id, claimed_until, &attempt, delivered, next)).await?;
    if !moved {
        tracing::warn!(event = %event.event_id, "the event was claimed again (a resend, or a lease that ran out) while this attempt ran; the attempt is recorded, the other claim decides");
    }
    Ok(())
}

/// The body: `{type, timestamp, data}`, `data` being the order as the merchant API shows it,
/// as it stood when the event was made (with its version and the event's time), and for an
/// operation's event the operation.
async fn payload(app: &Deliveries, event: &EventRow) -> Result<String, StoreError> {
    let Some(order_id) = event.order_id.filter(|_| event.subscription_id.is_none()) else {
        return Ok(subscription_payload(event));
    };
    let operation_id = event.operation_id;
    let (order, operation) = app
        .store
        .read(move |db| {
            let operation = operation_id.map(|id| crate::store::operations::find(db, id)).transpose()?.flatten();
            Ok((orders::find_by_id(db, order_id)?, operation))
        })
        .await?;
    let order = order.ok_or(StoreError::Vanished(order_id))?;
    let snapshot = orders::OrderSnapshot::read(event.snapshot.as_deref());
    let mut data = crate::views::order_view_as_it_stood(&app.store, &app.config.server, &order, snapshot.as_ref()).await?;
    data.event_created_at = Some(rfc3339_ms(event.created_ms));
    data.operation = operation.as_ref().map(crate::views::operation_view);
    let body = WebhookPayload { r#type: event.r#type, timestamp: rfc3339_ms(event.created_ms), data };
    Ok(serde_json::to_string(&body).expect("a webhook body serializes"))
}

/// A subscription's event: `data` is the subscription as it stood when the event was made, kept
/// with the event (the subscription's writer made it in the change's transaction).
fn subscription_payload(event: &EventRow) -> String {
    let data: serde_json::Value = event.snapshot.as_deref().and_then(|text| serde_json::from_str(text).ok()).unwrap_or_default();
    let body = serde_json::json!({"type": event.r#type, "timestamp": rfc3339_ms(event.created_ms), "data": data});
    body.to_string()
}

fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The start of a receiver's reply, at most `RESPONSE_KEPT` bytes: the rest is never read (a
/// receiver that answers 50 MiB, or for ever, costs the proxy 1 KiB), and the connection is
/// dropped with it.
async fn reply_prefix(mut answer: reqwest::Response) -> String {
    let mut kept = Vec::with_capacity(RESPONSE_KEPT);
    while kept.len() < RESPONSE_KEPT {
        match answer.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk[..chunk.len().min(RESPONSE_KEPT - kept.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}
