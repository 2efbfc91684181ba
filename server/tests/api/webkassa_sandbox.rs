//! The proxy's Webkassa requests (`fiscal::webkassa`, pure) against the sandbox's Webkassa, over
//! HTTP: its answers have the shapes of the samples copied from Webkassa's collection, and each
//! error it can give says what the proxy must do (`receipts.rs` runs the receipts' jobs against
//! it end to end).

use epay_proxy::fiscal::lines::{Line, sale};
use epay_proxy::fiscal::webkassa::{self, Next, Receipt, Refusal, ReturnBasis};
use epay_sandbox::webkassa::{SANDBOX_CASHBOX, SANDBOX_LOGIN, SANDBOX_PASSWORD, SANDBOX_REGISTRATION};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn sample(name: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/webkassa-samples").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn keys(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

async fn post(app: &TestApp, path: &str, body: &Value) -> String {
    let response = app
        .http
        .post(app.url(&format!("/sandbox/webkassa/api/v4/{path}")))
        .header("x-api-key", "test-key")
        .json(body)
        .send()
        .await
        .unwrap();
    response.text().await.unwrap()
}

async fn control(app: &TestApp, control: Value) {
    assert!(app.http.post(app.url("/sandbox/webkassa/control")).json(&control).send().await.unwrap().status().is_success());
}

fn tea() -> Vec<epay_proxy::fiscal::lines::Position> {
    let lines = vec![
        Line {
            name: "Чай «Алатау»".into(), quantity_milli: 2_000, price_minor: 75_025, vat_percent: Some(16), unit_code: 796, section: 1
        },
        Line {
            name: "Доставка".into(), quantity_milli: 1_000, price_minor: 49_999, vat_percent: None, unit_code: 5114, section: 1
        },
    ];
    sale(lines, "", 200_049, Some(16)).unwrap()
}

/// A return of `positions` with `basis` as its sale.
fn back<'a>(external: &'a str, positions: &'a [epay_proxy::fiscal::lines::Position], basis: &'a ReturnBasis) -> Receipt<'a> {
    Receipt {
        positions,
        external_number: external,
        order_number: "000000123456",
        customer_email: None,
        customer_phone: None,
        return_basis: Some(basis),
    }
}

#[tokio::test]
async fn a_sale_and_its_returns_are_issued_in_the_collections_shapes() {
    let app = TestApp::spawn().await;
    let token = webkassa::read_token(&post(&app, "Authorize", &webkassa::authorize_body(SANDBOX_LOGIN, SANDBOX_PASSWORD)).await).unwrap();
    let refused = webkassa::read_token(&post(&app, "Authorize", &webkassa::authorize_body(SANDBOX_LOGIN, "wrong")).await).unwrap_err();
    assert_eq!(refused, Refusal::Errors(vec![(1, "Неверный логин и/или пароль".into())]));

    let positions = tea();
    let receipt = |external: &'static str| Receipt {
        positions: &positions,
        external_number: external,
        order_number: "000000123456",
        customer_email: Some("buyer@shop.kz"),
        customer_phone: None,
        return_basis: None,
    };
    let answer = post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("sale-1"))).await;
    let issued = webkassa::read_check(&answer).unwrap();
    // The answer's shape is the collection's, at each level the proxy reads.
    let (got, printed) = (serde_json::from_str::<Value>(&answer).unwrap(), sample("check.200.json"));
    assert_eq!(keys(&got["Data"]), keys(&printed["Data"]));
    assert_eq!(keys(&got["Data"]["Cashbox"]), keys(&printed["Data"]["Cashbox"]));
    assert_eq!(issued.registration_number, SANDBOX_REGISTRATION);
    assert!(
        issued.ticket_url.contains(&format!("i={}", issued.check_number)) && issued.ticket_url.contains("s=2000.49"),
        "{}",
        issued.ticket_url
    );

    // The same external number again: the first receipt (or, as Webkassa may, error 14, then
    // the receipt looked up); never a second receipt.
    let again =
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("sale-1"))).await).unwrap();
    assert_eq!(again.check_number, issued.check_number);
    control(&app, json!({"duplicateAsError": true})).await;
    let Err(Refusal::Errors(errors)) =
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("sale-1"))).await)
    else {
        panic!("error 14 expected")
    };
    assert_eq!(webkassa::next_for(errors[0].0), Next::LookUp);
    let found =
        webkassa::read_lookup(&post(&app, "Ticket/PrintFormat", &webkassa::print_format_body(&token, SANDBOX_CASHBOX, "sale-1")).await)
            .unwrap();
    // As it was issued, but for the shift's number, which the printed receipt does not show.
    assert_eq!(found, webkassa::Issued { shift_number: None, ..issued.clone() }, "the look-up finds the receipt as it was issued");
    control(&app, json!({})).await;

    // A partial return with the sale as its basis, then the rest; never more than was sold.
    let basis = ReturnBasis {
        check_number: issued.check_number.clone(),
        date_time_utc: issued.utc_time.clone(),
        registration_number: issued.registration_number.clone(),
        total_minor: 200_049,
        offline: false,
    };
    let part = epay_proxy::fiscal::lines::refund(&positions, &[], 100_000).unwrap();
    let returned =
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &back("return-1", &part, &basis))).await)
            .unwrap();
    assert_ne!(returned.check_number, issued.check_number);
    let already: Vec<i64> = part.iter().map(|p| p.total_minor).collect();
    let rest = epay_proxy::fiscal::lines::refund(&positions, &already, 100_049).unwrap();
    assert!(
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &back("return-2", &rest, &basis))).await)
            .is_ok()
    );
    let too_much =
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &back("return-3", &part, &basis))).await)
            .unwrap_err();
    assert!(matches!(too_much, Refusal::Errors(ref e) if e[0].0 == 9), "{too_much:?}");
}

