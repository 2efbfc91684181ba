//! A second factor for people who move money: TOTP (`totp.rs`), enrolled in the console with
//! a QR code and confirmed with a first code, which also gives ten one-time recovery codes.
//! Once enrolled, every sign-in of that person needs a code (or a recovery code); a code works
//! once. With `ADMIN_REQUIRE_2FA` (the production default) an operator without one gets a
//! session that may only enrol. Nothing is remembered beyond the session. `epay-proxy admin
//! reset-2fa NAME` removes a person's factor (a lost phone) and ends their sessions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use epay_api_types::{ErrorCode, RecoveryCodes, SecondFactorCode, SecondFactorEnrolment};

use super::staff::Staff;
use super::totp;
use crate::config::admin::{AdminSettings, AdminUser, Role};
use crate::error::AppError;
use crate::json::JsonBody;
use crate::state::AppState;
use crate::store::admin::{self, FactorRow};
use crate::store::now;

/// What the second factor says at a sign-in whose password matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondStep {
    /// The person has no (confirmed) factor.
    NotEnrolled,
    /// A code of theirs, not used before: taken.
    Passed,
    /// They have one and sent no code: the console asks for it (not a failure).
    CodeMissing,
    /// A wrong code, or one used already.
    CodeRefused,
}

/// At sign-in, after the password matched: checks `code` against the person's factor.
pub async fn at_sign_in(app: &AppState, user: &AdminUser, code: Option<&str>, at: i64) -> Result<SecondStep, AppError> {
    let name = user.name.clone();
    let factor = app.store.read(move |db| admin::second_factor(db, &name)).await?.filter(|factor| factor.confirmed);
    let Some(factor) = factor else { return Ok(SecondStep::NotEnrolled) };
    let Some(code) = code.map(str::trim).filter(|code| !code.is_empty()) else { return Ok(SecondStep::CodeMissing) };
    if take_code(app, &user.name, &factor, code, at).await? {
        return Ok(SecondStep::Passed);
    }
    tracing::warn!(user = %user.name, "a console sign-in failed at the second factor");
    Ok(SecondStep::CodeRefused)
}

/// The answer when the password was right and the code is missing.
pub fn code_required() -> AppError {
    AppError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::SecondFactorRequired,
        "enter the six-digit code of your authenticator app (or a recovery code)",
    )
}

/// The answer to a wrong or used code.
pub fn code_refused() -> AppError {
    AppError::unauthorized("wrong or already used code: wait for the next code of your app, or use a recovery code")
}

/// Whether a session may do no more than enrol a factor: an operator's session signed in
/// without one while `ADMIN_REQUIRE_2FA` is on, whatever the role or the setting was at
/// sign-in. Pure.
pub fn must_enrol(settings: &AdminSettings, role: Role, signed_in_with_factor: bool) -> bool {
    settings.require_second_factor && role == Role::Operator && !signed_in_with_factor
}

/// Whether `code` is a code of `factor` not used before (a TOTP code of a newer step, or an
/// unused recovery code), taking it.
async fn take_code(app: &AppState, user: &str, factor: &FactorRow, code: &str, at: i64) -> Result<bool, AppError> {
    let name = user.to_owned();
    if totp::is_totp_code(code) {
        let Some(step) = totp::matching_step(&factor.secret, code, at) else { return Ok(false) };
        return Ok(app.store.write(move |tx| admin::use_step(tx, &name, step)).await?);
    }
    let digest = totp::recovery_digest(code);
    let used = app.store.write(move |tx| admin::use_recovery_code(tx, &name, &digest, at)).await?;
    if used {
        tracing::warn!(user = %user, "signed in with a recovery code");
    }
    Ok(used)
}

/// `POST /api/admin/second-factor`: a new secret to enrol (replacing one not confirmed yet).
pub async fn enrol(State(app): State<Arc<AppState>>, Extension(staff): Extension<Staff>) -> Result<Json<SecondFactorEnrolment>, AppError> {
    let (secret, name, at) = (totp::new_secret(), staff.name.clone(), now());
    let stored = secret.clone();
    let begun = app.store.write(move |tx| admin::begin_enrolment(tx, &name, &stored, at)).await?;
    if !begun {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::OperationNotAllowed,
            format!("{} has a second factor already; to enrol another, run `epay-proxy admin reset-2fa {}` first", staff.name, staff.name),
        ));
    }
    let link = totp::otpauth_link(&secret, &staff.name);
    tracing::info!(user = %staff.name, "a second factor is being enrolled");
    Ok(Json(SecondFactorEnrolment { qr_code: totp::qr_code(&link), otpauth_link: link, secret }))
}

/// `POST /api/admin/second-factor/confirm`: the first code of the app confirms the
/// enrolment; the answer holds the recovery codes, shown this once.
pub async fn confirm(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    JsonBody(body): JsonBody<SecondFactorCode>,
) -> Result<Json<RecoveryCodes>, AppError> {
    let name = staff.name.clone();
    let pending = app.store.read(move |db| admin::second_factor(db, &name)).await?.filter(|factor| !factor.confirmed);
    let Some(pending) = pending else {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            ErrorCode::OperationNotAllowed,
            "no enrolment is under way: start one (POST /api/admin/second-factor)",
        ));
    };
    let at = now();
    let Some(step) = totp::matching_step(&pending.secret, &body.code, at) else {
        return Err(AppError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidField,
            "that is not the app's current code: check the phone's clock and type the code it shows now",
        ));
    };
    let codes = totp::new_recovery_codes();
    let digests: Vec<String> = codes.iter().map(|code| totp::recovery_digest(code)).collect();
    let (name, secret, session) = (staff.name.clone(), pending.secret, staff.session.clone());
    let confirmed = app.store.write(move |tx| admin::confirm_enrolment(tx, &name, &secret, step, &digests, &session, at)).await?;
    if !confirmed {
        return Err(AppError::new(StatusCode::CONFLICT, ErrorCode::OperationNotAllowed, "the enrolment changed meanwhile: start again"));
    }
    tracing::info!(user = %staff.name, "a second factor was enrolled");
    Ok(Json(RecoveryCodes { recovery_codes: codes }))
}
