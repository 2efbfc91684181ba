//! ePay's published samples (`docs/epay-samples/`, sources in `docs/epay-contract.md`) read
//! through the real adapter (`epay/`), and what the proxy decides for each (confirmation,
//! operations, postLinks): a test module above all of them. The samples are the
//! contract: when this fails, the proxy (or the sandbox) no longer reads ePay as its pages
//! print it.

use std::path::PathBuf;

use epay_api_types::{Amount, PaymentMethod};

use crate::confirm::{Decision, Policy, decide};
use crate::epay::read_status_answer;
use crate::store::orders::{NewOrder, OrderRow, OrderState};

pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/epay-samples")
}

/// A sample's HTTP status (from its name, `name.STATUS.json`) and body.
pub fn sample(name: &str) -> (u16, Vec<u8>) {
    let path = samples_dir().join(name);
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let status = name.split('.').nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    (status, body)
}

const CARD_TERMINAL: &str = "67e34d63-102f-4bd1-898e-370781d0074d";
const P2P_TERMINAL: &str = "c36b282f-6819-4d4f-85df-a4bdc8a8f703";

/// The order each sample answers about: its invoice, amount and terminal, confirming (a success
/// postLink passed its checks).
fn order(invoice_id: &str, amount_minor: u64, terminal: &str, method: PaymentMethod) -> OrderRow {
    let new = NewOrder { terminal: terminal.into(), ..NewOrder::example(amount_minor, method) };
    OrderRow { status: OrderState::Confirming, token_expires_at: Some(10_000), ..OrderRow::created(1, invoice_id.into(), &new, 2_800) }
}

const POLICY: Policy = Policy { two_stage: false, now: 5_000, expiry_grace_secs: 1_800, max_confirm_attempts: 14 };

/// What the proxy decides for `sample` about `order`, in one word (or why it could not read it).
fn decision(sample_name: &str, order: &OrderRow) -> String {
    let (status, body) = sample(sample_name);
    let status = reqwest::StatusCode::from_u16(status).unwrap();
    match read_status_answer(status, &body) {
        Err(err) => format!("unreadable: {err}"),
        Ok(answer) => match decide(order, &answer, &POLICY) {
            Decision::Pay(_) => "paid".into(),
            Decision::Authorize(_) => "authorized".into(),
            Decision::Fail(_) => "failed".into(),
            Decision::Review(why) => format!("review: {why}"),
            Decision::Expire(_) => "expired".into(),
            Decision::AskAgain(_) => "ask again".into(),
            Decision::Stop(_) => "stop".into(),
        },
    }
}

fn card(amount_minor: u64) -> OrderRow {
    order("205218074", amount_minor, CARD_TERMINAL, PaymentMethod::Pay)
}

fn transfer(amount_minor: u64) -> OrderRow {
    order("12345678937780", amount_minor, P2P_TERMINAL, PaymentMethod::P2p)
}

#[test]
fn a_transfer_that_the_p2p_status_page_shows_is_paid() {
    assert_eq!(decision("status-p2p-charge.200.json", &transfer(20_000)), "paid");
    assert_eq!(decision("status-p2p-not-found.200.json", &transfer(20_000)), "ask again");
}

#[test]
fn a_card_payment_that_the_status_page_shows_is_paid_whatever_its_short_terminal_number() {
    assert_eq!(decision("status-payment-charge.200.json", &card(2_222)), "paid");
}

