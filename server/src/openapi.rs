//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the merchant and widget APIs,
//! generated from the handlers' annotations and the shared types (utoipa). The handlers are
//! listed here by hand; `the_openapi_document_describes_every_route_and_error_code` reads the
//! router's routes and fails on any it does not find documented, and `scripts/test` runs
//! schemathesis against the document.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use epay_api_types::EventType;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{checkout, merchant, order_status};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Halyk ePay token proxy",
        description = "The merchant API (`/api/merchant/...`, server to server with a bearer key) creates priced orders and reads \
                       their outcome; the widget API (`/api/...`, called by the checkout widget in the payer's browser) pays them. \
                       Every error is a JSON `ApiError` with a stable `error` code and a `message` to act on."
    ),
    paths(
        merchant::create::create,
        merchant::read::show,
        merchant::read::list,
        merchant::operations::capture,
        merchant::operations::cancel,
        merchant::operations::refund,
        merchant::events::list,
        merchant::events::resend,
        merchant::cards::list,
        merchant::cards::delete,
        merchant::subscriptions::create,
        merchant::subscriptions::list,
        merchant::subscriptions::show,
        merchant::subscriptions::change,
        merchant::subscriptions::pause,
        merchant::subscriptions::resume,
        merchant::subscriptions::cancel,
        merchant::subscriptions::test_clock,
        merchant::subscriptions::advance_test_clock,
        checkout::order::start,
        checkout::create,
        order_status::show,
        crate::widget_config::show,
    ),
    components(schemas(epay_api_types::ErrorCode, epay_api_types::WebhookPayload, epay_api_types::SubscriptionWebhookPayload)),
    modifiers(&MerchantKey),
    tags(
        (name = "merchant", description = "The shop's backend: `Authorization: Bearer <MERCHANT_API_KEY>`; never from a browser"),
        (name = "widget", description = "The checkout widget, from the payer's browser (CORS: ALLOWED_ORIGINS)"),
        (name = "webhooks", description = "What the proxy POSTs to WEBHOOK_URL: every event, signed (Standard Webhooks)"),
    )
)]
pub struct ApiDoc;

struct MerchantKey;

impl Modify for MerchantKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme =
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("MERCHANT_API_KEY (or one of MERCHANT_API_KEYS)")).build();
        components.add_security_scheme("merchantKey", SecurityScheme::Http(scheme));
    }
}

pub fn document() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut document = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serialises");
        document["webhooks"] = webhooks();
        serde_json::to_string_pretty(&document).expect("the OpenAPI document serialises")
    })
}

/// OpenAPI 3.1's `webhooks`: one POST to `WEBHOOK_URL` per event type, its body a
/// `WebhookPayload` signed by Standard Webhooks (utoipa 5 does not write this section).
fn webhooks() -> serde_json::Value {
    let header = |name: &str, description: &str| serde_json::json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}});
    let signed = [
        header("webhook-id", "The event's id (`msg_…`): the same on every attempt; a receiver drops one it already has"),
        header("webhook-timestamp", "Unix seconds of this attempt: refuse it when far from now"),
        header(
            "webhook-signature",
            "`v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` with WEBHOOK_SECRET (Standard Webhooks)",
        ),
    ];
    let events = EventType::ALL.iter().map(|event| {
        let name = event.as_str();
        // `order.paid` is `orderPaidWebhook`; `refund.succeeded` is `refundSucceededWebhook`.
        let operation_id: String = name
            .split(['.', '_'])
            .enumerate()
            .map(|(n, word)| if n == 0 { word.to_owned() } else { word[..1].to_uppercase() + &word[1..] })
            .chain(["Webhook".to_owned()])
            .collect();
        let operation = serde_json::json!({"post": {
            "operationId": operation_id,
            "summary": format!("`{name}`: {}", summary(*event)),
            "tags": ["webhooks"],
            "parameters": signed,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": payload_schema(*event)}}}},
            "responses": {"2XX": {"description": "Delivered. Any other answer, a redirect or a timeout is retried for 3 days with the same webhook-id"}},
        }});
        (name.to_owned(), operation)
    });
    serde_json::Value::Object(events.collect())
}

/// The body's schema: an order's events carry the order, a subscription's the subscription.
fn payload_schema(event: EventType) -> &'static str {
    if event.as_str().starts_with("subscription.") {
        "#/components/schemas/SubscriptionWebhookPayload"
    } else {
        "#/components/schemas/WebhookPayload"
    }
}

/// What each event says, for the document's readers.
fn summary(event: EventType) -> &'static str {
    match event {
        EventType::OrderPaid => "ePay's status API confirmed the payment; ship the order",
        EventType::OrderFailed => "the payment was declined (or a person decided no money arrived)",
        EventType::OrderExpired => "the order's time ran out without a payment",
        EventType::OrderReview => "something does not add up; a person decides in the console",
        EventType::OrderAuthorized => "ePay holds the money (two-stage terminals): capture or cancel it",
        EventType::OrderCaptured => "a capture succeeded (`data.operation`)",
        EventType::OrderCancelled => "the hold was released",
        EventType::OrderPaidLate => "the payer paid after the payable window (`paidAfterExpiry`)",
        EventType::OrderReviewResolved => "a person decided the order's review (`reviewResolution`)",
        EventType::RefundSucceeded => "a refund went through (`data.operation`)",
        EventType::RefundFailed => "ePay refused a refund: nothing moved",
        EventType::SubscriptionCreated => "a subscription was created; its first charge follows at its start",
        EventType::SubscriptionRenewed => "a period was paid (`data.latestCharge`): extend the service",
        EventType::SubscriptionPaymentFailed => {
            "a charge was declined (`data.latestCharge.declineCode`); it is retried at `data.nextChargeAt`"
        }
        EventType::SubscriptionPastDue => {
            "the period stays unpaid (`data.statusReason`): retries ran out or the card cannot pay; a new card pays it"
        }
        EventType::SubscriptionCancelled => "the subscription ended (`data.statusReason`): stop the service at the end of the paid period",
        EventType::ReceiptIssued => {
            "the order's fiscal receipt (its sale, or a refund's return) was issued (`data.receipts`: fiscal sign, OFD link)"
        }
        EventType::ReceiptFailed => "the registrar refused a receipt as it is (`data.receipts[].error`): a person looks in the console",
    }
}

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every type of `api-types` that derives a schema (`utoipa::ToSchema`) is in the document: a client generated from it misses nothing the API speaks, and no
    /// derive is kept for a document that never shows it.
    #[test]
    fn every_schema_derived_is_in_the_document() {
        let document: serde_json::Value = serde_json::from_str(super::document()).unwrap();
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-types/src");
        let mut derived = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (at, _) in text.match_indices("derive(utoipa::ToSchema))]") {
                let rest = &text[at..];
                let Some(start) = ["pub struct ", "pub enum "].iter().filter_map(|k| rest.find(k).map(|i| i + k.len())).min() else {
                    continue;
                };
                derived.push(rest[start..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>());
            }
        }
        assert!(derived.len() > 20, "{derived:?}");
        let missing: Vec<&String> = derived.iter().filter(|name| !schemas.contains_key(name.as_str())).collect();
        assert!(missing.is_empty(), "derive a schema but are not in the document: {missing:?}");
    }
}
