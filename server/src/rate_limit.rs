//! Limits on what strangers can make the proxy do.
//!
//! - Per client, `POST /api/checkout` (tower_governor): every checkout costs an ePay token and
//!   an order row.
//! - Per source, postLinks that change nothing (rejected, or hints repeated within seconds):
//!   each would be stored.
//! - For all clients together, payment tokens requested from ePay per minute.
//!
//! The client is the peer address or, behind reverse proxies the operator trusts
//! (`TRUST_FORWARDED_FOR`, `TRUSTED_PROXY_HOPS`), the address the outermost of them saw: the
//! rightmost `X-Forwarded-For` entries were appended by those proxies, everything to their
//! left was written by the client and proves nothing. IPv6 clients are counted by /64, the
//! block one subscriber usually has.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRef};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use epay_api_types::ErrorCode;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

use crate::config::{ClientAddressRule, LimitSettings};
use crate::error::AppError;

/// The address a request came from, as far as it can be trusted (see the module's comment).
pub fn client_ip(rule: ClientAddressRule, headers: &HeaderMap, peer: Option<IpAddr>) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !rule.trust_forwarded_for {
        return peer;
    }
    forwarded_client(headers, rule.trusted_hops).unwrap_or(peer)
}

/// The entry `hops` places from the right of all `X-Forwarded-For` headers together (the
/// address the outermost trusted proxy saw), or `X-Real-IP` when there is no such header.
/// `None` when the header is missing, too short or not an address: then the peer counts.
pub fn forwarded_client(headers: &HeaderMap, hops: u32) -> Option<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if entries.is_empty() {
        return headers.get("x-real-ip")?.to_str().ok()?.trim().parse().ok();
    }
    let index = entries.len().checked_sub(hops as usize)?;
    entries[index].parse().ok()
}

/// The key clients are counted by: the address itself, or its /64 for IPv6.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// Marks a request that came in on the console's own address (`ADMIN_LISTEN`), whose
/// reverse proxies are `ADMIN_TRUSTED_PROXY_HOPS`'s.
#[derive(Clone, Copy, Debug)]
pub struct OnConsoleListener;

/// A wider key for sign-in attempts: an IPv6 client by its /56 (a subscriber often gets a
/// /56 or /48, so counting by /64 would give them 256 or 65,536 fresh buckets).
pub fn coarse_bucket(ip: IpAddr) -> IpAddr {
    match bucket(ip) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 72) - 1))),
        v4 => v4,
    }
}

/// Extracts the request's client address (see `client_ip`).
pub struct ClientAddr(pub IpAddr);

/// How the public listener's and the console's requests name their client (`client_ip`),
/// taken from the app's state by `ClientAddr`.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddressRules {
    pub public: ClientAddressRule,
    pub console: ClientAddressRule,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr
where
    ClientAddressRules: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let rules = ClientAddressRules::from_ref(state);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let rule = match parts.extensions.get::<OnConsoleListener>() {
            Some(_) => rules.console,
            None => rules.public,
        };
        Ok(ClientAddr(client_ip(rule, &parts.headers, peer)))
    }
}

#[derive(Clone, Debug)]
pub struct ClientKey {
    pub rule: ClientAddressRule,
}

impl KeyExtractor for ClientKey {
    type Key = IpAddr;

    fn extract<T>(&self, request: &Request<T>) -> Result<IpAddr, GovernorError> {
        // Without a peer address (a request that did not come over a socket) clients cannot
        // be told apart: they share one bucket.
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(bucket(client_ip(self.rule, request.headers(), peer)))
    }
}

/// The limiter of `POST /api/checkout`: one per process, shared by the route's layer and the
/// task that forgets idle clients.
pub type CheckoutLimiter = Arc<GovernorConfig<ClientKey, NoOpMiddleware>>;

