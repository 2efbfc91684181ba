//! The console's API (issue 21): people sign in with ADMIN_USERS (argon2), a session cookie
//! and a CSRF token; viewers read, operators move money, resend webhooks and resolve reviews,
//! each recorded with who and when; the home figures, search and the CSV export.

use crate::helpers::TestApp;
use crate::helpers::console::{PASSWORD, Person, console, hash, person, sign_in};
use epay_proxy::store::orders::OrderState;
use reqwest::Method;
use serde_json::{Value, json};

async fn put_in_review(app: &TestApp, invoice_id: &str) {
    let invoice = invoice_id.to_owned();
    let sql = "UPDATE orders SET status = 'review', review_reason = 'the status API shows a different terminal', version = version + 1 WHERE invoice_id = ?";
    app.state.store.write(move |tx| tx.execute(sql, epay_proxy::params![invoice])).await.unwrap();
}

#[tokio::test]
async fn people_sign_in_with_a_password_a_cookie_and_a_csrf_token_and_wait_after_failures() {
    let app = console().await;
    let (status, body, cookie) = sign_in(&app, "aigerim", "wrong").await;
    assert_eq!((status, body["error"].as_str(), cookie), (401, Some("unauthorized"), None));
    assert_eq!(sign_in(&app, "nobody", PASSWORD).await.0, 401, "an unknown name is refused alike");

    let (status, session, cookie) = sign_in(&app, "aigerim", PASSWORD).await;
    assert_eq!((status, session["user"].as_str(), session["role"].as_str()), (200, Some("aigerim"), Some("operator")), "{session}");
    let cookie = cookie.unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http loopback has no Secure: {cookie}");
    assert!(!cookie.contains(session["csrfToken"].as_str().unwrap()), "the CSRF token is not the session id");
    let me = Person { cookie: cookie.split(';').next().unwrap().to_owned(), csrf: session["csrfToken"].as_str().unwrap().to_owned() };
    assert_eq!(me.get(&app, "/api/admin/session").await.1["user"], "aigerim");
    assert_eq!(me.get(&app, "/api/admin/summary").await.0, 200);

    // Without a cookie, with a forged one, without the CSRF token, from another origin: no.
    assert_eq!(app.http.get(app.url("/api/admin/summary")).send().await.unwrap().status(), 401);
    let forged = app.http.get(app.url("/api/admin/summary")).header("cookie", format!("epay_admin={}", "a".repeat(64)));
    assert_eq!(forged.send().await.unwrap().status(), 401);
    let no_csrf = app.http.post(app.url("/api/admin/events/msg_x/resend")).header("cookie", &me.cookie).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403);
    assert_eq!(no_csrf.json::<Value>().await.unwrap()["error"], "forbidden");
    let elsewhere = me.request(&app, Method::POST, "/api/admin/events/msg_x/resend").header("origin", "https://evil.example");
    assert_eq!(elsewhere.send().await.unwrap().status(), 403);
    assert_eq!(me.request(&app, Method::POST, "/api/admin/events/msg_x/resend").send().await.unwrap().status(), 404, "let in");

    // Signing out ends the session at once.
    let out = me.request(&app, Method::DELETE, "/api/admin/session").send().await.unwrap();
    assert_eq!(out.status(), 204);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(me.get(&app, "/api/admin/summary").await.0, 401);

    // After three failures from this address the next attempt waits, the right password
    // included, with Retry-After (tests/api/sign_in.rs: nowhere else does it wait).
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "dana", "guess").await.0, 401);
    }
    let (status, body, cookie) = sign_in(&app, "dana", PASSWORD).await;
    assert_eq!((status, body["error"].as_str(), cookie), (429, Some("rate_limited"), None), "{body}");
    assert!(!app.logs().contains(PASSWORD) && !app.logs().contains(hash()), "no password or hash in the log");

    // A password typed into the name field never reaches the log: an opaque tag stands for it.
    let pasted = "Tr0ub4dor&3-pasted-in-the-name";
    assert_eq!(sign_in(&app, pasted, "x").await.0, 401);
    let logs = app.logs();
    assert!(!logs.contains(pasted), "the typed name is not logged");
    let tag = epay_proxy::admin::auth::name_tag(pasted);
    assert!(logs.contains(&format!("name_tag={tag}")) || logs.contains(&format!("\"name_tag\":\"{tag}\"")), "its tag is");
}

