//! A fiscal receipt as the merchant API, webhooks, the console and the payer's pages show it.

use epay_api_types::{Amount, Receipt};

use super::order::rfc3339;
use crate::store::receipts::ReceiptRow;

pub fn receipt_view(row: &ReceiptRow) -> Receipt {
    let issued = row.issued.as_ref();
    Receipt {
        id: format!("rcpt_{}", row.id),
        kind: row.kind.as_str().to_owned(),
        status: row.status.clone(),
        amount: Amount::from_minor(row.amount_minor.max(0) as u64).to_string(),
        operation_id: row.operation_id.map(|id| format!("op_{id}")),
        fiscal_sign: issued.map(|i| i.check_number.clone()),
        url: issued.and_then(|i| web_link(&i.ticket_url)),
        registration_number: issued.map(|i| i.registration_number.clone()),
        issued_at: issued.map(|i| rfc3339(i.issued_ms / 1000)),
        offline: issued.map(|i| i.offline),
        error: row.last_error.clone().filter(|_| issued.is_none()),
        created_at: rfc3339(row.created_ms / 1000),
    }
}

/// The registrar's link for the buyer, if it is a web page: nothing else is ever put in a page's
/// `href` (a `javascript:` link from a registrar would run in the console).
pub fn web_link(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "https" | "http").then(|| url.to_owned())
}
