//! Sign-in for people: names and argon2 hashes from `ADMIN_USERS` (`passwords.rs`), a TOTP
//! second factor (`second_factor.rs`), a session in an HttpOnly `SameSite=Strict` cookie
//! (`__Host-` and `Secure` unless the console is on plain-http loopback), a CSRF token every
//! change sends back in `X-CSRF-Token`, sessions that end after idling or at a fixed time, and
//! failed attempts that slow down only the address they come from (`throttle.rs`). The store
//! keeps only the SHA-256 of a session id.

use std::sync::{Arc, OnceLock};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use epay_api_types::{AdminSession, AdminSignIn, CSRF_HEADER, ErrorCode};

use super::second_factor::{self, SecondStep};
use super::staff::Staff;
use super::throttle::{self, Admission};
use crate::config::admin::AdminUser;
use crate::error::AppError;
use crate::json::JsonBody;
use crate::rate_limit::{self, ClientAddr};
use crate::secrets::{constant_time_eq, sha256_hex};
use crate::state::AppState;
use crate::store::admin::{self, SessionRow};
use crate::store::now;
use crate::views::order::rfc3339;

pub use crate::passwords::hash_password;

/// The session cookie's name where the console is served over https (or anywhere but
/// plain-http loopback): a `__Host-` cookie is only accepted with `Secure`, `Path=/` and no
/// `Domain`, so a sibling subdomain cannot plant one.
pub const HOST_COOKIE: &str = "__Host-epay_admin";
/// On plain-http loopback (development), where `Secure` cannot be set.
pub const COOKIE: &str = "epay_admin";
/// A session's last use is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

fn session_cookie(app: &AppState, headers: &HeaderMap) -> Option<String> {
    let wanted = cookie_name(app);
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(";");
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn secure(app: &AppState) -> &'static str {
    secure_flag(&app.config.admin.url)
}

/// `__Host-epay_admin` wherever the cookie is `Secure`, `epay_admin` on plain-http loopback.
pub fn cookie_name(app: &AppState) -> &'static str {
    if secure(app).is_empty() { COOKIE } else { HOST_COOKIE }
}

/// `; Secure` everywhere but plain-http loopback (development, the sandbox). Pure.
pub fn secure_flag(url: &url::Url) -> &'static str {
    if crate::config::plain_http_loopback(url) { "" } else { "; Secure" }
}

fn set_cookie(app: &AppState, response: &mut Response, value: &str, max_age: i64) {
    let (name, secure) = (cookie_name(app), secure(app));
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a cookie of hex digits"));
}

fn view(app: &AppState, user: &AdminUser, row: &SessionRow, enrolled: bool) -> AdminSession {
    AdminSession {
        user: user.name.clone(),
        role: user.role,
        csrf_token: row.csrf.clone(),
        expires_at: rfc3339(row.expires_at),
        second_factor: enrolled,
        must_enrol: second_factor::must_enrol(&app.config.admin, user.role, row.second_factor),
    }
}

fn refused() -> AppError {
    AppError::unauthorized("wrong name or password")
}

