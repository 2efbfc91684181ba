//! Random values the proxy hands out, and how it compares them.

use rand::Rng;
use rand::distr::{Alphanumeric, Uniform};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The per-invoice `secret_hash` ePay echoes back in postLinks: 28 upper-case letters
/// (26^28 ≈ 2^131). Letters only, like the seed's sample, so no encoding can mangle it.
pub fn new_secret_hash() -> String {
    let letters = Uniform::new_inclusive(b'A', b'Z').expect("valid range");
    rand::rng().sample_iter(letters).take(28).map(char::from).collect()
}

/// The payer's per-order key that unlocks the order status: 32 alphanumerics (≈ 2^190).
pub fn new_order_key() -> String {
    rand::rng().sample_iter(Alphanumeric).take(32).map(char::from).collect()
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
        assert_eq!(a.len(), 28);
        assert!(a.bytes().all(|b| b.is_ascii_uppercase()));
        assert_ne!(a, new_secret_hash());
    }

    #[test]
    fn order_keys_vary_and_compare_exactly() {
        let key = new_order_key();
        assert_eq!(key.len(), 32);
        assert_ne!(key, new_order_key());
        assert!(constant_time_eq("ABC", "ABC"));
        assert!(!constant_time_eq("ABC", "ABD"));
        assert!(!constant_time_eq("ABC", "ABCD"));
    }
}
