//! What the proxy counts of its calls to ePay (docs/metrics.md): the metric names, and the
//! labels of an endpoint and an outcome.

pub const EPAY_REQUESTS: &str = "epay_proxy_epay_requests_total";
pub const EPAY_DURATION: &str = "epay_proxy_epay_request_duration_seconds";

/// Records one call to ePay: its `endpoint` and the `outcome` of its answer.
pub fn record_call(endpoint: &'static str, outcome: &'static str, elapsed: std::time::Duration) {
    metrics::counter!(EPAY_REQUESTS, "endpoint" => endpoint, "outcome" => outcome).increment(1);
    metrics::histogram!(EPAY_DURATION, "endpoint" => endpoint).record(elapsed.as_secs_f64());
}

/// The ePay endpoint a request path names, without the ids in it (a label must have few
/// values): `/operation/{id}/refund` is `refund`.
pub fn endpoint(path: &str) -> &'static str {
    let path = path.trim_end_matches('/');
    if path.ends_with("/oauth2/token") {
        "token"
    } else if path.contains("/check-status/p2p/") {
        "status_p2p"
    } else if path.contains("/check-status/") {
        "status_payment"
    } else if path.contains("/operation/") {
        match path.rsplit('/').next() {
            Some("refund") => "refund",
            Some("charge") => "charge",
            Some("cancel") => "cancel",
            _ => "operation_other",
        }
    } else if path.ends_with("/payments/cards/auth") {
        "card_payment"
    } else if path.contains("/card/deactivate/") {
        "card_deactivate"
    } else {
        "other"
    }
}

/// An ePay answer's outcome label.
pub fn outcome(status: Option<u16>, timed_out: bool) -> &'static str {
    match (status, timed_out) {
        (_, true) => "timeout",
        (None, false) => "unreachable",
        (Some(200..=299), _) => "ok",
        (Some(400..=499), _) => "http_4xx",
        (Some(_), _) => "http_5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epay_endpoints_are_named_without_their_ids() {
        let cases = [
            ("/oauth2/token", "token"),
            ("/sandbox/oauth2/token", "token"),
            ("/check-status/payment/transaction/000000123456", "status_payment"),
            ("/check-status/p2p/transaction/000000123456", "status_p2p"),
            ("/operation/7f0c-11/refund", "refund"),
            ("/operation/7f0c-11/charge", "charge"),
            ("/operation/7f0c-11/cancel", "cancel"),
            ("/somewhere", "other"),
        ];
        for (path, named) in cases {
            assert_eq!(endpoint(path), named, "{path}");
        }
    }

    #[test]
    fn outcomes_say_what_came_back() {
        assert_eq!(outcome(Some(200), false), "ok");
        assert_eq!(outcome(Some(400), false), "http_4xx");
        assert_eq!(outcome(Some(502), false), "http_5xx");
        assert_eq!(outcome(None, true), "timeout");
        assert_eq!(outcome(None, false), "unreachable");
    }
}
