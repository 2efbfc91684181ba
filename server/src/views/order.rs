//! An order as the merchant API shows it: every term the merchant fixed, where the order
//! stands, what ePay reported, and on single reads its history, postLinks and confirmation.

use epay_api_types::{Amount, Confirmation, MerchantOrder, OrderSource, PaymentDetails, ReceivedPostLink, StatusChange};
use serde_json::value::RawValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::ServerSettings;
use crate::store::notifications::{NotificationRow, Verdict};
use crate::store::orders::{HistoryRow, OrderRow, OrderState};

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(unix_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_secs).ok().and_then(|at| at.format(&Rfc3339).ok()).unwrap_or_default()
}

/// The hosted payment page of an order, with its key in the fragment (never sent to a server).
pub fn checkout_url(server: &ServerSettings, order: &OrderRow) -> String {
    server.public_link(&format!("/pay/{}#key={}", order.invoice_id, order.order_key.expose()))
}

pub fn summary(server: &ServerSettings, order: &OrderRow) -> MerchantOrder {
    let merchant = order.source == OrderSource::Merchant;
    let reported = order.transaction_id.is_some() || order.failure_reason.is_some() || order.card_mask.is_some();
    MerchantOrder {
        invoice_id: order.invoice_id.clone(),
        order_key: order.order_key.expose().to_owned(),
        source: order.source,
        status: order.status.merchant_status().to_owned(),
        state: order.status,
        version: order.version,
        amount: order.amount().to_string(),
        currency: order.currency.clone(),
        description: order.description.clone(),
        reference: order.merchant_reference.clone(),
        method: order.method,
        account_id: order.account_id.clone(),
        email: order.email.clone(),
        phone: order.phone.clone(),
        language: order.language,
        card_save: order.card_save,
        // Stored only after it parsed as a JSON object.
        metadata: order.metadata.clone().and_then(|text| RawValue::from_string(text).ok()),
        checkout_url: merchant.then(|| checkout_url(server, order)),
        return_url: order.return_url.clone(),
        created_at: rfc3339(order.created_at),
        expires_at: order.expires_at.map(rfc3339),
        payable_until: order.payable_until().map(rfc3339),
        payable_for_secs: order.payable_until().map(|until| until - order.created_at),
        expires_in_secs: order.expires_at.map(|at| at - order.created_at),
        payment: reported.then(|| PaymentDetails {
            transaction_id: order.transaction_id.clone(),
            card_mask: order.card_mask.clone(),
            approval_code: order.approval_code.clone(),
            card_type: order.card_type.clone(),
            issuer: None,
            epay_reference: order.reference.clone(),
            fee: money(order.fee_minor),
            amount_bonus: money(order.amount_bonus_minor),
            org_amount: money(order.org_amount_minor),
            payout_amount: money(order.payout_amount_minor),
            failure_reason: order.failure_reason.clone(),
            failure_code: order.failure_code,
            decline_code: (order.status == OrderState::Failed).then(|| decline_code(order)),
        }),
        captured_amount: money(order.captured_minor),
        refunded_amount: Amount::from_minor(order.refunded_minor as u64).to_string(),
        operations: None,
        event_created_at: None,
        operation: None,
        review_reason: order.review_reason.clone(),
        review_resolution: None,
        history: None,
        post_links: None,
        post_links_count: None,
        paid_after_expiry: None,
        confirmation: None,
        receipts: None,
    }
}

/// A failed order's decline for programs.
fn decline_code(order: &OrderRow) -> String {
    crate::epay::decline::decline_code_of(order.failure_code, order.failure_reason.as_deref()).to_owned()
}

/// The order with its history and its newest postLinks (`post_links`, of `post_links_count`).
pub fn detailed(
    server: &ServerSettings,
    order: &OrderRow,
    history: &[HistoryRow],
    post_links: &[NotificationRow],
    post_links_count: i64,
) -> MerchantOrder {
    let mut base = summary(server, order);
    if let Some(payment) = base.payment.as_mut() {
        payment.issuer = post_links.iter().rev().filter(|n| n.verdict == Verdict::Accepted).find_map(|n| issuer(&n.raw_body));
    }
    MerchantOrder {
        post_links_count: Some(post_links_count),
        paid_after_expiry: paid_after_expiry(order, history),
        history: Some(
            history
                .iter()
                .map(|step| StatusChange { state: step.status, status: step.status.merchant_status(), at: rfc3339(step.at) })
                .collect(),
        ),
        // The raw body is not repeated: it carries ePay's secret_hash.
        post_links: Some(
            post_links
                .iter()
                .map(|n| ReceivedPostLink {
                    endpoint: n.endpoint,
                    verdict: n.verdict,
                    code: n.code.clone(),
                    transaction_id: n.transaction_id.clone(),
                    reason: n.reason.clone(),
                    received_at: rfc3339(n.received_at),
                })
                .collect(),
        ),
        confirmation: Some(Confirmation {
            attempts: order.check_attempts,
            last_answer: order.last_check.clone(),
            next_check_at: order.next_check_ms.map(|ms| rfc3339(ms.div_euclid(1000))),
        }),
        ..base
    }
}

/// The `issuer` of a postLink body, and nothing else of it (the body holds secret_hash).
fn issuer(raw_body: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Issuer {
        issuer: Option<String>,
    }
    serde_json::from_str::<Issuer>(raw_body).ok()?.issuer.map(|i| i.trim().chars().take(100).collect::<String>()).filter(|i| !i.is_empty())
}

/// An amount in minor units as the merchant API writes amounts ("1500.50").
pub fn money(minor: Option<i64>) -> Option<String> {
    minor.map(|minor| Amount::from_minor(minor as u64).to_string())
}

/// For a paid merchant order: whether it became paid after its `expiresAt` (orders paid before
/// late payments were recorded as such; `OrderRows::view` adds those). Pure.
pub fn paid_after_expiry(order: &OrderRow, history: &[HistoryRow]) -> Option<bool> {
    let expires_at = order.expires_at?;
    let paid_at = history.iter().find(|step| step.status == OrderState::Paid)?.at;
    Some(paid_at > expires_at)
}