/// The limiter, or `None` when `CHECKOUT_RATE_PER_MINUTE=0`.
pub fn checkout_limiter(limits: &LimitSettings) -> Option<CheckoutLimiter> {
    let per_minute = limits.checkout_rate_per_minute;
    if per_minute == 0 {
        return None;
    }
    let mut builder = GovernorConfigBuilder::default().key_extractor(ClientKey { rule: limits.client_address });
    builder
        .period(Duration::from_micros(60_000_000 / u64::from(per_minute)))
        .burst_size(limits.checkout_rate_burst)
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

/// Per source: how many notifications that change nothing it may make the proxy store.
#[derive(Clone)]
pub struct SourceLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl SourceLimiter {
    pub fn new(per_minute: u32) -> SourceLimiter {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        SourceLimiter(Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))))
    }

    /// Whether `source` may make one more (and counts it).
    pub fn admits(&self, source: IpAddr) -> bool {
        self.0.check_key(&bucket(source)).is_ok()
    }

    /// Forgets sources that have been quiet long enough to be full again.
    pub fn forget_idle(&self) {
        self.0.retain_recent();
    }
}

/// For all clients together: payment tokens per minute (`EPAY_TOKEN_RATE_PER_MINUTE`).
#[derive(Clone)]
pub struct TokenBudget(Option<Arc<DefaultDirectRateLimiter>>);

impl TokenBudget {
    pub fn new(per_minute: u32) -> TokenBudget {
        // The whole minute's worth may be used at once: the cap is on the rate, not on bursts.
        TokenBudget(NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::direct(Quota::per_minute(n)))))
    }

    /// Takes one token request from the budget, or says how long until one is free.
    pub fn take(&self) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_address_a_trusted_proxy_added() {
        // The client wrote "6.6.6.6" itself; nginx appended the address it saw.
        let spoofed = headers(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(forwarded_client(&spoofed, 1), Some(ip("203.0.113.7")));
        // Two proxies: a CDN appended the client, nginx appended the CDN.
        let two = headers(&["6.6.6.6, 203.0.113.7, 198.51.100.2"]);
        assert_eq!(forwarded_client(&two, 2), Some(ip("203.0.113.7")));
        // Several header lines count as one list.
        assert_eq!(forwarded_client(&headers(&["6.6.6.6", "203.0.113.7"]), 1), Some(ip("203.0.113.7")));
        // Fewer entries than trusted hops: nothing to believe.
        assert_eq!(forwarded_client(&headers(&["203.0.113.7"]), 2), None);
        assert_eq!(forwarded_client(&headers(&["junk"]), 1), None);
        let mut real_ip = HeaderMap::new();
        real_ip.insert("x-real-ip", HeaderValue::from_static("203.0.113.9"));
        assert_eq!(forwarded_client(&real_ip, 1), Some(ip("203.0.113.9")));
    }

    #[test]
    fn forwarded_addresses_are_read_only_when_trusted() {
        let trusting = ClientAddressRule { trust_forwarded_for: true, trusted_hops: 1 };
        let not_trusting = ClientAddressRule { trust_forwarded_for: false, trusted_hops: 1 };
        let mut request = Request::new(());
        request.headers_mut().insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.7"));
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
        assert_eq!(ClientKey { rule: trusting }.extract(&request).unwrap(), ip("203.0.113.7"));
        assert_eq!(ClientKey { rule: not_trusting }.extract(&request).unwrap(), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("2001:db8:1:2:bbbb::2")), bucket(ip("2001:db8:1:2:aaaa::1")));
        assert_ne!(bucket(ip("2001:db8:1:3::1")), bucket(ip("2001:db8:1:2::1")));
        assert_eq!(bucket(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(bucket(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(coarse_bucket(ip("2001:db8:1:2ff:aaaa::1")), ip("2001:db8:1:200::"));
        assert_eq!(coarse_bucket(ip("203.0.113.7")), ip("203.0.113.7"));
    }

    #[test]
    fn a_source_is_limited_alone_and_the_token_budget_is_shared() {
        let limiter = SourceLimiter::new(3);
        let (a, b) = (ip("2001:db8::1"), ip("2001:db8::2"));
        assert_eq!((0..5).filter(|_| limiter.admits(a)).count(), 3);
        assert!(!limiter.admits(b), "the same /64");
        assert!(limiter.admits(ip("192.0.2.1")));

        let budget = TokenBudget::new(2);
        assert!(budget.take().is_ok() && budget.take().is_ok());
        let wait = budget.take().unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30), "{wait:?}");
        let unlimited = TokenBudget::new(0);
        assert!((0..1000).all(|_| unlimited.take().is_ok()));
    }
}
