//! What the shop's staff do: sign in (a name and a password, its argon2 hash from
//! `SHOP_STAFF_USERS`), see the orders as a table, refund all or part of one after confirming.
//! A session is a random id in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` unless the
//! shop is on plain http for development) whose SHA-256 the shop stores with a CSRF token;
//! every form carries a token (the session's, or before sign-in the visitor's: `guard.rs`)
//! and every change checks it. Failed sign-ins make only their address wait; an unknown name
//! costs the same argon2 check as a wrong password, so timing tells no names. Customers never
//! reach any of this.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::{Shop, escape, guard, page};

/// How long a staff session lasts.
const SESSION_SECS: i64 = 8 * 3600;
const COOKIE: &str = "shop_session";

/// A signed-in person.
pub struct Session {
    pub user: String,
    pub csrf: String,
}

/// `SHOP_STAFF_USERS`: `name:hash` entries separated by `;` (hashes from
/// `epay-demo-shop hash-password`).
pub fn parse_users(text: &str) -> Vec<(String, String)> {
    text.split(';')
        .filter_map(|entry| entry.trim().split_once(':'))
        .map(|(name, hash)| (name.trim().to_owned(), hash.trim().to_owned()))
        .filter(|(name, hash)| !name.is_empty() && PasswordHash::new(hash).is_ok())
        .collect()
}

/// An argon2id hash of `password` for `SHOP_STAFF_USERS`.
pub fn hash_password(password: &str) -> String {
    let salt = argon2::password_hash::SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Checked for a name nobody has: a wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_hex()))
}

pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(session_id: &str) -> String {
    Sha256::digest(session_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The session the request's cookie names, if it is alive.
pub async fn session(shop: &Shop, headers: &HeaderMap) -> Option<Session> {
    let id = guard::cookie(headers, COOKIE)?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT user_name, csrf FROM shop_sessions WHERE id_digest = ? AND expires_at > unixepoch()")
            .bind(digest(&id))
            .fetch_optional(&shop.db)
            .await
            .ok()?;
    row.map(|(user, csrf)| Session { user, csrf })
}

/// The session, and a form's CSRF token checked against it; otherwise the answer to give.
async fn authorised(shop: &Shop, headers: &HeaderMap, csrf: &str) -> Result<Session, Response> {
    let Some(session) = session(shop, headers).await else { return Err(Redirect::to("/staff/login").into_response()) };
    if !guard::same(&session.csrf, csrf) {
        return Err((StatusCode::FORBIDDEN, "the form is stale or was not sent by this shop: reload the page").into_response());
    }
    Ok(session)
}

pub async fn login_page(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> Response {
    login_form(&shop, &headers, StatusCode::OK, "")
}

fn login_form(shop: &Shop, headers: &HeaderMap, status: StatusCode, problem: &str) -> Response {
    let (token, set_cookie) = guard::form_token(headers, shop.secure());
    let body = format!(
        "<section class=\"staff\"><h1>Вход для сотрудников</h1>{}<form method=\"post\" action=\"/staff/login\">\
         <input type=\"hidden\" name=\"form_token\" value=\"{token}\">\
         <label>Имя <input name=\"user\" autocomplete=\"username\" required></label>\
         <label>Пароль <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Войти</button></form></section>",
        if problem.is_empty() { String::new() } else { format!("<p class=\"problem\" role=\"alert\">{}</p>", escape(problem)) }
    );
    let mut response = page(shop, "Вход", &body);
    *response.status_mut() = status;
    if let Some(set_cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, set_cookie);
    }
    response
}

#[derive(serde::Deserialize)]
pub struct Login {
    user: String,
    password: String,
    #[serde(default)]
    form_token: String,
}

pub async fn login(
    State(shop): State<Arc<Shop>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(login): Form<Login>,
) -> Response {
    if !guard::form_token_matches(&headers, &login.form_token, shop.secure()) {
        return login_form(&shop, &headers, StatusCode::FORBIDDEN, "Форма устарела или отправлена не с этой страницы: войдите ещё раз.");
    }
    let client = guard::client(&headers, peer, shop.trusted_proxy_hops);
    if shop.sign_in_limiter.check_key(&client).is_err() {
        let mut response =
            login_form(&shop, &headers, StatusCode::TOO_MANY_REQUESTS, "Слишком много попыток входа с этого адреса: подождите минуту.");
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return response;
    }
    let name: String = login.user.trim().chars().take(64).collect();
    // Counted before the password is checked: guesses sent together are counted one by one.
    if let Err(wait) = shop.sign_ins.attempt(&name, client, now()) {
        tracing::warn!(%client, "a staff sign-in waits: too many failures from this address");
        let mut response = login_form(
            &shop,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Слишком много неудачных попыток: попробуйте через {wait} с."),
        );
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return response;
    }
    let hash = shop.staff.iter().find(|(user, _)| *user == name).map_or(decoy_hash(), |(_, hash)| hash.as_str()).to_owned();
    let known = shop.staff.iter().any(|(user, _)| *user == name);
    let password = login.password;
    let Ok(_one_at_a_time) = shop.password_checks.acquire().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the shop is stopping").into_response();
    };
    let matched = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
    })
    .await
    .unwrap_or(false);
    if !(known && matched) {
        // Never the typed name: it is often a password typed into the wrong field.
        tracing::warn!(%client, "a staff sign-in failed");
        return login_form(&shop, &headers, StatusCode::UNAUTHORIZED, "Неверное имя или пароль.");
    }
    shop.sign_ins.signed_in(&name, client);
    let (id, csrf) = (random_hex(), random_hex());
    let stored = sqlx::query("INSERT INTO shop_sessions (id_digest, user_name, csrf, expires_at) VALUES (?, ?, ?, unixepoch() + ?)")
        .bind(digest(&id))
        .bind(&name)
        .bind(&csrf)
        .bind(SESSION_SECS)
        .execute(&shop.db)
        .await;
    if stored.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the shop hit an error; it has been logged").into_response();
    }
    tracing::info!(user = %name, "staff signed in");
    let secure = if shop.secure() { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{secure}");
    let mut response = Redirect::to("/staff").into_response();
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a cookie value"));
    response
}

