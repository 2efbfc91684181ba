//! Properties of the two parsers strangers can reach: the postLink parser and checkout
//! validation (cargo-fuzz targets in fuzz/ run the same code for millions of inputs).

use epay_api_types::{Amount, CheckoutRequest};
use epay_proxy::checkout::validate;
use epay_proxy::config::Config;
use epay_proxy::postlink::Notification;
use proptest::prelude::*;
use serde_json::{Value, json};

const SUCCESS_SAMPLE: &str = include_str!("../../fuzz/corpus/postlink/seed-success.json");
const FAILURE_SAMPLE: &str = include_str!("../../fuzz/corpus/postlink/seed-failure.json");

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "CHECKOUT_MIN_AMOUNT" => Some("10".into()),
        "CHECKOUT_MAX_AMOUNT" => Some("500000".into()),
        _ => None,
    })
    .unwrap()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN or infinity", |f| f.is_finite()).prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map("[a-zA-Z_]{1,12}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn the_postlink_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(n) = Notification::parse(&bytes) {
            let _ = (n.is_success(), n.amount());
        }
    }

    #[test]
    fn the_postlink_parser_never_panics_when_any_field_of_the_samples_is_anything(
        field in prop::sample::select(vec!["invoiceId", "amount", "currency", "terminal", "code", "secret_hash", "id", "reasonCode", "cardMask"]),
        value in any_json(),
        failure in any::<bool>(),
    ) {
        let mut sample: Value = serde_json::from_str(if failure { FAILURE_SAMPLE } else { SUCCESS_SAMPLE }).unwrap();
        sample[field] = value;
        let n = Notification::parse(sample.to_string().as_bytes()).unwrap();
        let _ = (n.is_success(), n.amount());
    }

    #[test]
    fn postlink_amounts_are_exact_in_every_form_epay_sends(minor in 1u64..10_000_000_000, as_text in any::<bool>()) {
        let text = Amount::from_minor(minor).to_string();
        let amount = if as_text { json!(text) } else { serde_json::from_str::<Value>(&text).unwrap() };
        let n = Notification::parse(json!({"amount": amount}).to_string().as_bytes()).unwrap();
        prop_assert_eq!(n.amount(), Some(Amount::from_minor(minor)));
    }

    #[test]
    fn amounts_print_and_parse_back_exactly(minor in 1u64..99_999_999_999_999) {
        let amount = Amount::from_minor(minor);
        prop_assert_eq!(Amount::parse(&amount.to_string()), Ok(amount));
    }

    #[test]
    fn checkout_validation_never_panics(
        amount in ".{0,24}", currency in proptest::option::of(".{0,6}"), description in proptest::option::of(".{0,200}"),
        account_id in proptest::option::of(".{0,80}"), email in proptest::option::of(".{0,60}"), phone in proptest::option::of(".{0,24}"),
    ) {
        let request = CheckoutRequest { amount, currency, description, account_id, email, phone, ..Default::default() };
        let _ = validate::checkout(&request, &config());
    }

    #[test]
    fn checkout_validation_accepts_exactly_the_amounts_in_range(minor in 1u64..100_000_000, decimals in 0usize..4) {
        let whole = minor / 100;
        let text = match decimals {
            0 => whole.to_string(),
            d => format!("{whole}.{:0width$}", minor % 10u64.pow(d as u32), width = d),
        };
        let request = CheckoutRequest { amount: text.clone(), ..Default::default() };
        let result = validate::checkout(&request, &config());
        let expected = Amount::parse(&text).ok().filter(|a| (1_000..=50_000_000).contains(&a.minor()));
        prop_assert_eq!(result.as_ref().ok().map(|v| v.amount), expected, "{}", text);
        prop_assert_eq!(result.is_ok(), decimals <= 2 && expected.is_some());
    }

    #[test]
    fn checkout_requests_of_any_json_are_refused_or_validated(value in any_json()) {
        if let Ok(request) = serde_json::from_value::<CheckoutRequest>(value) {
            let _ = validate::checkout(&request, &config());
        }
    }
}
