//! `POST /sandbox/oauth2/token`: ePay's OAuth endpoint, with its validation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use epay_api_types::Amount;
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::ExposeSecret;
use serde_json::json;

use super::form::FormFields;
use super::state::{Grant, IssuedToken, SecretHash, TOKEN_LIFETIME, TokenTerms};
use super::{Sandbox, oauth_error};
use epay_api_types::is_valid_invoice_id;
use subtle::ConstantTimeEq;

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

pub async fn token(State(sandbox): State<Arc<Sandbox>>, form: FormFields) -> Response {
    let (delay, forced_failure, expires_as_string) = {
        let mut control = sandbox.control();
        let failure = (control.fail_tokens > 0).then(|| {
            control.fail_tokens -= 1;
            control.fail_tokens_status.unwrap_or(500)
        });
        (control.token_delay_ms, failure, control.expires_in_as_string)
    };
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some(status) = forced_failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, Json(oauth_error("server_error", "sandbox: failure requested through /sandbox/control"))).into_response();
    }

    let grant = match validate(&sandbox, &form) {
        Ok(grant) => grant,
        Err((status, error, message)) => return (status, Json(oauth_error(error, &message))).into_response(),
    };
    let scope = form.get("scope").unwrap_or_default().to_owned();
    let access_token: String = rand::rng().sample_iter(Alphanumeric).take(22).map(|c| char::from(c).to_ascii_uppercase()).collect();
    let issued = IssuedToken { scope: scope.clone(), grant, expires_at: Instant::now() + TOKEN_LIFETIME };
    sandbox.registry().issue(access_token.clone(), issued);

    let expires_in = if expires_as_string { json!("7200") } else { json!(7200) };
    Json(json!({
        "access_token": access_token,
        "expires_in": expires_in,
        "refresh_token": "",
        "scope": scope,
        "token_type": "Bearer",
    }))
    .into_response()
}

type Refusal = (StatusCode, &'static str, String);

fn refuse(status: StatusCode, error: &'static str, message: impl Into<String>) -> Refusal {
    (status, error, message.into())
}

fn validate(sandbox: &Sandbox, form: &FormFields) -> Result<Grant, Refusal> {
    let merchant = &sandbox.merchant;
    if form.get("grant_type") != Some("client_credentials") {
        return Err(refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be client_credentials"));
    }
    let client_ok = form.get("client_id") == Some(merchant.client_id.as_str())
        && constant_time_eq(form.get("client_secret").unwrap_or(""), merchant.client_secret.expose_secret());
    if !client_ok {
        return Err(refuse(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client_id or wrong client_secret"));
    }
    let terminal = form.get("terminal");
    if terminal.is_some_and(|t| !merchant.terminals.iter().any(|known| known == t)) {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "terminal does not belong to this client"));
    }
    let scope = form.get("scope").unwrap_or("");
    // The service scope names no invoice; with invoice fields it is the token of a payment by
    // a saved card ("Saved card based payment" asks for it so).
    let webapi = scope.split_whitespace().any(|s| s == "webapi");
    let names_invoice = ["invoiceID", "invoiceId"].iter().any(|name| form.get(name).is_some_and(|v| !v.is_empty()));
    if webapi && !names_invoice {
        return Ok(Grant::Service);
    }
    if !webapi && !matches!(scope, "transfer" | "payment") {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_scope", format!("unknown scope `{scope}`")));
    }
    let Some(terminal) = terminal else {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "terminal is required"));
    };
    // A transfer token may name no invoice at all (the merchant document's does not): the
    // payment object supplies it. Whatever the token names must be valid.
    let transfer = scope == "transfer";
    let named = |name: &str| form.get(name).filter(|v| !v.is_empty());
    let invoice_id = named("invoiceID").or_else(|| named("invoiceId"));
    if invoice_id.is_none_or(|id| !is_valid_invoice_id(id)) && !(transfer && invoice_id.is_none()) {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "invoiceID must be 6 to 15 digits"));
    }
    let amount = match named("amount") {
        None if transfer => None,
        given => Some(given.and_then(|a| Amount::parse(a).ok()).ok_or_else(|| {
            refuse(StatusCode::BAD_REQUEST, "invalid_request", "amount must be a positive number with at most 2 decimals")
        })?),
    };
    let currency = named("currency");
    if currency.is_some_and(|c| c != "KZT") || (currency.is_none() && !transfer) {
        let currency = currency.unwrap_or("");
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", format!("currency `{currency}` is not supported (KZT)")));
    }
    let post_link = named("postLink");
    if post_link.is_some_and(|link| url::Url::parse(link).is_err()) || (post_link.is_none() && !transfer) {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", "postLink must be an absolute URL"));
    }
    let failure_post_link = form.get("failurePostLink").unwrap_or("");
    for link in post_link.into_iter().chain([failure_post_link]).filter(|l| !l.is_empty()) {
        if !sandbox.notifies_the_proxy(link) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!(
                    "the sandbox delivers postLinks only to its proxies ({}); `{link}` is elsewhere",
                    sandbox.notify_origins.join(", ")
                ),
            ));
        }
    }
    if let Some(invoice_id) = invoice_id
        && sandbox.registry().is_paid(invoice_id)
    {
        return Err(refuse(StatusCode::BAD_REQUEST, "invalid_request", format!("invoice {invoice_id} is already paid")));
    }
    Ok(Grant::Payment(TokenTerms {
        invoice_id: invoice_id.map(str::to_owned),
        amount,
        currency: currency.map(str::to_owned),
        terminal: terminal.to_owned(),
        post_link: post_link.map(str::to_owned),
        failure_post_link: failure_post_link.to_owned(),
        secret_hash: SecretHash(form.get("secret_hash").unwrap_or("").to_owned()),
    }))
}