/// `POST /api/admin/session`: signs a person in.
pub async fn sign_in(
    State(app): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
    JsonBody(body): JsonBody<AdminSignIn>,
) -> Result<Response, AppError> {
    let settings = &app.config.admin;
    // Many names from one address (guessing names): slowed down per client (an IPv6 client
    // by its /56).
    if !app.admin_sign_ins.admits(rate_limit::coarse_bucket(client)) {
        tracing::warn!(client = %client, "console sign-ins refused: ADMIN_SIGN_IN_RATE_PER_MINUTE reached");
        return Err(AppError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many sign-in attempts from this address; wait a minute",
        )
        .retry_after(60));
    }
    let name: String = body.user.trim().chars().take(64).collect();
    let at = now();
    // The attempt is counted before the password is checked: guesses sent together are
    // counted one by one, and only the first few of them are checked.
    let address = rate_limit::bucket(client).to_string();
    let (pair, counted_at, rules) = (name.clone(), address.clone(), settings.throttle);
    let (admission, before, after) = app
        .store
        .write(move |tx| {
            let before = admin::lock_attempts(tx, &pair, &counted_at)?;
            let (admission, after) = throttle::admit(Some(before), at, &rules);
            admin::save_attempts(tx, &pair, &counted_at, &after)?;
            Ok((admission, before, after))
        })
        .await?;
    // An attempt that turns out not to be a failure (never checked, or the right password
    // asking for the code) is taken back.
    let (pair, counted_at, store) = (name.clone(), address.clone(), app.store.clone());
    let take_back = || async move { store.write(move |tx| admin::restore_attempts(tx, &pair, &counted_at, &before, &after)).await };
    match admission {
        Admission::Wait { secs } => {
            tracing::warn!(name_tag = %name_tag(&name), client = %client, "a console sign-in waits: too many failures from this address");
            return Err(too_soon(secs));
        }
        Admission::Check { failing: true } if app.sign_in_retries.take().is_err() => {
            tracing::warn!(client = %client, "a console sign-in refused: ADMIN_SIGN_IN_RETRIES_PER_MINUTE reached");
            take_back().await?;
            return Err(AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                "many sign-ins are failing right now; try again in a few seconds",
            )
            .retry_after(5));
        }
        Admission::Check { .. } => {}
    }
    let user: Option<AdminUser> = settings.users.iter().find(|u| u.name == name).cloned();
    let hash = user.as_ref().map_or_else(|| crate::passwords::decoy_hash().to_owned(), |u| u.password_hash.clone());
    let matched = match app.password_checks.matches(body.password, hash).await {
        Ok(matched) => matched,
        Err(busy) => {
            take_back().await?;
            return Err(busy);
        }
    };
    let Some(user) = user.filter(|_| matched) else {
        // Never the typed name: it is often a password pasted into the wrong field.
        tracing::warn!(name_tag = %name_tag(&name), client = %client, "a console sign-in failed");
        return Err(refused());
    };
    let with_factor = match second_factor::at_sign_in(&app, &user, body.code.as_deref(), at).await? {
        SecondStep::NotEnrolled => false,
        SecondStep::Passed => true,
        SecondStep::CodeMissing => {
            take_back().await?;
            return Err(second_factor::code_required());
        }
        SecondStep::CodeRefused => return Err(second_factor::code_refused()),
    };
    let id = crate::secrets::random_hex(32);
    let row = SessionRow {
        user_name: user.name.clone(),
        role: user.role,
        credential: sha256_hex(user.password_hash.as_bytes()),
        csrf: crate::secrets::random_hex(32),
        expires_at: at + settings.lifetime.as_secs() as i64,
        last_seen_at: at,
        second_factor: with_factor,
    };
    let (digest, stored, signed_in) = (sha256_hex(id.as_bytes()), row.clone(), user.name.clone());
    app.store
        .write(move |tx| {
            admin::forget_attempts(tx, &signed_in, &address)?;
            admin::create_session(tx, &digest, &stored, at)
        })
        .await?;
    tracing::info!(user = %user.name, role = %user.role, second_factor = with_factor, "signed in to the console");
    let mut response = Json(view(&app, &user, &row, with_factor)).into_response();
    set_cookie(&app, &mut response, &id, settings.lifetime.as_secs() as i64);
    Ok(response)
}

fn too_soon(retry_secs: i64) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("too many failed sign-ins for this name from this address: try again in {retry_secs} s"),
    )
    .retry_after(retry_secs.max(1) as u64)
}

