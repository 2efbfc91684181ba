//! The person a request of the console comes from, once `auth::require_staff` let it in, and
//! what their role allows.

use axum::http::StatusCode;
use epay_api_types::ErrorCode;

use crate::config::admin::Role;
use crate::error::AppError;

/// The person a request comes from (the request's extension once `require_staff` let it in).
#[derive(Clone, Debug)]
pub struct Staff {
    pub name: String,
    pub role: Role,
    /// The SHA-256 of the session id (the second factor's enrolment marks the session).
    pub session: String,
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
