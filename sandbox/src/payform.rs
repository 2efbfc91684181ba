//! The sandbox payment page: `GET /sandbox/payform/?params=...&isTransfer=true` shows the
//! payment and a card form; `POST /sandbox/payform/pay` charges a test card, notifies the
//! shop's postLink and sends the payer back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use epay_api_types::{Amount, Language, is_valid_invoice_id};
use rand::Rng;
use serde::Deserialize;

use super::Sandbox;
use super::cards::{self, CardOutcome, TEST_CARDS};
use super::delivery;
use super::page::{display_amount, error_page, escape, layout};
use super::params;
use super::state::{Grant, InvoiceTerms, MethodFlag, PaySession, Registry, TOKEN_LIFETIME, TokenTerms, Transaction};

pub async fn page(State(sandbox): State<Arc<Sandbox>>, Query(query): Query<HashMap<String, String>>) -> Response {
    let flag = method_flag(&query);
    let Some(decoded) = query.get("params").and_then(|p| params::decode(p)) else {
        return error_page(StatusCode::BAD_REQUEST, "params is missing or is not LZString-compressed");
    };
    let session = match open_session(&sandbox, &decoded, flag) {
        Ok(session) => session,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let session_id = new_id(24);
    let html = render_form(&session, &session_id, None);
    sandbox.registry().open_session(session_id, session);
    Html(html).into_response()
}

fn method_flag(query: &HashMap<String, String>) -> MethodFlag {
    let on = |name: &str| query.get(name).is_some_and(|v| v == "true");
    if on("isShortForm") {
        MethodFlag::ShortForm
    } else if on("isTransfer") {
        MethodFlag::Transfer
    } else if on("isOCT") {
        MethodFlag::Oct
    } else if on("isAFT") {
        MethodFlag::Aft
    } else {
        MethodFlag::Pay
    }
}

/// Checks the payment object against the token it carries, as ePay does.
fn open_session(sandbox: &Sandbox, params: &params::Params, flag: MethodFlag) -> Result<PaySession, String> {
    let field = |name: &str| params.get(name).map(String::as_str).unwrap_or("").trim();
    // ePay's encodeParams writes "" for null and undefined; the words mean a wrapper sent them.
    if let Some((name, value)) = params.iter().find(|(_, v)| matches!(v.as_str(), "null" | "undefined")) {
        return Err(format!("{name} is the text `{value}`: leave it empty (ePay's payment-api.js sends \"\" for null)"));
    }
    let auth = params::split(field("auth"));
    let access_token = auth.get("access_token").map(String::as_str).unwrap_or("");
    let registry = sandbox.registry();
    let token = registry.live_token(access_token).ok_or("auth: the token is unknown or expired")?;
    if token.scope != flag.scope() {
        return Err(format!("a `{}` token cannot pay with this method (needs `{}`)", token.scope, flag.scope()));
    }
    let Grant::Payment(token_terms) = &token.grant else { return Err("a service token cannot pay".into()) };
    let terms = resolve_terms(sandbox, token_terms, params)?;
    if !matches!(field("cardSave"), "true" | "false") {
        return Err(format!("cardSave must be a Boolean, got `{}`", field("cardSave")));
    }
    let back_link = field("backLink");
    if url::Url::parse(back_link).is_err() {
        return Err("backLink must be an absolute URL".into());
    }
    for link in [back_link, field("failureBackLink")].into_iter().filter(|l| !l.is_empty()) {
        if !sandbox.may_return_to(link) {
            return Err(format!("the sandbox sends payers back only to ALLOWED_ORIGINS or PUBLIC_URL; `{link}` is elsewhere"));
        }
    }
    if registry.is_paid(&terms.invoice_id) {
        return Err(format!("invoice {} is already paid", terms.invoice_id));
    }
    let failure_back_link = Some(field("failureBackLink")).filter(|l| !l.is_empty()).unwrap_or(back_link);
    let mut terms = terms;
    if !field("failurePostLink").is_empty() {
        terms.failure_post_link = field("failurePostLink").to_owned();
    }
    Ok(PaySession {
        terms,
        flag,
        description: field("description").to_owned(),
        account_id: field("accountId").to_owned(),
        email: field("email").to_owned(),
        phone: field("phone").to_owned(),
        language: field("language").to_owned(),
        back_link: back_link.to_owned(),
        failure_back_link: failure_back_link.to_owned(),
        expires_at: Instant::now() + TOKEN_LIFETIME,
        card_save: field("cardSave") == "true",
    })
}

/// The invoice the page is for: every part the token names must be the payment object's; the
/// parts a transfer token leaves out come from the payment object, checked as the token
/// endpoint checks them.
fn resolve_terms(sandbox: &Sandbox, token: &TokenTerms, params: &params::Params) -> Result<InvoiceTerms, String> {
    let field = |name: &str| params.get(name).map(String::as_str).unwrap_or("").trim().to_owned();
    let invoice_id = field("invoiceId");
    match &token.invoice_id {
        Some(issued) if *issued != invoice_id => return Err(format!("invoiceId `{invoice_id}` is not the token's invoice")),
        None if !is_valid_invoice_id(&invoice_id) => return Err("invoiceId must be 6 to 15 digits".into()),
        _ => {}
    }
    let amount = Amount::parse(&field("amount")).ok();
    let amount = match token.amount {
        Some(issued) if amount != Some(issued) => return Err(format!("amount `{}` is not the token's amount {issued}", field("amount"))),
        Some(issued) => issued,
        None => amount.ok_or_else(|| format!("amount `{}` is not a positive amount", field("amount")))?,
    };
    let currency = field("currency");
    match token.currency.as_deref() {
        Some(issued) if issued != currency => return Err(format!("currency `{currency}` is not the token's {issued}")),
        None if currency != "KZT" => return Err(format!("currency `{currency}` is not supported (KZT)")),
        _ => {}
    }
    if field("terminal") != token.terminal {
        return Err("terminal is not the token's terminal".into());
    }
    let post_link = match token.post_link.as_deref() {
        Some(issued) if !field("postLink").is_empty() && field("postLink") != issued => {
            return Err("postLink differs from the one the token was issued with".into());
        }
        Some(issued) => issued.to_owned(),
        None if url::Url::parse(&field("postLink")).is_err() => return Err("postLink must be an absolute URL".into()),
        None if !sandbox.notifies_the_proxy(&field("postLink")) => return Err("the sandbox delivers postLinks only to its proxies".into()),
        None => field("postLink"),
    };
    Ok(InvoiceTerms {
        invoice_id,
        amount,
        currency,
        terminal: token.terminal.clone(),
        post_link,
        failure_post_link: token.failure_post_link.clone(),
        secret_hash: token.secret_hash.clone(),
    })
}

/// Labels in the payment page's language ("RU"/"rus", "KZ"/"kaz", "EN"/"eng").
struct Labels {
    title: &'static str,
    transfer_title: &'static str,
    card: &'static str,
    sender_card: &'static str,
    receiver_card: &'static str,
    fee: &'static str,
    total: &'static str,
    transfer: &'static str,
    expiry: &'static str,
    cvc: &'static str,
    holder: &'static str,
    pay: &'static str,
    test_cards: &'static str,
}

fn labels(language: &str) -> (Language, Labels) {
    match Language::from_tag(language).unwrap_or_default() {
        Language::Ru => (
            Language::Ru,
            Labels {
                title: "Оплата",
                transfer_title: "Перевод с карты на карту",
                card: "Номер карты",
                sender_card: "Карта отправителя",
                receiver_card: "Карта получателя",
                fee: "Комиссия",
                total: "Итого к списанию",
                transfer: "Перевести",
                expiry: "Срок (ММ/ГГ)",
                cvc: "CVC",
                holder: "Имя владельца",
                pay: "Оплатить",
                test_cards: "Тестовые карты",
            },
        ),
        Language::Kk => (
            Language::Kk,
            Labels {
                title: "Төлем",
                transfer_title: "Картадан картаға аударым",
                card: "Карта нөмірі",
                sender_card: "Жіберушінің картасы",
                receiver_card: "Алушының картасы",
                fee: "Комиссия",
                total: "Барлығы шешіледі",
                transfer: "Аудару",
                expiry: "Мерзімі (АА/ЖЖ)",
                cvc: "CVC",
                holder: "Иесінің аты",
                pay: "Төлеу",
                test_cards: "Тест карталары",
            },
        ),
        Language::En => (
            Language::En,
            Labels {
                title: "Payment",
                transfer_title: "Card-to-card transfer",
                card: "Card number",
                sender_card: "Sender's card",
                receiver_card: "Receiver's card",
                fee: "Fee",
                total: "Total debited",
                transfer: "Transfer",
                expiry: "Expiry (MM/YY)",
                cvc: "CVC",
                holder: "Cardholder name",
                pay: "Pay",
                test_cards: "Test cards",
            },
        ),
    }
}

fn render_form(session: &PaySession, session_id: &str, error: Option<&str>) -> String {
    let (language, l) = labels(&session.language);
    let currency = &session.terms.currency;
    let amount = display_amount(session.terms.amount, currency);
    let transfer = session.flag.is_transfer();
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, escape(e))).unwrap_or_default();
    let cards: String = TEST_CARDS
        .iter()
        .map(|card| format!("<tr><td><code>{}</code></td><td>{}</td></tr>", cards::spaced(card.number), escape(card.what)))
        .collect();
    // A transfer is card to card: the sender's card pays the amount and a fee, the receiver's
    // card gets the amount (Halyk's SDK: `card.receiver`, `fee`).
    let (title, card_label, button, receiver, fee_rows) = if transfer {
        let fee = Registry::transfer_fee(session.terms.amount);
        let total = Amount::from_minor(session.terms.amount.minor() + fee.minor());
        let receiver = format!(
            r#"<label for="receiver">{receiver}</label>
<input id="receiver" name="receiver" inputmode="numeric" autocomplete="off" value="4400 4300 0000 0007" required>"#,
            receiver = l.receiver_card,
        );
        let fee_rows = format!(
            r#"<dt>{fee}</dt><dd data-fee>{fee_amount}</dd><dt>{total}</dt><dd data-total>{total_amount}</dd>"#,
            fee = l.fee,
            fee_amount = display_amount(fee, currency),
            total = l.total,
            total_amount = display_amount(total, currency),
        );
        (l.transfer_title, l.sender_card, l.transfer, receiver, fee_rows)
    } else {
        (l.title, l.card, l.pay, String::new(), String::new())
    };
    let body = format!(
        r#"<h1>{title}</h1>
<p class="amount" data-amount>{amount}</p>
<dl>
<dt>Invoice</dt><dd data-invoice>{invoice}</dd>
<dt>Description</dt><dd data-description>{description}</dd>
<dt>Terminal</dt><dd>{terminal}</dd>
{fee_rows}
</dl>
{error}
<form method="post" action="pay" autocomplete="off">
<input type="hidden" name="session" value="{session_id}">
<label for="card">{card}</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="4111 1111 1111 1111" required>
<div class="row">
<div><label for="expiry">{expiry}</label><input id="expiry" name="expiry" value="12/30" required></div>
<div><label for="cvc">{cvc}</label><input id="cvc" name="cvc" inputmode="numeric" value="123" required></div>
</div>
<label for="holder">{holder}</label>
<input id="holder" name="holder" value="SANDBOX CARDHOLDER">
{receiver}
<button type="submit" id="pay">{button} {amount}</button>
</form>
<table><caption>{test_cards}</caption>{cards}</table>"#,
        invoice = escape(&session.terms.invoice_id),
        description = escape(&session.description),
        terminal = escape(&session.terms.terminal),
        session_id = escape(session_id),
        card = card_label,
        expiry = l.expiry,
        cvc = l.cvc,
        holder = l.holder,
        test_cards = l.test_cards,
    );
    layout(language.tag(), title, &body)
}

