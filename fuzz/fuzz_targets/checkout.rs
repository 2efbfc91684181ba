//! Any bytes as a checkout request body: deserialised as the proxy does, then validated
//! against limits. Nothing may panic.
#![no_main]

use std::sync::LazyLock;

use epay_api_types::CheckoutRequest;
use epay_proxy::checkout::validate;
use epay_proxy::config::Config;
use libfuzzer_sys::fuzz_target;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::from_lookup(|name| match name {
        "CHECKOUT_MIN_AMOUNT" => Some("10".into()),
        "CHECKOUT_MAX_AMOUNT" => Some("500000".into()),
        "CHECKOUT_CURRENCIES" => Some("KZT,USD".into()),
        _ => None,
    })
    .expect("fuzz configuration")
});

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<CheckoutRequest>(data) {
        let _ = validate::checkout(&request, &CONFIG.checkout);
        let _ = request.amount.parse::<f64>();
    }
});
