//! Sign-in for people: names and argon2 hashes from `ADMIN_USERS`, a session in an HttpOnly
//! `SameSite=Strict` cookie (`Secure` unless the proxy is on plain-http loopback), a CSRF token
//! every change sends back in `X-CSRF-Token`, sessions that end after idling or at a fixed
//! time, and a lockout after repeated failures for one name. The store keeps only the
//! SHA-256 of a session id.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use epay_api_types::{AdminSession, AdminSignIn, CSRF_HEADER, ErrorCode};

use crate::AppState;
use crate::config::admin::{AdminUser, Role};
use crate::error::AppError;
use crate::json::JsonBody;
use crate::merchant::view::rfc3339;
use crate::rate_limit::{self, ClientAddr};
use crate::secrets::{constant_time_eq, sha256_hex};
use crate::store::admin::{self, SessionRow};
use crate::store::now;

pub const COOKIE: &str = "epay_admin";
/// A session's last use is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

/// The person a request comes from (the request's extension once `require_staff` let it in).
#[derive(Clone, Debug)]
pub struct Staff {
    pub name: String,
    pub role: Role,
}

impl Staff {
    /// Money actions, resends and review decisions are for operators.
    pub fn require_operator(&self) -> Result<(), AppError> {
        if self.role == Role::Operator {
            return Ok(());
        }
        Err(AppError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("{} is a viewer: refunds, captures, cancels, resends and review decisions are for operators", self.name),
        ))
    }
}

/// An argon2id hash of `password` for `ADMIN_USERS` (`epay-proxy admin hash-password`).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Checked for a name nobody has, so a wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&crate::secrets::random_hex(16)))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(";");
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn secure(app: &AppState) -> &'static str {
    secure_flag(&app.config.server.public_url)
}

/// `; Secure` everywhere but plain-http loopback (development, the sandbox). Pure.
pub fn secure_flag(url: &url::Url) -> &'static str {
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if url.scheme() == "http" && loopback { "" } else { "; Secure" }
}

fn set_cookie(response: &mut Response, value: &str, max_age: i64, secure: &str) {
    let cookie = format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    response.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("a cookie of hex digits"));
}

fn view(user: &str, row: &SessionRow) -> AdminSession {
    AdminSession { user: user.to_owned(), role: row.role.clone(), csrf_token: row.csrf.clone(), expires_at: rfc3339(row.expires_at) }
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
    // Many names from one address (guessing, or locking people out): slowed down per client.
    if !app.admin_sign_ins.admits(rate_limit::bucket(client)) {
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
    let locked_name = name.clone();
    if let Some(until) = app.store.read(move |db| admin::locked_until(db, &locked_name, at)).await? {
        return Err(locked(until - at));
    }
    let user: Option<AdminUser> = settings.users.iter().find(|u| u.name == name).cloned();
    let hash = user.as_ref().map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password = body.password;
    let matched = tokio::task::spawn_blocking(move || verify(&password, &hash)).await.map_err(AppError::internal)?;
    let Some(user) = user.filter(|_| matched) else {
        let (after, lock_secs) = (i64::from(settings.lockout_after), settings.lockout.as_secs() as i64);
        let failed = name.clone();
        let locked_now = app.store.write(move |tx| admin::record_failure(tx, &failed, at, after, lock_secs)).await?;
        // Never the typed name: it is often a password pasted into the wrong field.
        tracing::warn!(name_tag = %name_tag(&name), locked = locked_now.is_some(), "a console sign-in failed");
        return Err(match locked_now {
            Some(until) => locked(until - at),
            None => refused(),
        });
    };
    let id = crate::secrets::random_hex(32);
    let row = SessionRow {
        user_name: user.name.clone(),
        role: user.role.name().to_owned(),
        credential: sha256_hex(user.password_hash.as_bytes()),
        csrf: crate::secrets::random_hex(32),
        expires_at: at + settings.lifetime.as_secs() as i64,
        last_seen_at: at,
    };
    let (digest, stored, signed_in) = (sha256_hex(id.as_bytes()), row.clone(), user.name.clone());
    app.store
        .write(move |tx| {
            admin::clear_failures(tx, &signed_in)?;
            admin::create_session(tx, &digest, &stored, at)
        })
        .await?;
    tracing::info!(user = %user.name, role = user.role.name(), "signed in to the console");
    let mut response = Json(view(&user.name, &row)).into_response();
    set_cookie(&mut response, &id, settings.lifetime.as_secs() as i64, secure(&app));
    Ok(response)
}

fn locked(retry_secs: i64) -> AppError {
    AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("too many failed sign-ins for this name: it is locked for {} more minute(s)", (retry_secs + 59) / 60),
    )
    .retry_after(retry_secs.max(1) as u64)
}

/// `GET /api/admin/session`: who is signed in (the console asks on load).
pub async fn current(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Json<AdminSession>, AppError> {
    let (user, row) = live(&app, &headers).await?;
    Ok(Json(view(&user.name, &row)))
}

/// `DELETE /api/admin/session`: signs out (with the CSRF token, like every change).
pub async fn sign_out(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, AppError> {
    let (user, row) = live(&app, &headers).await?;
    check_csrf(&headers, &row)?;
    let digest = session_cookie(&headers).map(|id| sha256_hex(id.as_bytes())).unwrap_or_default();
    app.store.write(move |tx| admin::end_session(tx, &digest)).await?;
    tracing::info!(user = %user.name, "signed out of the console");
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(&mut response, "", 0, secure(&app));
    Ok(response)
}

/// The session the cookie names, alive, of a person `ADMIN_USERS` still has with the same
/// password (and the role it gives them now): removing a person, changing their password or
/// their role takes effect at their next request.
async fn live(app: &AppState, headers: &HeaderMap) -> Result<(AdminUser, SessionRow), AppError> {
    let no_session = || AppError::unauthorized("sign in to the console (POST /api/admin/session)");
    let id = session_cookie(headers).ok_or_else(no_session)?;
    let digest = sha256_hex(id.as_bytes());
    let (at, idle) = (now(), app.config.admin.idle.as_secs() as i64);
    let looked_up = digest.clone();
    let row = app.store.read(move |db| admin::live_session(db, &looked_up, at, idle)).await?.ok_or_else(no_session)?;
    // The person must still be in ADMIN_USERS with the password they signed in with.
    let user = app.config.admin.users.iter().find(|u| u.name == row.user_name && sha256_hex(u.password_hash.as_bytes()) == row.credential);
    let user = user.cloned().ok_or_else(no_session)?;
    if at - row.last_seen_at >= TOUCH_EVERY_SECS {
        app.store.write(move |tx| admin::touch_session(tx, &digest, at)).await?;
    }
    let row = SessionRow { role: user.role.name().to_owned(), ..row };
    Ok((user, row))
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

/// Lets in a signed-in person; a change also needs the CSRF token and, when the browser says
/// where it comes from, this proxy's own origin.
pub async fn require_staff(State(app): State<Arc<AppState>>, mut request: Request, next: Next) -> Result<Response, AppError> {
    let (user, row) = live(&app, request.headers()).await?;
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        check_csrf(request.headers(), &row)?;
        let own = app.config.server.public_url.origin().ascii_serialization();
        let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.is_some_and(|origin| origin != own) {
            return Err(AppError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "changes come from the console's own origin only"));
        }
    }
    request.extensions_mut().insert(Staff { name: user.name, role: user.role });
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