/// The page's own sample: 22.22 charged, 12.22 left. Reduced before the proxy confirmed it:
/// a person looks, and a refund is not sent while ePay shows it so; measured against the
/// untouched charge, it shows a refund of 10 done.
#[test]
fn the_pages_partly_refunded_charge_confirms_a_refund_of_its_difference() {
    use crate::operations::confirm::{Ledger, Ready, Seen, ready, seen};
    use crate::store::operations::OperationRow;
    let verdict = decision("status-payment-partly-refunded.200.json", &card(2_222));
    assert!(verdict.contains("reduced outside the proxy"), "{verdict}");
    let (_, body) = sample("status-payment-partly-refunded.200.json");
    let answer = read_status_answer(reqwest::StatusCode::OK, &body).unwrap();
    let paid = OrderRow { status: OrderState::Paid, captured_minor: Some(2_222), ..card(2_222) };
    let refund = |minor| OperationRow::stored(1, 1, crate::epay::OperationKind::Refund, Some(minor), Some(1), 0);
    assert!(matches!(ready(&refund(1_000), &paid, &answer), Ready::Disagrees(_)), "not sent while ePay shows another ledger");
    let before = Ledger::recorded(&refund(1_000), &paid);
    assert_eq!(seen(&refund(1_000), &before, &answer), Seen::Done);
    assert!(matches!(seen(&refund(1_100), &before, &answer), Seen::CannotTell(_)));
    let (_, body) = sample("status-payment-charge.200.json");
    let untouched = read_status_answer(reqwest::StatusCode::OK, &body).unwrap();
    assert!(matches!(ready(&refund(1_000), &paid, &untouched), Ready::Send(_)));
    assert_eq!(seen(&refund(1_000), &before, &untouched), Seen::NotDone);
    let (_, body) = sample("status-payment-refund.200.json");
    let refunded = read_status_answer(reqwest::StatusCode::OK, &body).unwrap();
    assert_eq!(seen(&refund(2_222), &before, &refunded), Seen::Done);
}

#[test]
fn a_different_terminal_uuid_or_amount_goes_to_a_person() {
    let other = order("205218074", 2_222, "40a348cb-68a3-45d5-9002-a4836d79c3b5", PaymentMethod::Pay);
    assert!(decision("status-payment-charge.200.json", &other).starts_with("review"), "terminal");
    assert!(decision("status-payment-charge.200.json", &card(2_223)).starts_with("review"), "amount");
    // The older sample of the same page: no terminalID, amount 0, currency "": never paid.
    assert!(
        decision("status-payment-legacy.200.json", &order("10338026186011", 100, CARD_TERMINAL, PaymentMethod::Pay)).starts_with("review")
    );
}

#[test]
fn every_other_result_code_and_status_is_never_paid() {
    let o = card(2_222);
    for (name, expected) in [
        ("status-payment-not-found.200.json", "ask again"),
        ("status-payment-in-progress.200.json", "ask again"),
        ("status-payment-error.200.json", "ask again"),
        ("status-payment-terminal-104.200.json", "ask again"),
        ("status-payment-terminal-106.200.json", "ask again"),
        ("status-payment-terminal-109.200.json", "ask again"),
        ("status-payment-auth.200.json", "ask again"),
        ("status-payment-3d.200.json", "ask again"),
    ] {
        assert_eq!(decision(name, &o), expected, "{name}");
    }
    for name in [
        "status-payment-rejected.200.json",
        "status-payment-reject.200.json",
        "status-payment-refund.200.json",
        "status-payment-cancel.200.json",
        "status-payment-unknown-status.200.json",
    ] {
        assert!(decision(name, &o).starts_with("review"), "{name}: {}", decision(name, &o));
    }
    let pending = OrderRow { status: OrderState::Pending, ..card(2_222) };
    assert_eq!(decision("status-payment-reject.200.json", &pending), "failed");
    assert_eq!(decision("status-payment-rejected.200.json", &pending), "failed");
    assert!(
        decision("status-payment-unknown-status.200.json", &pending).starts_with("review"),
        "an unknown statusName is never read as a failure either"
    );
}

#[test]
fn amounts_are_read_exactly() {
    let (_, body) = sample("status-payment-partly-refunded.200.json");
    let t = read_status_answer(reqwest::StatusCode::OK, &body).unwrap().transaction.unwrap();
    assert_eq!(
        (t.amount, t.org_amount, t.payout_amount),
        (Some(Amount::from_minor(1_222)), Some(Amount::from_minor(2_222)), Some(Amount::from_minor(1_000)))
    );
}

