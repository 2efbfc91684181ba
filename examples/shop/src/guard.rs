//! What stands between strangers and the shop's forms:
//! - the client's address: the peer, or behind reverse proxies the shop trusts
//!   (`SHOP_TRUSTED_PROXY_HOPS`) the address the outermost of them saw;
//! - failed staff sign-ins, counted per (name, address) before the password is checked, that
//!   make only that address wait (2 s after five failures, doubling, at most 15 minutes), so
//!   a stranger typing a colleague's name never keeps the colleague out;
//! - a token on the forms people send before they have a session (Buy, sign-in): a cookie
//!   that other sites' pages cannot send with a form (`SameSite=Lax`) and a hidden field that
//!   must match it.
//!
//! The sign-in record lives in memory, at most `MAX_RECORDS` (name, address) pairs: a restart
//! forgives failures, and one shop process is assumed (several behind a balancer would each
//! count their own). Each address also has a rate of sign-in attempts whatever the names, and
//! argon2 runs for one sign-in at a time (`staff.rs`), so no flood takes the shop's CPU or
//! memory.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue, header};

/// The address a request came from: the peer, or with `trusted_hops` reverse proxies in front
/// the entry that many places from the right of `X-Forwarded-For` (everything to its left was
/// written by the client and proves nothing). IPv6 clients count by their /64.
pub fn client(headers: &HeaderMap, peer: SocketAddr, trusted_hops: u32) -> IpAddr {
    let forwarded = || {
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect();
        entries.get(entries.len().checked_sub(trusted_hops as usize)?)?.parse::<IpAddr>().ok()
    };
    let ip = if trusted_hops == 0 { peer.ip() } else { forwarded().unwrap_or(peer.ip()) };
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        IpAddr::V6(v6) => IpAddr::V4(v6.to_ipv4_mapped().expect("mapped")),
        v4 => v4,
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Attempts {
    failures: i64,
    last_at: i64,
    next_at: i64,
}

/// Failed staff sign-ins per (name, address).
pub struct Throttle {
    attempts: Mutex<HashMap<(String, IpAddr), Attempts>>,
}

const FREE_FAILURES: i64 = 5;
const LONGEST_WAIT_SECS: i64 = 15 * 60;
const WINDOW_SECS: i64 = 3600;
/// At most this many records: past it, those idle for the window are dropped, and if that is
/// not enough a new pair is refused (a flood of made-up names) until some are.
const MAX_RECORDS: usize = 10_000;

impl Throttle {
    pub fn new() -> Throttle {
        Throttle { attempts: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt of `name` from `client` at `now` before its password is checked:
    /// `Err(seconds)` when that address must wait first (the attempt is counted all the same),
    /// or when the record is full of other pairs.
    pub fn attempt(&self, name: &str, client: IpAddr, now: i64) -> Result<(), i64> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = (name.to_owned(), client);
        if attempts.len() >= MAX_RECORDS && !attempts.contains_key(&key) {
            attempts.retain(|_, record| now - record.last_at < WINDOW_SECS);
            if attempts.len() >= MAX_RECORDS {
                return Err(60);
            }
        }
        let record = attempts.entry(key).or_default();
        if now - record.last_at >= WINDOW_SECS {
            *record = Attempts::default();
        }
        record.failures += 1;
        record.last_at = now;
        if now < record.next_at {
            return Err(record.next_at - now);
        }
        let beyond_free = record.failures - FREE_FAILURES;
        let wait = if beyond_free < 0 {
            0
        } else {
            1i64.checked_shl((beyond_free + 1).min(62) as u32).unwrap_or(LONGEST_WAIT_SECS).min(LONGEST_WAIT_SECS)
        };
        record.next_at = now + wait;
        Ok(())
    }

    /// `name` signed in from `client`: its failures there are forgotten.
    pub fn signed_in(&self, name: &str, client: IpAddr) {
        self.attempts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&(name.to_owned(), client));
    }

    /// Attempts counted for `name` from `client`.
    #[cfg(test)]
    pub fn counted(&self, name: &str, client: IpAddr) -> i64 {
        self.attempts.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&(name.to_owned(), client)).map_or(0, |r| r.failures)
    }
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new()
    }
}