/// A new ADMIN_USERS (a deploy) takes effect at the next request: a changed password ends
/// the sessions made with the old one, a changed role applies at once, and the sessions of
/// everyone else survive the restart. Many names from one address are slowed down.
#[tokio::test]
async fn a_new_password_ends_old_sessions_and_one_address_cannot_try_names_fast() {
    let app = console().await;
    let (aigerim, dana) = (person(&app, "aigerim").await, person(&app, "dana").await);
    let other = epay_proxy::admin::auth::hash_password("a new password for aigerim");
    let users = format!("aigerim:operator:{other};dana:operator:{h}", h = hash());
    let app = app.restart_with(&[("ADMIN_USERS", &users)]).await;
    assert_eq!(aigerim.get(&app, "/api/admin/summary").await.0, 401, "signed in with the old password");
    let (status, session) = dana.get(&app, "/api/admin/session").await;
    assert_eq!((status, session["role"].as_str()), (200, Some("operator")), "the new role, the same session");
    assert_eq!(sign_in(&app, "aigerim", PASSWORD).await.0, 401);

    let app = app.restart_with(&[("ADMIN_SIGN_IN_RATE_PER_MINUTE", "3")]).await;
    for name in ["a", "b", "c"] {
        assert_eq!(sign_in(&app, name, "x").await.0, 401, "{name}");
    }
    let (status, body, _) = sign_in(&app, "dana", PASSWORD).await;
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "{body}");
}

