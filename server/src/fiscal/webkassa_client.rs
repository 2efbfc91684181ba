//! Webkassa API v4 over HTTP (`webkassa.rs` holds the bodies and readers, from Webkassa's own
//! collection): a session token kept and renewed when Webkassa says it expired, a receipt sent
//! again only when Webkassa provably refused it (an expired token, a shift over 24 hours closed
//! meanwhile), "issued already" (14) answered by the receipt found under its external number.
//! The API key and the password go in a header and a body, never in a log line.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;

use super::registrar::{Answer, Found, Pending, Registrar};
use super::webkassa::{self, Issued, Next, Receipt, Refusal};
use crate::config::fiscal::WebkassaSettings;

pub struct WebkassaClient {
    http: reqwest::Client,
    settings: WebkassaSettings,
    token: tokio::sync::Mutex<Option<String>>,
}

/// What one call came back with, before it means anything.
enum Reply {
    /// The answer's body (an `Errors` envelope included).
    Body(String),
    NotSent(String),
    Unknown(String),
    /// 401 or 403 without Webkassa's envelope: the integrator's key is refused.
    Forbidden(String),
}

impl WebkassaClient {
    pub fn new(settings: WebkassaSettings) -> WebkassaClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(settings.timeout))
            .timeout(settings.timeout)
            .user_agent(concat!("epay-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client builds with static settings");
        WebkassaClient { http, settings, token: tokio::sync::Mutex::new(None) }
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        let url = format!("{}/api/v4/{path}", self.settings.url.as_str().trim_end_matches('/'));
        let Ok(mut key) = reqwest::header::HeaderValue::from_str(self.settings.api_key.expose_secret()) else {
            return Reply::NotSent("WEBKASSA_API_KEY is not a valid header value".into());
        };
        key.set_sensitive(true);
        let sent = self.http.post(url).header("x-api-key", key).json(body).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(err) if err.is_connect() || err.is_builder() => return Reply::NotSent(crate::epay::causes(err)),
            Err(err) => return Reply::Unknown(crate::epay::causes(err)),
        };
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Reply::Forbidden(format!("Webkassa answered HTTP {status}: check WEBKASSA_API_KEY"));
        }
        match response.text().await {
            // Webkassa's errors come in the `Errors` envelope; a 5xx without one says nothing.
            Ok(text) if status.is_success() || text.contains("\"Errors\"") => Reply::Body(text),
            Ok(_) => Reply::Unknown(format!("Webkassa answered HTTP {status}")),
            Err(err) => Reply::Unknown(crate::epay::causes(err)),
        }
    }

    /// The session's token, authorising when there is none.
    async fn token(&self) -> Answer<String> {
        let mut token = self.token.lock().await;
        if let Some(token) = token.as_ref() {
            return Answer::Done(token.clone());
        }
        let body = webkassa::authorize_body(&self.settings.login, self.settings.password.expose_secret());
        match self.post("Authorize", &body).await {
            Reply::Body(text) => match webkassa::read_token(&text) {
                Ok(fresh) => {
                    *token = Some(fresh.clone());
                    Answer::Done(fresh)
                }
                Err(Refusal::Errors(errors)) => match errors.first() {
                    Some((1, text)) => Answer::Alert { code: "wrong_credentials", text: text.clone() },
                    _ => Answer::NotSent(format!("Webkassa refused to authorise: {}", describe(&errors))),
                },
                Err(Refusal::Malformed(why)) => Answer::NotSent(format!("Webkassa's authorisation answer: {why}")),
            },
            Reply::Forbidden(text) => Answer::Alert { code: "wrong_credentials", text },
            // Authorising moves nothing: either way the receipt itself was not sent.
            Reply::NotSent(why) | Reply::Unknown(why) => Answer::NotSent(why),
        }
    }

    async fn forget_token(&self, used: &str) {
        let mut token = self.token.lock().await;
        if token.as_deref() == Some(used) {
            *token = None;
        }
    }

    /// Calls `path` with a body made for the current token; authorises again once when the
    /// token expired (Webkassa refused the call: nothing happened). `Ok` holds the answer's body
    /// or Webkassa's refusal, for the caller to read.
    async fn call(&self, path: &str, body: impl Fn(&str) -> Value) -> Answer<Result<String, Vec<(i64, String)>>> {
        for _ in 0..2 {
            let token = match self.token().await {
                Answer::Done(token) => token,
                other => return other.map_never(),
            };
            let text = match self.post(path, &body(&token)).await {
                Reply::Body(text) => text,
                Reply::NotSent(why) => return Answer::NotSent(why),
                Reply::Unknown(why) => return Answer::Unknown(why),
                Reply::Forbidden(text) => return Answer::Alert { code: "wrong_credentials", text },
            };
            match webkassa::errors_of(&text) {
                Some(errors) if errors.iter().any(|(code, _)| webkassa::next_for(*code) == Next::Reauthorize) => {
                    self.forget_token(&token).await;
                }
                Some(errors) => return Answer::Done(Err(errors)),
                None => return Answer::Done(Ok(text)),
            }
        }
        Answer::NotSent("Webkassa refused a fresh token as expired".into())
    }

    async fn issue_once(&self, receipt: &Receipt<'_>) -> Answer<Result<String, Vec<(i64, String)>>> {
        let cashbox = self.settings.cashbox.as_str();
        self.call("check", |token| webkassa::check_body(token, cashbox, receipt)).await
    }

    async fn issue_receipt(&self, receipt: &Receipt<'_>) -> Answer<Issued> {
        let mut closed_shift = false;
        loop {
            let errors = match self.issue_once(receipt).await {
                Answer::Done(Ok(text)) => {
                    return match webkassa::read_check(&text) {
                        Ok(issued) => Answer::Done(issued),
                        // An answer that cannot be read may still be a receipt issued.
                        Err(refusal) => Answer::Unknown(format!("Webkassa's answer cannot be read: {refusal:?}")),
                    };
                }
                Answer::Done(Err(errors)) => errors,
                other => return other.map_never(),
            };
            let code = errors.first().map_or(-1, |(code, _)| *code);
            match webkassa::next_for(code) {
                // The shift is over 24 hours: Webkassa issues nothing until it is closed.
                Next::CloseShift if !closed_shift => match self.close().await {
                    Answer::Done(()) => closed_shift = true,
                    other => return other.map_never(),
                },
                Next::LookUp => {
                    return match self.find(receipt.external_number).await {
                        Answer::Done(Found::Issued(issued)) => Answer::Done(issued),
                        Answer::Done(Found::Nothing) => Answer::Unknown(format!("{} but no receipt is found under it", describe(&errors))),
                        other => other.map_never(),
                    };
                }
                Next::Alert(code) => return Answer::Alert { code, text: describe(&errors) },
                Next::Refused => return Answer::Refused(describe(&errors)),
                // Webkassa issued nothing (a second "shift over 24 hours", an unknown code):
                // tried again later, never failed for good on a guess.
                Next::CloseShift | Next::Reauthorize | Next::TryLater => return Answer::NotSent(describe(&errors)),
            }
        }
    }

    async fn find(&self, external_number: &str) -> Answer<Found> {
        let cashbox = self.settings.cashbox.as_str();
        match self.call("Ticket/PrintFormat", |token| webkassa::print_format_body(token, cashbox, external_number)).await {
            Answer::Done(Ok(text)) => match webkassa::read_lookup(&text) {
                Ok(issued) => Answer::Done(Found::Issued(issued)),
                Err(refusal) => Answer::Unknown(format!("Webkassa's look-up cannot be read: {refusal:?}")),
            },
            Answer::Done(Err(errors)) => match errors.first().map(|(code, _)| *code) {
                Some(19) => Answer::Done(Found::Nothing),
                Some(code) => match webkassa::next_for(code) {
                    Next::Alert(alert) => Answer::Alert { code: alert, text: describe(&errors) },
                    _ => Answer::Unknown(format!("the look-up was refused: {}", describe(&errors))),
                },
                None => Answer::Unknown("the look-up was refused without a code".into()),
            },
            other => other.map_never(),
        }
    }

    async fn close(&self) -> Answer<()> {
        let cashbox = self.settings.cashbox.as_str();
        match self.call("ZReport", |token| webkassa::zreport_body(token, cashbox)).await {
            Answer::Done(Ok(_)) => Answer::Done(()),
            Answer::Done(Err(errors)) => match errors.first().map(|(code, _)| *code) {
                // 12 shift already closed, 13 no open shift: closed either way.
                Some(12 | 13) => Answer::Done(()),
                Some(code) => match webkassa::next_for(code) {
                    Next::Alert(alert) => Answer::Alert { code: alert, text: describe(&errors) },
                    _ => Answer::NotSent(describe(&errors)),
                },
                None => Answer::NotSent("the Z-report was refused without a code".into()),
            },
            other => other.map_never(),
        }
    }
}

fn describe(errors: &[(i64, String)]) -> String {
    errors.iter().map(|(code, text)| format!("Webkassa error {code}: {text}")).collect::<Vec<_>>().join("; ")
}

impl Registrar for WebkassaClient {
    fn cashbox(&self) -> &str {
        &self.settings.cashbox
    }

    fn issue<'a>(&'a self, receipt: &'a Receipt<'a>) -> Pending<'a, Issued> {
        Box::pin(self.issue_receipt(receipt))
    }

    fn look_up<'a>(&'a self, external_number: &'a str) -> Pending<'a, Found> {
        Box::pin(self.find(external_number))
    }

    fn close_shift(&self) -> Pending<'_, ()> {
        Box::pin(self.close())
    }
}
