//! ePay's operations on a transaction, each as its page prints the request
//! (docs/epay-contract.md, "Operations"):
//! - capture: `POST {API}/operation/{id}/charge`, a partial amount in a JSON body `{"amount"}`;
//! - cancel: `POST {API}/operation/{id}/cancel`, nothing else;
//! - refund: `POST {API}/operation/{id}/refund?amount=…&externalID=…`, in the query string
//!   (without `amount` ePay refunds the whole charge, so the proxy always sends it).
//!
//! Each with a fresh service token of the terminal. ePay's pages do not promise that a repeated
//! `externalID` is performed once: the proxy never relies on it (see `crate::operations`).

use serde_json::{Value, json};

use super::{EpayClient, EpayError};
use epay_api_types::Amount;

pub use epay_api_types::OperationKind;

/// ePay's path segment for `kind`.
fn endpoint(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Capture => "charge",
        OperationKind::Cancel => "cancel",
        OperationKind::Refund => "refund",
    }
}

/// What ePay answered.
#[derive(Clone, Debug, PartialEq)]
pub enum OperationAnswer {
    /// 2xx: ePay took it (the status API must still show it).
    Accepted(String),
    /// 4xx with ePay's `{"code", "message"}`.
    Refused { status: u16, message: String },
}

/// One operation's HTTP request: the path and query after the API base, and the JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct OperationRequest {
    pub path_and_query: String,
    pub body: Option<Value>,
}

/// The request ePay's page for `kind` prints. Pure.
pub fn operation_request(kind: OperationKind, transaction_id: &str, amount: Option<Amount>, external_id: &str) -> OperationRequest {
    let path = format!("/operation/{transaction_id}/{}", endpoint(kind));
    match kind {
        OperationKind::Capture => {
            OperationRequest { path_and_query: path, body: amount.map(|a| json!({ "amount": super::amount_number(a) })) }
        }
        OperationKind::Cancel => OperationRequest { path_and_query: path, body: None },
        OperationKind::Refund => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(amount) = amount {
                query.append_pair("amount", &super::amount_number(amount).to_string());
            }
            query.append_pair("externalID", external_id);
            OperationRequest { path_and_query: format!("{path}?{}", query.finish()), body: None }
        }
    }
}

impl EpayClient {
    /// Asks ePay to perform one operation with `token`, a fresh service token of the
    /// transaction's terminal (ePay's pages: "for each operation, you need to get and use the
    /// original token"). The caller gets the token first: a request that fails for want of one
    /// was never sent. `Err` when there is no answer to read: `EpayError::never_sent` tells the
    /// only case in which ePay cannot have performed it; after any other error (a timeout, a
    /// reset, a 5xx) it may or may not have happened, and must be looked up.
    pub async fn operation(
        &self,
        token: &super::Token,
        kind: OperationKind,
        transaction_id: &str,
        amount: Option<Amount>,
        external_id: &str,
    ) -> Result<OperationAnswer, EpayError> {
        let request = operation_request(kind, transaction_id, amount, external_id);
        let url = self.settings.api_endpoint(&request.path_and_query);
        let mut post = self.http.post(&url).bearer_auth(&token.access_token);
        if let Some(body) = &request.body {
            post = post.json(body);
        }
        let (status, reply) = self.exchange(post).await?;
        read_operation_answer(status.as_u16(), &reply)
    }
}

/// What an HTTP answer to an operation means. Pure.
pub fn read_operation_answer(status: u16, body: &[u8]) -> Result<OperationAnswer, EpayError> {
    let text = String::from_utf8_lossy(body).chars().take(500).collect::<String>();
    match status {
        200..=299 => Ok(OperationAnswer::Accepted(text)),
        400..=499 => {
            let message = serde_json::from_slice::<Value>(body).ok().map(|v| {
                let code = v.get("code").map(|c| c.to_string()).unwrap_or_default();
                let message = v.get("message").and_then(Value::as_str).unwrap_or_default();
                match (code.is_empty(), message.is_empty()) {
                    (_, false) if !code.is_empty() => format!("{message} (code {code})"),
                    (_, false) => message.to_owned(),
                    (false, true) => format!("code {code}"),
                    (true, true) => text.clone(),
                }
            });
            Ok(OperationAnswer::Refused { status, message: message.unwrap_or(text) })
        }
        _ => Err(EpayError::Status { status, body: text }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_4xx_is_a_refusal_and_a_5xx_is_no_answer() {
        assert!(matches!(read_operation_answer(200, b""), Ok(OperationAnswer::Accepted(_))));
        assert_eq!(
            read_operation_answer(400, br#"{"code":400,"message":"refund is possible only for CHARGE transactions"}"#).unwrap(),
            OperationAnswer::Refused { status: 400, message: "refund is possible only for CHARGE transactions (code 400)".into() }
        );
        assert_eq!(
            read_operation_answer(400, br#"{"code":100,"message":""}"#).unwrap(),
            OperationAnswer::Refused { status: 400, message: "code 100".into() }
        );
        assert_eq!(read_operation_answer(404, b"not json").unwrap(), OperationAnswer::Refused { status: 404, message: "not json".into() });
        assert!(read_operation_answer(502, b"bad gateway").is_err(), "a 5xx says nothing about whether it happened");
    }

    #[test]
    fn each_request_is_the_one_its_page_prints() {
        let partial = Some(Amount::from_minor(30_000));
        assert_eq!(
            operation_request(OperationKind::Refund, "tx-1", partial, "ext-1"),
            OperationRequest { path_and_query: "/operation/tx-1/refund?amount=300&externalID=ext-1".into(), body: None }
        );
        assert_eq!(
            operation_request(OperationKind::Refund, "tx-1", Some(Amount::from_minor(30_050)), "e").path_and_query,
            "/operation/tx-1/refund?amount=300.5&externalID=e"
        );
        assert_eq!(
            operation_request(OperationKind::Capture, "tx-1", Some(Amount::from_minor(240_000)), "e"),
            OperationRequest { path_and_query: "/operation/tx-1/charge".into(), body: Some(json!({"amount": 2400})) }
        );
        assert_eq!(
            operation_request(OperationKind::Cancel, "tx-1", None, "e"),
            OperationRequest { path_and_query: "/operation/tx-1/cancel".into(), body: None }
        );
    }
}
