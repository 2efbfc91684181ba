//! Why ePay declined a payment, as a code a program can act on (`PaymentDetails.declineCode`).
//! ePay's pages publish two of its `reasonCode`s (the merchant document: 484 insufficient funds,
//! 476 retry later); the others keep ePay's own text as the message, under `declined`. Codes the
//! sandbox invents for saved cards (454 expired, 455 deactivated; no ePay page names them) are
//! read too, marked so in docs/saved-cards.md. Pure.

/// How the proxy words the failure of a charge it never sent because its card was deleted.
pub const CARD_DELETED: &str = "the saved card was deleted";

/// The code of a failed order: ePay's `reasonCode`, or the proxy's own reason when nothing was
/// sent (a saved card deleted before its payment left).
pub fn decline_code_of(failure_code: Option<i64>, failure_reason: Option<&str>) -> &'static str {
    if failure_code.is_none() && failure_reason.is_some_and(|reason| reason.starts_with(CARD_DELETED)) {
        return "card_deleted";
    }
    decline_code(failure_code)
}

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
        assert_eq!(decline_code_of(None, Some("the saved card was deleted before the payment was sent")), "card_deleted");
        assert!(!worth_retrying(decline_code_of(None, Some(CARD_DELETED))));
        assert_eq!(decline_code_of(Some(484), Some(CARD_DELETED)), "insufficient_funds", "ePay's code first");
    }
}
