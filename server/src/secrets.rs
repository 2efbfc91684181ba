//! Random values the proxy hands out, and how it compares them.

use axum::http::{HeaderMap, header};
use rand::Rng;
use rand::distr::{Alphanumeric, Uniform};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The per-invoice `secret_hash` ePay echoes back in postLinks: 28 upper-case letters
/// (26^28 ≈ 2^131). Letters only, like the seed's sample, so no encoding can mangle it.
pub fn new_secret_hash() -> SecretText {
    let letters = Uniform::new_inclusive(b'A', b'Z').expect("valid range");
    SecretText(rand::rng().sample_iter(letters).take(28).map(char::from).collect())
}

/// The payer's per-order key that unlocks the order status: 32 alphanumerics (≈ 2^190).
pub fn new_order_key() -> SecretText {
    SecretText(rand::rng().sample_iter(Alphanumeric).take(32).map(char::from).collect())
}

/// `bytes` random bytes as lower-case hex: the console's session ids and CSRF tokens.
pub fn random_hex(bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rand::rng().random::<u8>())).collect()
}

/// Pure: whether `Authorization: Bearer <key>` names one of `keys` (`None`: no bearer key),
/// compared in constant time through SHA-256. The merchant API and `/metrics` both ask this.
pub fn bearer_matches(headers: &HeaderMap, keys: &[secrecy::SecretString]) -> Option<bool> {
    let presented = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok())?;
    let presented = Sha256::digest(presented.strip_prefix("Bearer ")?.trim().as_bytes());
    // Every key is compared, whichever matches: the time does not say which one did.
    let matched = keys.iter().fold(0u8, |found, key| found | presented.ct_eq(&Sha256::digest(key.expose_secret().as_bytes())).unwrap_u8());
    Some(matched == 1)
}

/// A secret the proxy stores (`secret_hash`, an order key): its `Debug` prints no content, so
/// no `{:?}` of a row, a request or an error can put it in a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(text: String) -> SecretText {
        SecretText(text)
    }

    /// The secret itself, for the few places that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText([redacted])")
    }
}

/// Compares two secrets without leaking, through timing, how much of them matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// SHA-256 of arbitrary bytes, hex-encoded.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_is_long_random_letters() {
        let a = new_secret_hash();
        assert_eq!(a.expose().len(), 28);
        assert!(a.expose().bytes().all(|b| b.is_ascii_uppercase()));
        assert_ne!(a, new_secret_hash());
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn order_keys_vary_and_compare_exactly() {
        let key = new_order_key();
        assert_eq!(key.expose().len(), 32);
        assert_ne!(key, new_order_key());
        assert!(constant_time_eq("ABC", "ABC"));
        assert!(!constant_time_eq("ABC", "ABD"));
        assert!(!constant_time_eq("ABC", "ABCD"));
    }
}
