//! ePay's operations on a transaction: `POST {EPAY_API_URL}/operation/{transactionId}/charge`
//! (capture an AUTH), `/cancel` (release an AUTH), `/refund` (a CHARGE, in whole or in part),
//! with the terminal's service token and the `externalID` the proxy generated for the
//! operation, so a repeat after a timeout is the same operation at ePay.

use serde_json::{Value, json};

use super::{EpayClient, EpayError};
use epay_api_types::Amount;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    Charge,
    Cancel,
    Refund,
}

impl OperationKind {
    fn path(self) -> &'static str {
        match self {
            OperationKind::Charge => "charge",
            OperationKind::Cancel => "cancel",
            OperationKind::Refund => "refund",
        }
    }
}

/// What ePay answered.
#[derive(Clone, Debug, PartialEq)]
pub enum OperationAnswer {
    /// 2xx: ePay took it (the status API confirms what it did).
    Accepted(String),
    /// 4xx with ePay's `{"code", "message"}`: refused; nothing happened.
    Refused { status: u16, message: String },
}

impl EpayClient {
    /// Asks ePay to perform one operation. `Err` when there is no answer to read (timeout,
    /// transport, 5xx): the operation may or may not have happened, and must be looked up
    /// before anything is repeated.
    pub async fn operation(
        &self,
        kind: OperationKind,
        transaction_id: &str,
        terminal: &str,
        amount: Option<Amount>,
        external_id: &str,
    ) -> Result<OperationAnswer, EpayError> {
        let url = self.settings.api_endpoint(&format!("/operation/{transaction_id}/{}", kind.path()));
        let mut body = json!({ "externalID": external_id });
        if let Some(amount) = amount {
            body["amount"] = super::amount_number(amount);
        }
        let token = self.cached_service_token(terminal).await?;
        let (status, reply) = match self.exchange(self.http.post(&url).bearer_auth(&token).json(&body)).await? {
            (reqwest::StatusCode::UNAUTHORIZED, _) => {
                self.forget_service_token(terminal).await;
                let token = self.cached_service_token(terminal).await?;
                self.exchange(self.http.post(&url).bearer_auth(&token).json(&body)).await?
            }
            answer => answer,
        };
        read_operation_answer(status.as_u16(), &reply)
    }
}

/// What an HTTP answer to an operation means. Pure.
pub fn read_operation_answer(status: u16, body: &[u8]) -> Result<OperationAnswer, EpayError> {
    let text = String::from_utf8_lossy(body).chars().take(500).collect::<String>();
    match status {
        200..=299 => Ok(OperationAnswer::Accepted(text)),
        400..=499 => {
            let message = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or(text);
            Ok(OperationAnswer::Refused { status, message })
        }
        _ => Err(EpayError::Status { status, body: text }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_4xx_is_a_refusal_and_a_5xx_is_no_answer() {
        assert!(matches!(read_operation_answer(200, b"{\"code\":0}"), Ok(OperationAnswer::Accepted(_))));
        assert_eq!(
            read_operation_answer(400, br#"{"code":400,"message":"refund is possible only for CHARGE transactions"}"#).unwrap(),
            OperationAnswer::Refused { status: 400, message: "refund is possible only for CHARGE transactions".into() }
        );
        assert_eq!(read_operation_answer(404, b"not json").unwrap(), OperationAnswer::Refused { status: 404, message: "not json".into() });
        assert!(read_operation_answer(502, b"bad gateway").is_err(), "a 5xx says nothing about whether it happened");
    }
}