/// The form cookie's name: `__Host-` over https, so that no sibling subdomain can plant one.
fn form_cookie(secure: bool) -> &'static str {
    if secure { "__Host-shop_form" } else { "shop_form" }
}

/// The visitor's form token (from their cookie), or a new one with the `Set-Cookie` to send.
pub fn form_token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    let name = form_cookie(secure);
    if let Some(token) = cookie(headers, name).filter(|token| token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())) {
        return (token, None);
    }
    let token = super::staff::random_hex();
    let secure = if secure { "; Secure" } else { "" };
    let set = format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax{secure}");
    (token, HeaderValue::from_str(&set).ok())
}

/// Whether a form's `sent` token is the visitor's (constant time).
pub fn form_token_matches(headers: &HeaderMap, sent: &str, secure: bool) -> bool {
    cookie(headers, form_cookie(secure)).is_some_and(|token| token.len() == 64 && same(&token, sent))
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(";");
    cookies.split(';').filter_map(|c| c.trim().split_once('=')).find(|(n, _)| *n == name).map(|(_, v)| v.to_owned())
}

/// Equal strings, compared in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_make_only_their_address_wait_and_a_sign_in_forgets_them() {
        let throttle = Throttle::new();
        let (stranger, colleague): (IpAddr, IpAddr) = ("203.0.113.7".parse().unwrap(), "198.51.100.2".parse().unwrap());
        let outcomes: Vec<_> = (0..8).map(|_| throttle.attempt("anna", stranger, 1_000)).collect();
        assert_eq!(outcomes, [Ok(()), Ok(()), Ok(()), Ok(()), Ok(()), Err(2), Err(2), Err(2)]);
        assert_eq!(throttle.counted("anna", stranger), 8);
        assert_eq!(throttle.attempt("anna", colleague, 1_000), Ok(()), "elsewhere: no wait");
        assert_eq!(throttle.attempt("anna", stranger, 1_002), Ok(()), "after the wait");
        assert_eq!(throttle.attempt("anna", stranger, 1_002), Err(1 << 5), "longer each time");
        assert_eq!(throttle.attempt("anna", stranger, 1_000 + WINDOW_SECS + 1), Ok(()), "forgotten after the window");
        throttle.signed_in("anna", stranger);
        assert_eq!(throttle.counted("anna", stranger), 0);
    }

    #[test]
    fn a_flood_of_made_up_names_fills_the_record_and_no_more() {
        let throttle = Throttle::new();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        for n in 0..MAX_RECORDS {
            assert_eq!(throttle.attempt(&format!("made-up-{n}"), client, 1_000), Ok(()));
        }
        assert_eq!(throttle.attempt("one-more", client, 1_001), Err(60), "full");
        assert_eq!(throttle.attempt("made-up-7", client, 1_001), Ok(()), "a known pair is still counted");
        assert_eq!(throttle.attempt("anna", client, 1_000 + WINDOW_SECS), Ok(()), "the idle ones are dropped for a new one");
        assert!(throttle.attempts.lock().unwrap().len() <= 2);
    }

    #[test]
    fn the_client_is_the_address_the_trusted_proxy_saw() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.7"));
        let peer: SocketAddr = "10.0.0.1:4000".parse().unwrap();
        assert_eq!(client(&headers, peer, 0), "10.0.0.1".parse::<IpAddr>().unwrap(), "no proxy trusted: the peer");
        assert_eq!(client(&headers, peer, 1), "203.0.113.7".parse::<IpAddr>().unwrap(), "not what the client wrote");
        assert_eq!(client(&headers, peer, 3), "10.0.0.1".parse::<IpAddr>().unwrap(), "too few entries: the peer");
        assert_eq!(client(&HeaderMap::new(), "[2001:db8:1:2:aaaa::1]:1".parse().unwrap(), 0), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
    }
}