#[derive(serde::Deserialize)]
pub struct Csrf {
    csrf: String,
}

pub async fn logout(State(shop): State<Arc<Shop>>, headers: HeaderMap, Form(form): Form<Csrf>) -> Response {
    if let Err(answer) = authorised(&shop, &headers, &form.csrf).await {
        return answer;
    }
    if let Some(id) = guard::cookie(&headers, COOKIE) {
        let _ = sqlx::query("DELETE FROM shop_sessions WHERE id_digest = ?").bind(digest(&id)).execute(&shop.db).await;
    }
    let mut response = Redirect::to("/staff/login").into_response();
    let gone = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&gone).expect("a cookie value"));
    response
}

/// An order as the staff table shows it.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    number: String,
    product: String,
    invoice_id: String,
    amount: String,
    proxy_status: String,
    paid_at: Option<String>,
    refunded: String,
}

/// The orders, newest first: number, product, amount, status in Russian, when paid, what was
/// refunded so far, and a refund form (the amount, then a confirmation) while money is left.
pub async fn orders(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> Response {
    let Some(session) = session(&shop, &headers).await else { return Redirect::to("/staff/login").into_response() };
    let rows: Vec<Row> = sqlx::query_as(
        // Kazakhstan is on UTC+5 all year (since March 2024).
        "SELECT id, number, product, invoice_id, amount, proxy_status, refunded,
                strftime('%d.%m.%Y %H:%M', paid_at, 'unixepoch', '+5 hours') AS paid_at
         FROM shop_orders ORDER BY id DESC LIMIT 200",
    )
    .fetch_all(&shop.db)
    .await
    .unwrap_or_default();
    let csrf = escape(&session.csrf);
    let rows: String = rows.iter().map(|row| table_row(row, &csrf)).collect();
    let body = format!(
        "<section class=\"staff\"><h1>Заказы</h1><p>Вы вошли как {}.</p>\
         <table class=\"orders\"><thead><tr><th>Заказ</th><th>Товар</th><th class=\"num\">Сумма</th><th>Статус</th>\
         <th>Оплачен (Алматы)</th><th class=\"num\">Возвращено</th><th>Возврат</th></tr></thead><tbody>{rows}</tbody></table>\
         <form method=\"post\" action=\"/staff/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"quiet\">Выйти</button></form></section>",
        escape(&session.user)
    );
    page(&shop, "Заказы", &body)
}

fn table_row(row: &Row, csrf: &str) -> String {
    let left = super::tiyn(&row.amount).zip(super::tiyn(&row.refunded)).map_or(0, |(amount, refunded)| amount - refunded);
    let refundable = matches!(row.proxy_status.as_str(), "paid") && left > 0;
    let refund = if refundable {
        let left = super::tenge(left);
        format!(
            "<form method=\"post\" action=\"/staff/orders/{id}/refund\" class=\"refund\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>Сумма, ₸ <input name=\"amount\" inputmode=\"decimal\" value=\"{left}\" size=\"9\" required></label>\
             <button type=\"submit\" data-refund=\"{id}\">Вернуть…</button></form>",
            id = row.id
        )
    } else {
        String::new()
    };
    let product = super::product_name(&row.product);
    format!(
        "<tr data-order=\"{id}\" data-invoice=\"{invoice}\"><td>№{id}<br><small>{number}</small></td><td>{product}</td>\
         <td class=\"num\">{amount}</td><td data-status=\"{status}\">{label}</td><td>{paid_at}</td>\
         <td class=\"num\" data-refunded>{refunded}</td><td>{refund}</td></tr>",
        id = row.id,
        invoice = escape(&row.invoice_id),
        number = escape(&row.number),
        product = escape(product),
        amount = money(&row.amount),
        status = escape(&row.proxy_status),
        label = status_label(&row.proxy_status, &row.refunded),
        paid_at = escape(row.paid_at.as_deref().unwrap_or("—")),
        refunded = money(&row.refunded),
    )
}

/// `1500.5` as `1 500,50 ₸`; empty as a dash.
fn money(amount: &str) -> String {
    super::tiyn(amount).map_or_else(|| "—".to_owned(), |tiyn| format!("{} ₸", super::tenge_ru(tiyn)))
}

/// The proxy's status in the page's language.
fn status_label(status: &str, refunded: &str) -> &'static str {
    let partly = super::tiyn(refunded).is_some_and(|tiyn| tiyn > 0);
    match status {
        "paid" if partly => "Оплачен, возвращён частично",
        "paid" => "Оплачен",
        "refunded" => "Деньги возвращены",
        "authorized" => "Деньги заблокированы",
        "failed" => "Оплата не прошла",
        "expired" => "Время оплаты истекло",
        "cancelled" => "Отменён",
        "review" => "На проверке",
        "new" => "Создан",
        _ => "Ожидает оплаты",
    }
}

