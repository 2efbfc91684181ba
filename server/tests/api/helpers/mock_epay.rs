//! A stand-in for ePay on a loopback port: the OAuth endpoint (payment tokens answer as
//! told; the service-token grant always works) and the status API (answers queued by the
//! test). Every request is recorded.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn ok(body: &str) -> Reply {
        Reply { status: 200, body: body.to_owned(), delay: Duration::ZERO }
    }
    pub fn status(status: u16, body: &str) -> Reply {
        Reply { status, body: body.to_owned(), delay: Duration::ZERO }
    }
    pub fn slow(delay: Duration) -> Reply {
        Reply { delay, ..Reply::ok(TOKEN_NUMERIC) }
    }
}

pub const TOKEN_NUMERIC: &str =
    r#"{"access_token":"DCEB8O_ZM5U7SO_T_U5EJQ","expires_in":7200,"refresh_token":"","scope":"transfer","token_type":"Bearer"}"#;
pub const TOKEN_STRING: &str =
    r#"{"access_token":"DCEB8O_ZM5U7SO_T_U5EJQ","expires_in":"7200","refresh_token":"","scope":"transfer","token_type":"Bearer"}"#;

pub const SERVICE_TOKEN: &str = "SERVICE-TOKEN-FOR-STATUS";

#[derive(Default)]
struct Inner {
    reply: Option<Reply>,
    forms: Vec<HashMap<String, String>>,
    /// Status API answers, in order; the last one repeats. Empty: "102" not found.
    status: VecDeque<serde_json::Value>,
    status_requests: Vec<String>,
}

#[derive(Clone)]
pub struct MockEpay {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl MockEpay {
    pub async fn start(reply: Reply) -> MockEpay {
        let inner = Arc::new(Mutex::new(Inner { reply: Some(reply), ..Inner::default() }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/oauth2/token", post(token))
            .route("/api/check-status/{kind}/transaction/{invoice_id}", get(status))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        MockEpay { addr, inner }
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Queues status API answers; the last one repeats.
    pub fn answer_status(&self, answers: Vec<serde_json::Value>) {
        self.inner.lock().unwrap().status = answers.into();
    }

    /// The status API paths asked so far.
    pub fn status_requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().status_requests.clone()
    }

    pub fn set_reply(&self, reply: Reply) {
        self.inner.lock().unwrap().reply = Some(reply);
    }

    /// Every form received so far.
    pub fn forms(&self) -> Vec<HashMap<String, String>> {
        self.inner.lock().unwrap().forms.clone()
    }
}

async fn token(State(inner): State<Arc<Mutex<Inner>>>, mut multipart: Multipart) -> Response {
    let mut form = HashMap::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        form.insert(name, field.text().await.unwrap_or_default());
    }
    let service = form.get("scope").is_some_and(|s| s.split_whitespace().any(|s| s == "webapi"));
    let reply = {
        let mut inner = inner.lock().unwrap();
        inner.forms.push(form);
        if service {
            let body = format!(r#"{{"access_token":"{SERVICE_TOKEN}","expires_in":7200,"scope":"webapi","token_type":"Bearer"}}"#);
            Reply::ok(&body)
        } else {
            inner.reply.clone().unwrap()
        }
    };
    tokio::time::sleep(reply.delay).await;
    (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response()
}

async fn status(State(inner): State<Arc<Mutex<Inner>>>, Path((kind, invoice_id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.status_requests.push(format!("{kind}/{invoice_id}"));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {SERVICE_TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, r#"{"code":401,"message":"service token required"}"#).into_response();
    }
    let answer = if inner.status.len() > 1 { inner.status.pop_front() } else { inner.status.front().cloned() };
    let answer = answer.unwrap_or_else(|| serde_json::json!({"resultCode": "102", "resultMessage": "not found"}));
    // {"__http": 503} stands for an HTTP answer without a body; with "__body", that body.
    if let Some(code) = answer.get("__http").and_then(|c| c.as_u64()) {
        let status = StatusCode::from_u16(code as u16).unwrap();
        return match answer.get("__body") {
            Some(body) => (status, axum::Json(body.clone())).into_response(),
            None => status.into_response(),
        };
    }
    axum::Json(answer).into_response()
}
