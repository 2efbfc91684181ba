//! Per-client rate limit on `POST /api/checkout` (tower_governor): every checkout costs an
//! ePay token and an order row, so one client must not mint thousands. The client is the
//! peer address, or, behind a reverse proxy the operator trusts (`TRUST_FORWARDED_FOR`), the
//! first address of `X-Forwarded-For` / `X-Real-IP`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use epay_api_types::ErrorCode;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::GovernorLayer;
use governor::middleware::NoOpMiddleware;

use crate::config::Config;
use crate::error::AppError;

#[derive(Clone, Copy, Debug)]
pub struct ClientKey {
    pub trust_forwarded: bool,
}

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        if self.trust_forwarded
            && let Some(ip) = forwarded(request.headers())
        {
            return Ok(ip);
        }
        // Without a peer address (a request that did not come over a socket) clients cannot
        // be told apart: they share one bucket.
        Ok(request.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()))
    }
}

fn forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let first = |name: &str| headers.get(name)?.to_str().ok()?.split(',').next()?.trim().parse().ok();
    first("x-forwarded-for").or_else(|| first("x-real-ip"))
}

/// The limiter of `POST /api/checkout`: one per process, shared by the route's layer and the
/// task that forgets idle clients.
pub type CheckoutLimiter = Arc<GovernorConfig<ClientKey, NoOpMiddleware>>;

/// The limiter, or `None` when `CHECKOUT_RATE_PER_MINUTE=0`.
pub fn checkout_limiter(config: &Config) -> Option<CheckoutLimiter> {
    let per_minute = config.checkout_rate_per_minute;
    if per_minute == 0 {
        return None;
    }
    let mut builder = GovernorConfigBuilder::default().key_extractor(ClientKey { trust_forwarded: config.trust_forwarded_for });
    builder
        .period(Duration::from_micros(60_000_000 / u64::from(per_minute)))
        .burst_size(config.checkout_rate_burst)
        .methods(vec![axum::http::Method::POST])
        .error_handler(too_many);
    Some(Arc::new(builder.finish().expect("rate and burst are above zero")))
}

pub fn layer(limiter: &CheckoutLimiter) -> GovernorLayer<ClientKey, NoOpMiddleware> {
    GovernorLayer { config: limiter.clone() }
}

fn too_many(error: GovernorError) -> Response<Body> {
    let wait = match &error {
        GovernorError::TooManyRequests { wait_time, .. } => *wait_time,
        _ => 60,
    };
    let mut response = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("too many checkouts from this address; retry in {wait} s"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_addresses_are_read_only_when_trusted() {
        let mut request = Request::new(());
        request.headers_mut().insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7, 10.0.0.1"));
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
        assert_eq!(ClientKey { trust_forwarded: true }.extract(&request).unwrap(), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(ClientKey { trust_forwarded: false }.extract(&request).unwrap(), "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
