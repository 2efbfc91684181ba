//! Why a call to the proxy failed, and what the payer is told about it.

use epay_api_types::ErrorCode;

use crate::i18n::Texts;

#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// No answer at all (offline, DNS, CORS, proxy down).
    Network,
    /// The proxy answered with an error.
    Refused { status: u16, code: ErrorCode },
    /// Something answered 2xx with a body that is not the proxy's (a misrouted URL).
    Malformed,
}

impl Failure {
    /// The `reason` of an `epay:error` event: the proxy's error code, or `network` /
    /// `malformed` when there was no proper answer.
    pub fn code_name(&self) -> &'static str {
        match self {
            Failure::Network => "network",
            Failure::Malformed => "malformed",
            Failure::Refused { code, .. } => code.as_str(),
        }
    }
}

pub fn problem_text(texts: &'static Texts, failure: &Failure) -> &'static str {
    match failure {
        Failure::Network => texts.network,
        Failure::Malformed => texts.unavailable,
        Failure::Refused { code: ErrorCode::CheckoutInProgress, .. } => texts.in_progress,
        Failure::Refused { code: ErrorCode::CheckoutFinished, .. } => texts.finished,
        Failure::Refused { code: ErrorCode::RateLimited, .. } => texts.rate_limited,
        Failure::Refused { code: ErrorCode::OrderExpired, .. } => texts.expired,
        Failure::Refused { status, .. } if *status >= 500 => texts.unavailable,
        Failure::Refused { .. } => texts.refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use epay_api_types::Language;

    #[test]
    fn each_failure_says_what_the_payer_can_do() {
        let texts = crate::i18n::texts(Language::En);
        let refused = |status, code| Failure::Refused { status, code };
        assert_eq!(problem_text(texts, &Failure::Network), texts.network);
        assert_eq!(problem_text(texts, &Failure::Malformed), texts.unavailable);
        assert_eq!(problem_text(texts, &refused(409, ErrorCode::CheckoutInProgress)), texts.in_progress);
        assert_eq!(problem_text(texts, &refused(409, ErrorCode::CheckoutFinished)), texts.finished);
        assert_eq!(problem_text(texts, &refused(429, ErrorCode::RateLimited)), texts.rate_limited);
        assert_eq!(problem_text(texts, &refused(503, ErrorCode::TooManyOpenOrders)), texts.unavailable);
        assert_eq!(problem_text(texts, &refused(502, ErrorCode::UpstreamError)), texts.unavailable);
        assert_eq!(problem_text(texts, &refused(422, ErrorCode::InvalidAmount)), texts.refused);
        assert_eq!(problem_text(texts, &refused(410, ErrorCode::OrderExpired)), texts.expired);
        assert_eq!(refused(410, ErrorCode::OrderExpired).code_name(), "order_expired");
        assert_eq!(Failure::Network.code_name(), "network");
    }
}