#[test]
fn token_answers_are_read_with_expires_in_as_number_or_string_and_an_error_is_an_error() {
    for name in ["token-transfer.200.json", "token-payment.200.json", "token-service.200.json", "token-expires-in-string.200.json"] {
        let (_, body) = sample(name);
        let token = crate::epay::token::parse_token(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((token.access_token.as_str(), token.expires_in), ("DCEB8O_ZM5U7SO_T_U5EJQ", 7200), "{name}");
    }
    // "Error: HTTP code 4XX.X", no body printed: the checkout fails with upstream_error.
    let (status, body) = sample("token-error.400.json");
    assert_eq!(status, 400);
    assert!(crate::epay::token::parse_token(&body).is_err());
}

#[test]
fn operation_answers_are_accepted_on_200_and_refused_with_the_pages_error_body() {
    use crate::epay::{OperationAnswer, read_operation_answer};
    let (status, body) = sample("operation-ok.200.json");
    assert!(matches!(read_operation_answer(status, &body), Ok(OperationAnswer::Accepted(_))));
    let (status, body) = sample("operation-error.400.json");
    assert_eq!(read_operation_answer(status, &body).unwrap(), OperationAnswer::Refused { status: 400, message: "code 100".into() });
}

/// The request line each operation page prints, as the proxy builds it.
#[test]
fn operation_requests_are_the_ones_the_pages_print() {
    use crate::epay::OperationKind;
    use crate::epay::operation::operation_request;
    let line = |name: &str| String::from_utf8(sample(name).1).unwrap().lines().next().unwrap().to_owned();
    let built = operation_request(OperationKind::Refund, "{transactionId}", Some(Amount::from_minor(30_000)), "1223123hfkdgk34508etf7");
    assert_eq!(line("request-refund.txt"), format!("POST {{API}}{}", built.path_and_query.replace("%7B", "{").replace("%7D", "}")));
    assert!(built.body.is_none(), "the refund page puts amount and externalID in the query");
    let charge = operation_request(OperationKind::Capture, "{transactionId}", Some(Amount::from_minor(240_000)), "x");
    assert_eq!(line("request-charge.txt"), format!("POST {{API}}{}", charge.path_and_query));
    let printed: serde_json::Value =
        serde_json::from_str(String::from_utf8(sample("request-charge.txt").1).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(charge.body, Some(printed));
    let cancel = operation_request(OperationKind::Cancel, "{transactionId}", None, "x");
    assert_eq!((line("request-cancel.txt"), cancel.body), (format!("POST {{API}}{}", cancel.path_and_query), None));
}

/// The merchant document's postLinks: neither carries secret_hash (a hint: the status API
/// decides); with the order's secret_hash the success one is applied, its card terminal kept
/// as a disagreement for the status API to settle.
#[test]
fn the_merchant_documents_postlinks_are_hints_without_secret_hash_and_authentic_with_it() {
    use crate::postlink::{Endpoint, Evaluation, Notification, evaluate};
    let transfer_order = |invoice: &str, minor| {
        let new = NewOrder { terminal: "40a348cb-68a3-45d5-9002-a4836d79c3b5".into(), ..NewOrder::example(minor, PaymentMethod::P2p) };
        OrderRow { status: OrderState::Pending, ..OrderRow::created(1, invoice.into(), &new, 2_800) }
    };
    let (_, success) = sample("postlink-success.json");
    let order = transfer_order("191111111", 10_000);
    let n = Notification::parse(&success).unwrap();
    assert_eq!(n.is_success(), Some(true));
    assert!(matches!(evaluate(Some(&order), Endpoint::Postlink, &n, 0), Evaluation::Hint { ask: true }));
    let mut signed: serde_json::Value = serde_json::from_slice(&success).unwrap();
    signed["secret_hash"] = "S".into();
    let n = Notification::parse(signed.to_string().as_bytes()).unwrap();
    let Evaluation::Apply { success: true, disagreement: Some(why), .. } = evaluate(Some(&order), Endpoint::Postlink, &n, 0) else {
        panic!()
    };
    assert!(why.contains("terminal"), "{why}");

    let (_, failure) = sample("postlink-failure.json");
    let n = Notification::parse(&failure).unwrap();
    assert_eq!((n.is_success(), n.reason_code), (Some(false), Some(-498)));
    assert!(matches!(evaluate(Some(&transfer_order("10000000001", 10_000)), Endpoint::FailurePostlink, &n, 0), Evaluation::Hint { .. }));
}

#[test]
fn every_sample_is_valid_json_or_empty_and_named_in_the_contract() {
    let contract = std::fs::read_to_string(samples_dir().join("../epay-contract.md")).unwrap();
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(contract.contains(&format!("`{name}`")), "docs/epay-contract.md does not name {name}");
        if name.ends_with(".json") {
            let body = std::fs::read(samples_dir().join(&name)).unwrap();
            assert!(body.is_empty() || serde_json::from_slice::<serde_json::Value>(&body).is_ok(), "{name} is not JSON");
        }
    }
}
