//! ePay invoice numbers: digits only, 6 to 15 characters, unique, and unique in their last
//! six digits among orders that can still be paid.
//!
//! They are random rather than sequential: a wiped or restored database cannot hand out a
//! number ePay already saw, and numbers do not reveal sales volume. Uniqueness itself is
//! enforced by the database (a UNIQUE column and a partial unique index on the suffix);
//! a collision just draws again.

use rand::Rng;

/// 12 digits: ample room for random draws, well inside ePay's 15.
pub const INVOICE_DIGITS: usize = 12;

pub fn new_invoice_id() -> String {
    let mut rng = rand::rng();
    // First digit 1-9 so no system that parses it as a number drops a leading zero.
    let mut id = String::with_capacity(INVOICE_DIGITS);
    id.push(char::from(b'0' + rng.random_range(1..=9u8)));
    for _ in 1..INVOICE_DIGITS {
        id.push(char::from(b'0' + rng.random_range(0..=9u8)));
    }
    id
}

pub use epay_api_types::is_valid_invoice_id;

/// The last six digits, which ePay also wants unique.
pub fn suffix(id: &str) -> &str {
    &id[id.len().saturating_sub(6)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_valid_and_vary() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_invoice_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| is_valid_invoice_id(id) && id.len() == INVOICE_DIGITS && !id.starts_with('0')));
    }

    #[test]
    fn validity_follows_epay() {
        assert!(is_valid_invoice_id("000001"));
        assert!(is_valid_invoice_id("123456789012345"));
        assert!(!is_valid_invoice_id("12345"));
        assert!(!is_valid_invoice_id("1234567890123456"));
        assert!(!is_valid_invoice_id("INV-123456"));
        assert_eq!(suffix("123456789012"), "789012");
    }
}
