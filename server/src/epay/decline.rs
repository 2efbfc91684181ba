//! Why ePay declined a payment, as a code a program can act on (`PaymentDetails.declineCode`).
//! ePay's pages publish two of its `reasonCode`s (the merchant document: 484 insufficient funds,
//! 476 retry later); the others keep ePay's own text as the message, under `declined`. Codes the
//! sandbox invents for saved cards (454 expired, 455 deactivated; no ePay page names them) are
//! read too, marked so in docs/saved-cards.md. Pure.

/// The code for ePay's `reasonCode` of a declined payment.
pub fn decline_code(reason_code: Option<i64>) -> &'static str {
    match reason_code {
        Some(484) => "insufficient_funds",
        Some(476) => "try_again_later",
        // The sandbox's codes for a saved card (unconfirmed at ePay).
        Some(454) => "card_expired",
        Some(455) => "card_deactivated",
        _ => "declined",
    }
}

/// Whether trying the same card again later may succeed (a subscription's retries).
pub fn worth_retrying(code: &str) -> bool {
    matches!(code, "insufficient_funds" | "try_again_later" | "declined")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_codes_are_named_and_the_rest_is_declined() {
        assert_eq!(decline_code(Some(484)), "insufficient_funds");
        assert_eq!(decline_code(Some(476)), "try_again_later");
        assert_eq!(decline_code(Some(454)), "card_expired");
        assert_eq!(decline_code(Some(-498)), "declined");
        assert_eq!(decline_code(None), "declined");
        assert!(!worth_retrying("card_expired") && !worth_retrying("card_deactivated") && worth_retrying("insufficient_funds"));
    }
}
