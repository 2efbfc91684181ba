//! `/api/admin/*` over fetch: same origin, the session cookie, the CSRF token on changes, and
//! errors as the console acts on them.

use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestCredentials, RequestInit, Response};

#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// No session (never signed in, signed out, expired): show the sign-in.
    SignedOut,
    /// Too many failed sign-ins from this address (or sign-in is busy): wait this many seconds.
    Wait(i64),
    /// The password was right; the person's second factor is asked for.
    CodeRequired,
    /// 403: a viewer, or a stale CSRF token.
    Forbidden(String),
    /// Any other refusal, with the proxy's code and message.
    Refused { status: u16, code: String, message: String },
    /// No answer (offline, the proxy restarting).
    Network(String),
}

impl ApiError {
    /// The proxy's own words, when it said something.
    pub fn detail(&self) -> String {
        match self {
            ApiError::Refused { message, .. } | ApiError::Forbidden(message) | ApiError::Network(message) => message.clone(),
            ApiError::SignedOut | ApiError::Wait(_) | ApiError::CodeRequired => String::new(),
        }
    }
}

fn js_text(value: JsValue) -> String {
    value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().and_then(|s| s.as_string())).unwrap_or_default()
}

async fn call(
    method: &str,
    path: &str,
    body: Option<String>,
    csrf: Option<&str>,
    key: Option<&str>,
) -> Result<(u16, String, Option<String>), ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = &body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|e| ApiError::Network(js_text(e)))?;
    let headers = request.headers();
    let _ = headers.set("accept", "application/json");
    if body.is_some() {
        let _ = headers.set("content-type", "application/json");
    }
    if let Some(csrf) = csrf {
        let _ = headers.set(epay_api_types::CSRF_HEADER, csrf);
    }
    if let Some(key) = key {
        let _ = headers.set("idempotency-key", key);
    }
    let window = web_sys::window().ok_or_else(|| ApiError::Network("no window".into()))?;
    let response: Response =
        JsFuture::from(window.fetch_with_request(&request)).await.map_err(|e| ApiError::Network(js_text(e)))?.unchecked_into();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    Ok((response.status(), text, retry_after))
}

fn refusal(status: u16, text: &str, retry_after: Option<String>) -> ApiError {
    let body: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let (code, message) = (body["error"].as_str().unwrap_or("").to_owned(), body["message"].as_str().unwrap_or(text).to_owned());
    match status {
        401 if code == "second_factor_required" => ApiError::CodeRequired,
        401 => ApiError::SignedOut,
        403 => ApiError::Forbidden(message),
        429 | 503 if code == "rate_limited" => ApiError::Wait(retry_after.and_then(|s| s.parse().ok()).unwrap_or(60)),
        _ => ApiError::Refused { status, code, message },
    }
}

async fn json<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
    csrf: Option<&str>,
    key: Option<&str>,
) -> Result<T, ApiError> {
    let (status, text, retry_after) = call(method, path, body, csrf, key).await?;
    if !(200..300).contains(&status) {
        return Err(refusal(status, &text, retry_after));
    }
    serde_json::from_str(&text).map_err(|e| ApiError::Network(format!("an answer the console cannot read: {e}")))
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    json("GET", path, None, None, None).await
}

/// A change: the session's CSRF token, and an Idempotency-Key for money actions.
pub async fn post<T: DeserializeOwned>(path: &str, body: &serde_json::Value, csrf: &str, key: Option<&str>) -> Result<T, ApiError> {
    json("POST", path, Some(body.to_string()), Some(csrf), key).await
}

/// A change whose answer has no body (202, 204).
pub async fn send(method: &str, path: &str, csrf: &str) -> Result<(), ApiError> {
    let (status, text, retry_after) = call(method, path, None, Some(csrf), None).await?;
    if (200..300).contains(&status) { Ok(()) } else { Err(refusal(status, &text, retry_after)) }
}

/// `POST /api/admin/session` (no CSRF token yet), with the second factor's code once asked.
pub async fn sign_in(user: &str, password: &str, code: Option<&str>) -> Result<epay_api_types::AdminSession, ApiError> {
    let mut body = serde_json::json!({"user": user, "password": password});
    if let Some(code) = code {
        body["code"] = serde_json::Value::from(code);
    }
    let body = body.to_string();
    json("POST", "/api/admin/session", Some(body), None, None).await
}

/// A fresh Idempotency-Key (one per confirmation: a double click is one operation).
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