#[tokio::test]
async fn a_viewer_reads_and_an_operator_refunds_with_who_and_when_in_the_orders_history() {
    let app = console().await;
    let invoice_id = app.paid_merchant_order("1500", "console-refund", OrderState::Paid).await;
    let (viewer, operator) = (person(&app, "dana").await, person(&app, "aigerim").await);

    let (status, page) = viewer.get(&app, "/api/admin/orders?status=paid").await;
    assert_eq!((status, page["orders"][0]["invoiceId"].as_str()), (200, Some(invoice_id.as_str())), "{page}");
    let path = format!("/api/admin/orders/{invoice_id}/refunds");
    let (status, body) = viewer.post(&app, &path, json!({"amount": "500", "reason": "damaged"}), "k1").await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");

    let (status, result) = operator.post(&app, &path, json!({"amount": "500", "reason": "damaged"}), "k1").await;
    assert_eq!((status, result["operation"]["status"].as_str()), (201, Some("succeeded")), "{result}");
    let (status, again) = operator.post(&app, &path, json!({"amount": "500", "reason": "damaged"}), "k1").await;
    assert_eq!((status, again["operation"]["id"].clone()), (201, result["operation"]["id"].clone()), "a double click refunds once");

    let (_, order) = viewer.get(&app, &format!("/api/admin/orders/{invoice_id}")).await;
    assert_eq!(order["order"]["refundedAmount"], "500");
    assert_eq!(order["order"]["payment"]["cardType"], "VISA", "{:#}", order["order"]["payment"]);
    let timeline = order["timeline"].as_array().unwrap();
    let action = timeline.iter().find(|e| e["kind"] == "action").expect("the refund is in the timeline");
    assert_eq!(
        (action["action"].as_str(), action["actor"].as_str(), action["detail"].as_str()),
        (Some("refund"), Some("aigerim"), Some("damaged"))
    );
    let states: Vec<&str> = timeline.iter().filter(|e| e["kind"] == "state").map(|e| e["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["open", "created", "pending", "confirming", "paid"]);
    assert!(timeline.iter().all(|e| e["detail"].as_str() != Some("")), "no empty details");
    assert!(order["events"].as_array().unwrap().iter().any(|e| e["type"] == "refund.succeeded"), "{:#}", order["events"]);
    // The merchant API, the other door, sees the same refund.
    let merchant = app.merchant(Method::GET, &format!("/api/merchant/orders/{invoice_id}")).send().await.unwrap();
    assert_eq!(merchant.json::<Value>().await.unwrap()["operations"][0]["amount"], "500");

    // Search: by a part of the card mask, by reference; the summary counts the payment.
    for q in ["1111", "console-refund", &invoice_id] {
        let (_, found) = viewer.get(&app, &format!("/api/admin/orders?q={q}")).await;
        assert_eq!(found["orders"].as_array().unwrap().len(), 1, "{q}: {found}");
    }
    let (_, none) = viewer.get(&app, "/api/admin/orders?q=%25").await;
    assert_eq!(none["orders"].as_array().unwrap().len(), 0, "a % is a character, not a wildcard");
    let (_, summary) = viewer.get(&app, "/api/admin/summary").await;
    assert_eq!(
        (summary["today"]["paid"]["count"].as_i64(), summary["today"]["paid"]["amount"].as_str()),
        (Some(1), Some("1500")),
        "{summary}"
    );
    assert_eq!((summary["week"]["refunded"]["amount"].as_str(), summary["reviewsOpen"].as_i64()), (Some("500"), Some(0)));
}

#[tokio::test]
async fn an_operator_resolves_a_review_and_the_shop_hears_of_it() {
    let app = console().await;
    let (operator, viewer) = (person(&app, "aigerim").await, person(&app, "dana").await);
    let decide = |decision: &str| json!({"decision": decision, "checked": "ePay cabinet: CHARGE 1500, terminal 98120001", "note": "kept"});

    let paid = app.paid_merchant_order("1500", "review-paid", OrderState::Paid).await;
    put_in_review(&app, &paid).await;
    let path = format!("/api/admin/orders/{paid}/review");
    assert_eq!(viewer.post(&app, &path, decide("paid"), "r0").await.0, 403);
    for (body, named) in [(json!({"decision": "ship", "checked": "x"}), "ship"), (json!({"decision": "paid", "checked": " "}), "checked")] {
        let (status, error) = operator.post(&app, &path, body, "r1").await;
        assert_eq!(status, 422, "{error}");
        assert!(error["message"].as_str().unwrap().contains(named), "{error}");
    }
    let (status, order) = operator.post(&app, &path, decide("paid"), "r2").await;
    assert_eq!((status, order["state"].as_str()), (200, Some("paid")), "{order}");
    assert_eq!((order["reviewResolution"]["by"].as_str(), order["reviewResolution"]["decision"].as_str()), (Some("aigerim"), Some("paid")));
    assert_eq!(operator.post(&app, &path, decide("paid"), "r3").await.0, 409, "nothing left to resolve");
    let types = app.event_types(&paid).await;
    assert_eq!(types[types.len() - 2..], ["order.paid", "order.review_resolved"], "{types:?}");

    let failed = app.paid_merchant_order("700", "review-failed", OrderState::Paid).await;
    put_in_review(&app, &failed).await;
    let (status, order) = operator.post(&app, &format!("/api/admin/orders/{failed}/review"), decide("failed"), "r4").await;
    assert_eq!((status, order["status"].as_str()), (200, Some("failed")), "{order}");

    // `refund`: ePay refunds it and its status API confirms it; only then is the order refunded.
    let refunded = app.paid_merchant_order("2000", "review-refund", OrderState::Paid).await;
    put_in_review(&app, &refunded).await;
    let (status, result) = operator.post(&app, &format!("/api/admin/orders/{refunded}/review"), decide("refund"), "r5").await;
    assert_eq!(
        (status, result["operation"]["status"].as_str(), result["operation"]["amount"].as_str()),
        (201, Some("succeeded"), Some("2000")),
        "{result}"
    );
    assert_eq!(result["order"]["state"], "refunded");
    assert_eq!(result["order"]["reviewResolution"]["decision"], "refund");
    let types = app.event_types(&refunded).await;
    assert!(types.contains(&"order.review_resolved".to_owned()) && types.contains(&"refund.succeeded".to_owned()), "{types:?}");
    let (_, detail) = viewer.get(&app, &format!("/api/admin/orders/{refunded}")).await;
    let resolved = detail["timeline"].as_array().unwrap().iter().find(|e| e["kind"] == "action").unwrap().clone();
    assert_eq!(
        (resolved["action"].as_str(), resolved["decision"].as_str(), resolved["actor"].as_str()),
        (Some("resolve_review"), Some("refund"), Some("aigerim")),
        "{resolved}"
    );
    assert!(resolved["detail"].as_str().unwrap().contains("ePay cabinet"));
}

#[tokio::test]
async fn orders_and_their_operations_export_as_csv_excel_reads() {
    let app = console().await;
    let body = json!({"amount": "1500.50", "description": "Чайник, 2 шт.", "reference": "Заказ-17"});
    let (_, order) = app.create_order(&body, "csv-1").await;
    let (invoice_id, key) = (order["invoiceId"].as_str().unwrap().to_owned(), order["orderKey"].as_str().unwrap());
    let (_, checkout) = app.order_checkout(&invoice_id, key).await;
    app.pay(&checkout, crate::helpers::APPROVED_CARD).await;
    app.wait_for_state(&invoice_id, OrderState::Paid).await;
    let operator = person(&app, "aigerim").await;
    operator.post(&app, &format!("/api/admin/orders/{invoice_id}/refunds"), json!({"amount": "500"}), "x1").await;
    let today = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(5, 0, 0).unwrap()).date();
    let response = operator.request(&app, Method::GET, &format!("/api/admin/export.csv?from={today}&to={today}")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains(&format!("epay-orders-{today}")));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("row,invoice_id,reference,created_at,status"), "{text}");
    assert!(rows[1].starts_with(&format!("order,{invoice_id},Заказ-17,")) && rows[1].contains(",1500.50,KZT,1500.50,500,"), "{text}");
    assert!(rows[1].ends_with(",\"Чайник, 2 шт.\""), "the description, quoted: {text}");
    assert!(rows[2].starts_with("operation,") && rows[2].contains(",refund,500,succeeded,"), "{text}");
    let (status, error) = operator.get(&app, "/api/admin/export.csv?from=2026-12-02&to=2026-12-01").await;
    assert_eq!((status, error["error"].as_str()), (400, Some("invalid_field")));
}