#[derive(Deserialize)]
pub struct PayForm {
    session: String,
    card: String,
    #[serde(default)]
    expiry: String,
    #[serde(default)]
    cvc: String,
    #[serde(default)]
    holder: String,
    /// The receiving card of a transfer.
    #[serde(default)]
    receiver: String,
}

pub async fn pay(State(sandbox): State<Arc<Sandbox>>, Form(form): Form<PayForm>) -> Response {
    let session = sandbox.registry().session(&form.session).cloned();
    let Some(session) = session else {
        return error_page(StatusCode::BAD_REQUEST, "this payment page has expired; start the payment again");
    };
    let Some(card) = cards::find(&form.card) else {
        let html = render_form(&session, &form.session, Some("sandbox: use one of the test cards below"));
        return (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response();
    };
    if !(3..=4).contains(&form.cvc.trim().len()) || !form.expiry.contains('/') {
        let html = render_form(&session, &form.session, Some("check the expiry date (MM/YY) and the CVC"));
        return (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response();
    }
    let receiver = match session.flag.is_transfer() {
        false => None,
        true => match cards::valid_receiver(&form.receiver) {
            Some(receiver) => Some(receiver),
            None => {
                let html = render_form(&session, &form.session, Some("the receiver's card number is not valid (16 digits)"));
                return (StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response();
            }
        },
    };

    let (two_stage, bonus_minor) = {
        let control = sandbox.control();
        (control.two_stage, control.bonus_minor)
    };
    let transaction = {
        let mut registry = sandbox.registry();
        if registry.is_paid(&session.terms.invoice_id) {
            drop(registry);
            return error_page(StatusCode::CONFLICT, "this invoice is already paid");
        }
        registry.close_session(&form.session);
        let transaction = charge(&session, card.number, card.outcome, receiver.as_deref(), two_stage, bonus_minor);
        registry.transactions.entry(transaction.invoice_id.clone()).or_default().push(transaction.clone());
        let saved = (session.card_save && transaction.reason_code == 0)
            .then(|| registry.save_card(card.number, &session.account_id, &session.terms.terminal));
        (transaction, saved)
    };
    let (transaction, saved_card) = transaction;
    let success = transaction.reason_code == 0;
    tracing::info!(invoice_id = %transaction.invoice_id, status = transaction.status_name, "sandbox: payment processed");

    if card.outcome != CardOutcome::ApproveWithoutNotification {
        let holder = form.holder.trim().to_uppercase();
        delivery::notify(&sandbox, &session, &transaction, &holder, saved_card.as_deref()).await;
    }

    if session.flag == MethodFlag::ShortForm {
        return short_form_result(success);
    }
    let target = if success { &session.back_link } else { &session.failure_back_link };
    Redirect::to(target).into_response()
}

pub(crate) fn charge(
    session: &PaySession,
    card_number: &str,
    outcome: CardOutcome,
    receiver: Option<&str>,
    two_stage: bool,
    bonus_minor: u64,
) -> Transaction {
    // A two-stage terminal holds the money (AUTH) until the merchant charges or cancels it.
    let approved = if two_stage { "AUTH" } else { "CHARGE" };
    let (status_name, reason, reason_code) = match outcome {
        CardOutcome::Approve | CardOutcome::ApproveWithoutNotification => (approved, "success", 0),
        CardOutcome::Decline { reason_code, reason } => ("REJECT", reason, reason_code),
    };
    let success = reason_code == 0;
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+5));
    Transaction {
        id: uuid::Uuid::new_v4().to_string(),
        invoice_id: session.terms.invoice_id.clone(),
        amount: session.terms.amount,
        currency: session.terms.currency.clone(),
        terminal: session.terms.terminal.clone(),
        status_name,
        refunded: Amount::from_minor(0),
        card_mask: cards::mask(card_number),
        approval_code: if success { digits(6) } else { String::new() },
        reference: if success { digits(12) } else { String::new() },
        reason: reason.to_owned(),
        reason_code,
        created_at: now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        fee: receiver.map(|_| Registry::transfer_fee(session.terms.amount)),
        bonus: Amount::from_minor(if success { bonus_minor.min(session.terms.amount.minor()) } else { 0 }),
        lagging: None,
        receiver_mask: receiver.map(cards::mask),
    }
}

/// In the overlay, the page reports to its parent instead of redirecting.
fn short_form_result(success: bool) -> Response {
    let body = format!(
        r#"<h1>{}</h1><script src="result.js" data-success="{success}"></script>"#,
        if success { "Payment accepted" } else { "Payment declined" }
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(layout("en", "Result", &body))).into_response()
}

fn digits(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

fn new_id(len: usize) -> String {
    use rand::distr::Alphanumeric;
    rand::rng().sample_iter(Alphanumeric).take(len).map(char::from).collect()
}
