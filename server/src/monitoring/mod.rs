//! Prometheus metrics for whoever runs the proxy (README, "Metrics"; docs/metrics.md).
//!
//! Counters and histograms are recorded where things happen (`http`, the ePay client, the
//! store's writer) through the `metrics` facade; the state of the store (orders by state,
//! backlogs and the age of their oldest entry) is read when scraped (`backlog`). `/metrics`
//! is served on the main listener behind `METRICS_TOKEN`, and/or on `METRICS_LISTEN` (an
//! address of its own, meant to be private).

pub mod backlog;
pub mod http;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::AppError;
use crate::state::AppState;

/// Latency buckets in seconds: a loopback request takes well under a millisecond, an ePay
/// call up to its timeout.
const SECONDS_BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const JOBS_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 256.0];

/// How often histograms' samples are folded into their buckets between scrapes (without it
/// they would pile up in memory while nobody scrapes).
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's recorder, installed on first use, with a thread that keeps its histograms
/// folded. Several proxies in one process (tests) share it: counters add up across them, and
/// each scrape sets the store gauges afresh.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            .and_then(|builder| builder.set_buckets_for_metric(Matcher::Suffix("_jobs".into()), &JOBS_BUCKETS))
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics shows only the store's state");
        }
        describe();
        let upkept = handle.clone();
        let _ = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkept.run_upkeep();
            }
        });
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(http::REQUESTS, "HTTP requests answered, by route pattern, method and status");
    describe_histogram!(http::DURATION, Unit::Seconds, "Time to answer an HTTP request, by route pattern and method");
    describe_counter!(EPAY_REQUESTS, "Requests to ePay, by endpoint and outcome (ok, http_4xx, http_5xx, timeout, unreachable)");
    describe_histogram!(EPAY_DURATION, Unit::Seconds, "Time ePay took to answer, by endpoint");
    describe_histogram!(STORE_WRITE, Unit::Seconds, "Time a write transaction held the store (SQLite: one batch)");
    describe_histogram!(STORE_BATCH_JOBS, "Writes committed together in one batch (a transaction of the store's writer)");
    backlog::describe();
}

use crate::epay::metrics::{EPAY_DURATION, EPAY_REQUESTS};
use crate::store::{STORE_BATCH_JOBS, STORE_WRITE};

/// `/metrics` for the main listener: only with `METRICS_TOKEN`, and only for its bearer.
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    if state.config.metrics.token.is_none() {
        return Router::new();
    }
    Router::new().route("/metrics", get(scrape_with_token))
}

/// The router of `METRICS_LISTEN`: `/metrics`, open to whoever reaches that address.
pub fn private_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

/// Serves `private_router` on `addr` until the task is aborted (the proxy stops).
pub async fn serve_privately(addr: std::net::SocketAddr, state: Arc<AppState>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics served on METRICS_LISTEN");
    Ok(tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, private_router(state)).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    }))
}

async fn scrape_with_token(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, AppError> {
    let token = app.config.metrics.token.as_slice();
    if token.is_empty() || crate::secrets::bearer_matches(&headers, token) != Some(true) {
        return Err(AppError::unauthorized("send `Authorization: Bearer <METRICS_TOKEN>` to read /metrics"));
    }
    scrape(State(app)).await
}

async fn scrape(State(app): State<Arc<AppState>>) -> Result<Response, AppError> {
    let handle = handle();
    let backlog = app.store.read(backlog::read_now).await.map_err(AppError::internal)?;
    backlog.publish();
    handle.run_upkeep();
    let body = handle.render();
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}