#[derive(serde::Deserialize)]
pub struct RefundAsked {
    csrf: String,
    /// Missing is refused after the session check (a stranger is sent to the sign-in first).
    #[serde(default)]
    amount: String,
}

/// The refund form: staff only, with the session's CSRF token; the amount is checked against
/// what is left, then a page asks to confirm (no money moves yet).
pub async fn refund(State(shop): State<Arc<Shop>>, Path(id): Path<i64>, headers: HeaderMap, Form(form): Form<RefundAsked>) -> Response {
    let session = match authorised(&shop, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let asked = match super::refundable(&shop, id, &form.amount).await {
        Ok(asked) => asked,
        Err(answer) => return answer.into_response(),
    };
    let (csrf, key) = (escape(&session.csrf), random_hex());
    let stored = sqlx::query(
        "INSERT INTO shop_refund_confirmations (key, order_id, amount, user_name, expires_at) VALUES (?, ?, ?, ?, unixepoch() + 600)",
    )
    .bind(&key)
    .bind(id)
    .bind(super::tenge(asked))
    .bind(&session.user)
    .execute(&shop.db)
    .await;
    if stored.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the shop hit an error; it has been logged").into_response();
    }
    let body = format!(
        "<section class=\"staff\"><h1>Вернуть деньги?</h1>\
         <p data-confirm-text>Вернуть покупателю <strong>{} ₸</strong> по заказу №{id} ({}). Деньги уйдут на карту, отменить возврат нельзя.</p>\
         <form method=\"post\" action=\"/staff/orders/{id}/refund/confirm\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"key\" value=\"{key}\">\
         <button type=\"submit\" data-confirm-refund>Да, вернуть</button> <a href=\"/staff\">Отмена</a></form></section>",
        super::tenge_ru(asked),
        escape(super::product_name(&super::product_of(&shop, id).await.unwrap_or_default())),
    );
    page(&shop, "Возврат", &body)
}

#[derive(serde::Deserialize)]
pub struct RefundConfirmed {
    csrf: String,
    /// The confirmation the shop stored when it asked (the amount is the stored one, never the
    /// form's): used once, so going back and sending it again, or a second tab, refunds nothing
    /// more; it also makes the Idempotency-Key.
    #[serde(default)]
    key: String,
}

/// "Yes, refund": the stored confirmation is used, what is left is checked again, and the
/// shop's backend refunds through the merchant API.
pub async fn refund_confirmed(
    State(shop): State<Arc<Shop>>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<RefundConfirmed>,
) -> Response {
    let session = match authorised(&shop, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    let amount: Option<String> = sqlx::query_scalar(
        "UPDATE shop_refund_confirmations SET used_at = unixepoch()
         WHERE key = ? AND order_id = ? AND user_name = ? AND used_at IS NULL AND expires_at > unixepoch() RETURNING amount",
    )
    .bind(&form.key)
    .bind(id)
    .bind(&session.user)
    .fetch_optional(&shop.db)
    .await
    .ok()
    .flatten();
    let Some(amount) = amount else {
        let body = "<section class=\"staff\"><h1>Возврат уже подтверждён или устарел</h1>\
                    <p>Эта страница подтверждения уже использована или истекла. Проверьте заказ в списке и при необходимости начните возврат заново.</p>\
                    <p><a href=\"/staff\">К заказам</a></p></section>";
        let mut response = page(&shop, "Возврат", body);
        *response.status_mut() = StatusCode::CONFLICT;
        return response;
    };
    if let Err(answer) = super::refundable(&shop, id, &amount).await {
        return answer.into_response();
    }
    tracing::info!(user = %session.user, id, %amount, "refund confirmed");
    match super::refund_order(&shop, id, &amount, &form.key).await {
        Ok(()) => Redirect::to("/staff").into_response(),
        Err(answer) => answer.into_response(),
    }
}
