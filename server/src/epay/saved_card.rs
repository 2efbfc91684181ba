//! A payment with a saved card, and a card's deactivation (docs/epay-contract.md, "Saved
//! cards").
//!
//! - The payment: ePay's page "Saved card based payment" (`platezh-po-sokhranennoi-karte`)
//!   prints only its token: `client_credentials` with the service scope and the invoice fields.
//!   The request after it is cut from the page; `card_payment_request` sends what public
//!   integrations send (**not from an ePay page**): `POST {API}/payments/cards/auth` with
//!   `{"paymentType": "cardId", "cardId": {"id"}, amount, currency, invoiceId, terminalId,
//!   description, accountId, email, phone, postLink, failurePostLink, language}`. The answer is
//!   kept as it came; whatever it says, only the status API makes the order paid.
//! - The deactivation: "Deactivation of the Card ID" (`disable-card-id`): `POST
//!   {API}/card/deactivate/{cardID}` with a service token, answering `{"status": "card
//!   successfully deactivated"}` (the Russian page's text is cut; any 2xx counts).

use epay_api_types::Amount;
use serde_json::{Value, json};

use super::{EpayClient, EpayError, Token};

/// One payment by `cardId`: the invoice as its token was issued, and the card.
#[derive(Clone, Debug)]
pub struct CardPayment {
    pub epay_card_id: String,
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: String,
}

/// The body of a payment by `cardId`, as public integrations send it. Pure: the one place the
/// shape lives.
pub fn card_payment_request(payment: &CardPayment, post_link: &str, failure_post_link: &str) -> Value {
    json!({
        "paymentType": "cardId",
        "cardId": { "id": payment.epay_card_id },
        "amount": super::amount_number(payment.amount),
        "currency": payment.currency,
        "invoiceId": payment.invoice_id,
        "terminalId": payment.terminal,
        "description": payment.description,
        "accountId": payment.account_id,
        "email": payment.email,
        "phone": payment.phone,
        "language": payment.language,
        "postLink": post_link,
        "failurePostLink": failure_post_link,
    })
}

/// What ePay answered a payment by `cardId`: its HTTP status and body. A decline it reports in
/// the answer (`{"code", "message"}` with a 4xx) is read by `declined`.
#[derive(Clone, Debug, PartialEq)]
pub struct CardPaymentAnswer {
    pub status: u16,
    pub body: String,
}

impl CardPaymentAnswer {
    /// ePay's code and message when the answer refuses the payment (a 4xx with `code`). The
    /// status API still decides; this is what the shop and the console are shown meanwhile.
    pub fn declined(&self) -> Option<(i64, String)> {
        if (200..300).contains(&self.status) {
            return None;
        }
        let body: Value = serde_json::from_str(&self.body).ok()?;
        let code = match body.get("code")? {
            Value::Number(n) => n.as_i64()?,
            Value::String(s) => s.trim().parse().ok()?,
            _ => return None,
        };
        let message = body.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
        Some((code, message))
    }
}

impl EpayClient {
    /// The payment token for a payment by `cardId` ("Saved card based payment": the service
    /// scope with the invoice fields).
    pub async fn card_payment_token(&self, request: &super::PaymentTokenRequest) -> Result<Token, EpayError> {
        self.payment_token(&super::PaymentTokenRequest { scope: super::SERVICE_SCOPE, ..request.clone() }).await
    }

    /// Sends one payment by `cardId`. `Err` when there is no answer to read: only
    /// `EpayError::never_sent` proves ePay did not see it; after any other error the payment may
    /// have happened and only the status API can tell.
    pub async fn pay_with_saved_card(&self, token: &Token, payment: &CardPayment) -> Result<CardPaymentAnswer, EpayError> {
        let settings = &self.settings;
        let body = card_payment_request(payment, &settings.post_link, &settings.failure_post_link);
        let url = settings.api_endpoint("/payments/cards/auth");
        let (status, body) = self.exchange(self.http.post(&url).bearer_auth(&token.access_token).json(&body)).await?;
        if status.is_server_error() {
            // A 5xx tells nothing of whether it happened: like a lost answer.
            return Err(super::client::status_error(status, &body));
        }
        Ok(CardPaymentAnswer { status: status.as_u16(), body: String::from_utf8_lossy(&body).chars().take(2000).collect() })
    }

    /// Deactivates a saved card at ePay. Moves no money: sending it again is safe.
    pub async fn deactivate_card(&self, terminal: &str, epay_card_id: &str) -> Result<(), EpayError> {
        let token = self.service_token(terminal).await?;
        let path = format!("/card/deactivate/{}", url::form_urlencoded::byte_serialize(epay_card_id.as_bytes()).collect::<String>());
        let url = self.settings.api_endpoint(&path);
        self.send(self.http.post(&url).bearer_auth(&token.access_token)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payment_by_card_id_carries_the_invoice_as_its_token_was_issued() {
        let payment = CardPayment {
            epay_card_id: "11f1111b-f151".into(),
            invoice_id: "000000000042".into(),
            amount: Amount::from_minor(150_050),
            currency: "KZT".into(),
            terminal: "67e34d63".into(),
            description: "Подписка".into(),
            account_id: "customer-7".into(),
            email: String::new(),
            phone: String::new(),
            language: "rus".into(),
        };
        let body = card_payment_request(&payment, "https://p/post", "https://p/fail");
        assert_eq!(body["paymentType"], "cardId");
        assert_eq!(body["cardId"]["id"], "11f1111b-f151");
        assert_eq!(body["amount"], json!(1500.5));
        assert_eq!((body["invoiceId"].as_str(), body["terminalId"].as_str()), (Some("000000000042"), Some("67e34d63")));
        assert_eq!(body["postLink"], "https://p/post");
    }

    /// The adapter sends the keys of the request sample (`docs/epay-samples/`), no more, no fewer.
    #[test]
    fn the_request_has_the_keys_of_its_sample() {
        let text = include_str!("../../../docs/epay-samples/request-payment-by-card-id.txt");
        let body = text.split_once("\n\n").expect("headers, a blank line, the body").1;
        let sample: Value = serde_json::from_str(body).expect("the sample's body is JSON");
        let payment = CardPayment {
            epay_card_id: "c".into(),
            invoice_id: "1".into(),
            amount: Amount::from_minor(100),
            currency: "KZT".into(),
            terminal: "t".into(),
            description: String::new(),
            account_id: String::new(),
            email: String::new(),
            phone: String::new(),
            language: String::new(),
        };
        let sent = card_payment_request(&payment, "p", "f");
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<std::collections::BTreeSet<_>>();
        assert_eq!(keys(&sent), keys(&sample));
        assert_eq!(keys(&sent["cardId"]), keys(&sample["cardId"]));
    }

    #[test]
    fn a_refusal_in_the_answer_is_read_for_people_never_a_success() {
        let answer = |status, body: &str| CardPaymentAnswer { status, body: body.into() };
        assert_eq!(answer(400, r#"{"code":484,"message":"Недостаточно средств"}"#).declined(), Some((484, "Недостаточно средств".into())));
        assert_eq!(answer(400, r#"{"code":"476","message":"x"}"#).declined(), Some((476, "x".into())));
        assert_eq!(answer(200, r#"{"code":484}"#).declined(), None, "a 2xx is no refusal");
        assert_eq!(answer(400, "<html>").declined(), None, "nothing readable: the status API tells");
    }
}
