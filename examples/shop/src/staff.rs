//! What the shop's staff do: sign in (a name and a password, its argon2 hash from
//! `SHOP_STAFF_USERS`), see the orders, refund one. A session is a random id in a cookie
//! (`HttpOnly`, `SameSite=Strict`, `Secure` unless the shop is on plain http for development)
//! whose SHA-256 the shop stores with a CSRF token; every form carries the token and every
//! change checks it. Customers never reach any of this.

use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::{Shop, escape, page};

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

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(session_id: &str) -> String {
    Sha256::digest(session_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    cookies.split(';').filter_map(|c| c.trim().split_once('=')).find(|(name, _)| *name == COOKIE).map(|(_, v)| v.to_owned())
}

/// The session the request's cookie names, if it is alive.
pub async fn session(shop: &Shop, headers: &HeaderMap) -> Option<Session> {
    let id = cookie(headers)?;
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
    let same = session.csrf.len() == csrf.len() && session.csrf.bytes().zip(csrf.bytes()).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0;
    if !same {
        return Err((StatusCode::FORBIDDEN, "the form is stale or was not sent by this shop: reload the page").into_response());
    }
    Ok(session)
}

pub async fn login_page(State(shop): State<Arc<Shop>>) -> Response {
    login_form(&shop, "")
}

fn login_form(shop: &Shop, problem: &str) -> Response {
    let body = format!(
        "<section class=\"staff\"><h1>Вход для сотрудников</h1>{}<form method=\"post\" action=\"/staff/login\">\
         <label>Имя <input name=\"user\" autocomplete=\"username\" required></label>\
         <label>Пароль <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Войти</button></form></section>",
        if problem.is_empty() { String::new() } else { format!("<p class=\"problem\" role=\"alert\">{}</p>", escape(problem)) }
    );
    page(shop, "Вход", &body)
}

#[derive(serde::Deserialize)]
pub struct Login {
    user: String,
    password: String,
}

pub async fn login(State(shop): State<Arc<Shop>>, Form(login): Form<Login>) -> Response {
    let hash = shop.staff.iter().find(|(name, _)| *name == login.user).map(|(_, hash)| hash.as_str());
    let verified = hash
        .and_then(|hash| PasswordHash::new(hash).ok())
        .is_some_and(|hash| Argon2::default().verify_password(login.password.as_bytes(), &hash).is_ok());
    if !verified {
        tracing::warn!(user = %login.user, "a staff sign-in failed");
        let mut response = login_form(&shop, "Неверное имя или пароль.");
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return response;
    }
    let (id, csrf) = (random_hex(), random_hex());
    let stored = sqlx::query("INSERT INTO shop_sessions (id_digest, user_name, csrf, expires_at) VALUES (?, ?, ?, unixepoch() + ?)")
        .bind(digest(&id))
        .bind(&login.user)
        .bind(&csrf)
        .bind(SESSION_SECS)
        .execute(&shop.db)
        .await;
    if stored.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the shop hit an error; it has been logged").into_response();
    }
    tracing::info!(user = %login.user, "staff signed in");
    let secure = if shop.public_url.starts_with("https://") { "; Secure" } else { "" };
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
    if let Some(id) = cookie(&headers) {
        let _ = sqlx::query("DELETE FROM shop_sessions WHERE id_digest = ?").bind(digest(&id)).execute(&shop.db).await;
    }
    let mut response = Redirect::to("/staff/login").into_response();
    let gone = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&gone).expect("a cookie value"));
    response
}

/// The orders, newest first, each with its refund form when it can be refunded.
pub async fn orders(State(shop): State<Arc<Shop>>, headers: HeaderMap) -> Response {
    let Some(session) = session(&shop, &headers).await else { return Redirect::to("/staff/login").into_response() };
    let rows: Vec<(i64, String, String, bool, String)> =
        sqlx::query_as("SELECT id, product, invoice_id, paid, proxy_status FROM shop_orders ORDER BY id DESC LIMIT 200")
            .fetch_all(&shop.db)
            .await
            .unwrap_or_default();
    let csrf = escape(&session.csrf);
    let list: String = rows
        .iter()
        .map(|(id, product, invoice, paid, status)| {
            let refund = if *paid && status == "paid" {
                format!(
                    "<form method=\"post\" action=\"/staff/orders/{id}/refund\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                     <button type=\"submit\" data-refund=\"{id}\">Вернуть деньги</button></form>"
                )
            } else {
                String::new()
            };
            format!(
                "<tr data-order=\"{id}\"><td>№{id}</td><td>{}</td><td>{}</td><td data-status>{}</td><td>{refund}</td></tr>",
                escape(product),
                escape(invoice),
                escape(status)
            )
        })
        .collect();
    let body = format!(
        "<section class=\"staff\"><h1>Заказы</h1><p>{}</p><table>{list}</table>\
         <form method=\"post\" action=\"/staff/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">Выйти</button></form></section>",
        escape(&session.user)
    );
    page(&shop, "Заказы", &body)
}

/// The Refund button: staff only, with the session's CSRF token; the shop's backend refunds
/// the whole order through the merchant API (its order id makes the Idempotency-Key: a double
/// click refunds once).
pub async fn refund(State(shop): State<Arc<Shop>>, Path(id): Path<i64>, headers: HeaderMap, Form(form): Form<Csrf>) -> Response {
    let session = match authorised(&shop, &headers, &form.csrf).await {
        Ok(session) => session,
        Err(answer) => return answer,
    };
    tracing::info!(user = %session.user, id, "refund asked");
    match super::refund_order(&shop, id).await {
        Ok(()) => Redirect::to("/staff").into_response(),
        Err(answer) => answer.into_response(),
    }
}