/// `GET /api/admin/session`: who is signed in (the console asks on load).
pub async fn current(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Json<AdminSession>, AppError> {
    let (user, row, _) = live(&app, &headers).await?;
    let name = user.name.clone();
    let factor = app.store.read(move |db| admin::second_factor(db, &name)).await?;
    Ok(Json(view(&app, &user, &row, factor.is_some_and(|factor| factor.confirmed))))
}

/// `DELETE /api/admin/session`: signs out (with the CSRF token, like every change).
pub async fn sign_out(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, AppError> {
    let (user, row, digest) = live(&app, &headers).await?;
    check_csrf(&headers, &row)?;
    app.store.write(move |tx| admin::end_session(tx, &digest)).await?;
    tracing::info!(user = %user.name, "signed out of the console");
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&app, &mut response, "", 0);
    Ok(response)
}

/// The session the cookie names, alive, of a person `ADMIN_USERS` still has with the same
/// password (and the role it gives them now): removing a person, changing their password or
/// their role takes effect at their next request. With the SHA-256 of the session id.
async fn live(app: &AppState, headers: &HeaderMap) -> Result<(AdminUser, SessionRow, String), AppError> {
    let no_session = || AppError::unauthorized("sign in to the console (POST /api/admin/session)");
    let id = session_cookie(app, headers).ok_or_else(no_session)?;
    let digest = sha256_hex(id.as_bytes());
    let (at, idle) = (now(), app.config.admin.idle.as_secs() as i64);
    let looked_up = digest.clone();
    let row = app.store.read(move |db| admin::live_session(db, &looked_up, at, idle)).await?.ok_or_else(no_session)?;
    // The person must still be in ADMIN_USERS with the password they signed in with.
    let user = app.config.admin.users.iter().find(|u| u.name == row.user_name && sha256_hex(u.password_hash.as_bytes()) == row.credential);
    let user = user.cloned().ok_or_else(no_session)?;
    if at - row.last_seen_at >= TOUCH_EVERY_SECS {
        let touched = digest.clone();
        app.store.write(move |tx| admin::touch_session(tx, &touched, at)).await?;
    }
    let row = SessionRow { role: user.role, ..row };
    Ok((user, row, digest))
}

fn check_csrf(headers: &HeaderMap, row: &SessionRow) -> Result<(), AppError> {
    let sent = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if constant_time_eq(sent, &row.csrf) {
        return Ok(());
    }
    Err(AppError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        format!("send the session's csrfToken in {CSRF_HEADER} with every change (reload the console if it is open in an old tab)"),
    ))
}

/// Lets in a signed-in person who has done what `ADMIN_REQUIRE_2FA` asks of them; a change
/// also needs the CSRF token and, when the browser says where it comes from, the console's
/// own origin.
pub async fn require_staff(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Result<Response, AppError> {
    admit(app, request, next, false).await
}

/// The same for the second factor's enrolment, which a session that must enrol may use.
pub async fn require_session(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Result<Response, AppError> {
    admit(app, request, next, true).await
}

async fn admit(app: Arc<AppState>, mut request: Request, next: Next, enrolling: bool) -> Result<Response, AppError> {
    let (user, row, session) = live(&app, request.headers()).await?;
    if second_factor::must_enrol(&app.config.admin, user.role, row.second_factor) && !enrolling {
        return Err(AppError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "operators sign in with a second factor here (ADMIN_REQUIRE_2FA): enrol one first (POST /api/admin/second-factor)",
        ));
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        check_csrf(request.headers(), &row)?;
        let own = app.config.admin.url.origin().ascii_serialization();
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.is_some_and(|origin| origin != own) {
            return Err(AppError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "changes come from the console's own origin only"));
        }
    }
    request.extensions_mut().insert(Staff { name: user.name, role: user.role, session });
    Ok(next.run(request).await)
}

/// An opaque tag for a name typed at sign-in, for logs: the same name gets the same tag while
/// the process runs (repeated failures can be told apart), and nothing in it can be read back
/// (a keyed SHA-256 with a key made at start).
pub fn name_tag(name: &str) -> String {
    static KEY: OnceLock<String> = OnceLock::new();
    let key = KEY.get_or_init(|| crate::secrets::random_hex(32));
    sha256_hex(format!("{key}\u{1f}{name}").as_bytes())[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_outside_plain_http_loopback() {
        for (url, flag) in [
            ("http://127.0.0.1:8080/", ""),
            ("http://localhost:8080/", ""),
            ("http://[::1]:8080/", ""),
            ("https://pay.shop.kz/", "; Secure"),
            ("http://192.168.1.10:9000/", "; Secure"),
            ("https://127.0.0.1/", "; Secure"),
        ] {
            assert_eq!(secure_flag(&url.parse().unwrap()), flag, "{url}");
        }
    }
}
