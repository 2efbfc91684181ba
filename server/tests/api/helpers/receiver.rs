//! A webhook receiver on a loopback port: it records every delivery (headers and body) and
//! answers with the statuses it is told, in order (the last one repeats).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inner {
    answers: VecDeque<u16>,
    deliveries: Vec<Delivery>,
    /// Hold the next delivery's request open this long before answering.
    hang_next: Option<std::time::Duration>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    /// A receiver answering `answers` in order, then the last one for ever.
    pub async fn start(answers: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Receiver::serve(listener, answers)
    }

    /// The same on a port chosen before (a receiver that was down and comes back).
    pub async fn start_on(addr: SocketAddr, answers: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        Receiver::serve(listener, answers)
    }

    fn serve(listener: tokio::net::TcpListener, answers: &[u16]) -> Receiver {
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Mutex::new(Inner { answers: answers.iter().copied().collect(), ..Inner::default() }));
        let app = Router::new().route("/hooks", post(receive)).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, inner }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// From now on, answer `status` to every delivery.
    pub fn answer(&self, status: u16) {
        self.inner.lock().unwrap().answers = VecDeque::from([status]);
    }

    /// Holds the next delivery open for `how_long` before answering it (a receiver stuck on one
    /// message); the ones after it are answered at once.
    pub fn hang_next(&self, how_long: std::time::Duration) {
        self.inner.lock().unwrap().hang_next = Some(how_long);
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().unwrap().deliveries.clone()
    }

    /// Deliveries of events of `event_type`.
    pub fn of_type(&self, event_type: &str) -> Vec<Delivery> {
        self.deliveries().into_iter().filter(|d| d.json()["type"] == event_type).collect()
    }
}

async fn receive(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, hang) = {
        let mut inner = inner.lock().unwrap();
        inner.deliveries.push(Delivery { headers, body });
        let status = if inner.answers.len() > 1 { inner.answers.pop_front() } else { inner.answers.front().copied() };
        (status, inner.hang_next.take())
    };
    if let Some(how_long) = hang {
        tokio::time::sleep(how_long).await;
    }
    StatusCode::from_u16(status.unwrap_or(200)).unwrap()
}

/// A test signing secret (whsec_ + base64 of 24 bytes).
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
