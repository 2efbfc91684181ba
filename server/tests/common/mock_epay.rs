//! A stand-in for ePay's OAuth endpoint on a loopback port: answers as told and records the
//! form fields of every request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
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

#[derive(Default)]
struct Inner {
    reply: Option<Reply>,
    forms: Vec<HashMap<String, String>>,
}

#[derive(Clone)]
pub struct MockEpay {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl MockEpay {
    pub async fn start(reply: Reply) -> MockEpay {
        let inner = Arc::new(Mutex::new(Inner { reply: Some(reply), forms: Vec::new() }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/oauth2/token", post(token)).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        MockEpay { addr, inner }
    }

    pub fn token_url(&self) -> String {
        format!("http://{}/oauth2/token", self.addr)
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
    let reply = {
        let mut inner = inner.lock().unwrap();
        inner.forms.push(form);
        inner.reply.clone().unwrap()
    };
    tokio::time::sleep(reply.delay).await;
    (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response()
}