#[tokio::test]
async fn each_fault_of_the_register_says_what_the_proxy_must_do() {
    let app = TestApp::spawn().await;
    let mut token =
        webkassa::read_token(&post(&app, "Authorize", &webkassa::authorize_body(SANDBOX_LOGIN, SANDBOX_PASSWORD)).await).unwrap();
    let positions = tea();
    let receipt = |external: &'static str| Receipt {
        positions: &positions,
        external_number: external,
        order_number: "1",
        customer_email: None,
        customer_phone: None,
        return_basis: None,
    };
    let code = |answer: String| match webkassa::read_check(&answer) {
        Err(Refusal::Errors(errors)) => errors[0].0,
        other => panic!("a refusal expected: {other:?}"),
    };
    // The first receipt opens the shift.
    assert!(webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("a"))).await).is_ok());
    for (fault, expected, next) in [
        (json!({"expireTokens": 1}), 2, Next::Reauthorize),
        (json!({"shiftOver24Hours": true}), 11, Next::CloseShift),
        (json!({"blocked": true}), 7, Next::Alert("cash_register_blocked")),
        (json!({"notActivated": true}), 10, Next::Alert("cash_register_not_activated")),
        (json!({"offlineOver72Hours": true}), 18, Next::Alert("offline_over_72_hours")),
    ] {
        control(&app, fault.clone()).await;
        let got = code(post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("b"))).await);
        assert_eq!((got, webkassa::next_for(got)), (expected, next), "{fault}");
        if next == Next::Reauthorize {
            token =
                webkassa::read_token(&post(&app, "Authorize", &webkassa::authorize_body(SANDBOX_LOGIN, SANDBOX_PASSWORD)).await).unwrap();
        }
    }
    // What each calls for works: a closed shift, then the same receipt goes through.
    control(&app, json!({"shiftOver24Hours": true})).await;
    assert_eq!(code(post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("b"))).await), 11);
    let closed: Value = serde_json::from_str(&post(&app, "ZReport", &webkassa::zreport_body(&token, SANDBOX_CASHBOX)).await).unwrap();
    assert_eq!(closed["Data"]["ShiftNumber"], 1, "{closed}");
    let issued = webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, SANDBOX_CASHBOX, &receipt("b"))).await).unwrap();
    assert_eq!(issued.shift_number, Some(2), "the next receipt opened the next shift");
    let wrong_cashbox =
        webkassa::read_check(&post(&app, "check", &webkassa::check_body(&token, "SWK-OTHER", &receipt("c"))).await).unwrap_err();
    assert_eq!(wrong_cashbox, webkassa::read_check(&sample("error.json").to_string()).unwrap_err(), "the collection's own error");
}
