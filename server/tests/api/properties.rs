//! Properties of the two parsers strangers can reach: the postLink parser and checkout
//! validation (cargo-fuzz targets in fuzz/ run the same code for millions of inputs).

use epay_api_types::{Amount, CheckoutRequest};
use epay_proxy::checkout::validate;
use epay_proxy::config::Config;
use epay_proxy::confirm::{self, Policy};
use epay_proxy::epay::{ResultCode, StatusAnswer, TransactionInfo, TransactionStatus};
use epay_proxy::postlink::{Endpoint, Notification, evaluate, invariants};
use epay_proxy::secrets::SecretText;
use epay_proxy::store::orders::{NewOrder, OrderRow, OrderState};
use proptest::prelude::*;
use serde_json::{Value, json};

const SUCCESS_SAMPLE: &str = include_str!("../../../fuzz/corpus/postlink/seed-success.json");
const FAILURE_SAMPLE: &str = include_str!("../../../fuzz/corpus/postlink/seed-failure.json");

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "CHECKOUT_MIN_AMOUNT" => Some("10".into()),
        "CHECKOUT_MAX_AMOUNT" => Some("500000".into()),
        _ => None,
    })
    .unwrap()
}

/// An order of 1 500 ₸ in `status`, with a transaction id of its own.
fn order(status: OrderState) -> OrderRow {
    let new = NewOrder {
        order_key: SecretText::new("ORDERKEYORDERKEYORDERKEYORDERKEY".into()),
        secret_hash: SecretText::new("ABCDEFGHIJKLMNOPQRSTUVWXYZAB".into()),
        idempotency_key: None,
        request_fingerprint: String::new(),
        amount: Amount::from_minor(150_000),
        currency: "KZT".into(),
        terminal: "40a348cb-68a3-45d5-9002-a4836d79c3b5".into(),
        method: epay_api_types::PaymentMethod::P2p,
        description: String::new(),
        account_id: String::new(),
        email: String::new(),
        phone: String::new(),
        language: epay_api_types::Language::Ru,
        card_save: false,
        merchant: None,
        receipt_lines: None,
    };
    let row = OrderRow::created(1, "191111111".into(), &new, 0);
    OrderRow { status, token_expires_at: Some(7_200), transaction_id: Some("1d1a11f1-1111-111c-1113b-e8340ce51111".into()), ..row }
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
        let _ = validate::checkout(&request, &config().checkout);
    }

    #[test]
    fn checkout_validation_accepts_exactly_the_amounts_in_range(minor in 1u64..100_000_000, decimals in 0usize..4) {
        let whole = minor / 100;
        let text = match decimals {
            0 => whole.to_string(),
            d => format!("{whole}.{:0width$}", minor % 10u64.pow(d as u32), width = d),
        };
        let request = CheckoutRequest { amount: text.clone(), ..Default::default() };
        let result = validate::checkout(&request, &config().checkout);
        let expected = Amount::parse(&text).ok().filter(|a| (1_000..=50_000_000).contains(&a.minor()));
        prop_assert_eq!(result.as_ref().ok().map(|v| v.amount), expected, "{}", text);
        prop_assert_eq!(result.is_ok(), decimals <= 2 && expected.is_some());
    }

    #[test]
    fn no_postlink_pays_or_moves_an_order_without_its_secret_hash(
        field in prop::sample::select(vec!["invoiceId", "amount", "currency", "terminal", "code", "secret_hash", "id", "reasonCode", "fee"]),
        value in any_json(),
        keep_secret in any::<bool>(),
        failure in any::<bool>(),
        state in prop::sample::select(OrderState::ALL.to_vec()),
    ) {
        let order = order(state);
        let mut body: Value = serde_json::from_str(if failure { FAILURE_SAMPLE } else { SUCCESS_SAMPLE }).unwrap();
        body["invoiceId"] = json!(order.invoice_id);
        if keep_secret {
            body["secret_hash"] = json!(order.secret_hash.expose());
        }
        body[field] = value;
        let n = Notification::parse(body.to_string().as_bytes()).unwrap();
        for endpoint in [Endpoint::Postlink, Endpoint::FailurePostlink] {
            let evaluation = evaluate(Some(&order), endpoint, &n, 1_000_000);
            prop_assert_eq!(invariants::violation(Some(&order), &n, &evaluation), None, "{:?} {:?}", state, evaluation);
        }
    }

    #[test]
    fn only_a_confirmed_charge_of_the_orders_own_amount_pays(
        code in prop::sample::select(vec!["100", "101", "102", "103", "107", "", "1OO"]),
        status_name in prop::sample::select(vec!["CHARGE", "AUTH", "REJECT", "REFUND", "NEW", "charge", ""]),
        amount_minor in prop::sample::select(vec![150_000u64, 149_999, 150_001, 1, 154_500]),
        fee_minor in proptest::option::of(prop::sample::select(vec![4_500u64, 1])),
        bonus_minor in proptest::option::of(prop::sample::select(vec![0u64, 30_000])),
        org_minor in proptest::option::of(prop::sample::select(vec![150_000u64, 120_000, 100_000])),
        own_terminal in proptest::option::of(any::<bool>()),
        two_stage in any::<bool>(),
        state in prop::sample::select(vec![OrderState::Pending, OrderState::StartFailed, OrderState::Confirming, OrderState::Failed, OrderState::Expired]),
        attempts in 0i64..20,
    ) {
        let order = OrderRow { check_attempts: attempts, ..order(state) };
        let answer = StatusAnswer {
            result: ResultCode::parse(code),
            result_message: String::new(),
            transaction: Some(TransactionInfo {
                invoice_id: Some(order.invoice_id.clone()),
                amount: Some(Amount::from_minor(amount_minor)),
                amount_bonus: bonus_minor.map(Amount::from_minor),
                org_amount: org_minor.map(Amount::from_minor),
                fee: fee_minor.map(Amount::from_minor),
                currency: Some("KZT".into()),
                terminal_id: own_terminal.map(|own| if own { order.terminal.clone() } else { "c36b282f-6819-4d4f-85df-a4bdc8a8f703".into() }),
                terminal_number: Some("98151552".into()),
                status: (!status_name.is_empty()).then(|| TransactionStatus::parse(status_name)),
                ..Default::default()
            }),
        };
        let policy = Policy { two_stage, now: 10_000, expiry_grace_secs: 1_800, max_confirm_attempts: 14 };
        if let confirm::Decision::Pay(_) = confirm::decide(&order, &answer, &policy) {
            let charged = status_name.eq_ignore_ascii_case("CHARGE") || (two_stage && status_name.eq_ignore_ascii_case("AUTH"));
            let paid = amount_minor + bonus_minor.unwrap_or(0);
            let own_amount = paid == 150_000 || fee_minor.is_some_and(|fee| paid == 150_000 + fee);
            let original = org_minor.is_none_or(|org| org == 150_000 || org + bonus_minor.unwrap_or(0) == 150_000 || fee_minor.is_some_and(|fee| org == 150_000 + fee));
            prop_assert!(code == "100" && charged && own_amount && original && own_terminal != Some(false),
                "paid on {} {} {} {:?} bonus {:?} org {:?} terminal {:?}", code, status_name, amount_minor, fee_minor, bonus_minor, org_minor, own_terminal);
        }
    }

    #[test]
    fn checkout_requests_of_any_json_are_refused_or_validated(value in any_json()) {
        if let Ok(request) = serde_json::from_value::<CheckoutRequest>(value) {
            let _ = validate::checkout(&request, &config().checkout);
        }
    }
}
