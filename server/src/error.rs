//! One error type for every handler: the client sees `{"error": code, "message": ...}` with a
//! message it can act on; internals are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use epay_api_types::{ApiError, ErrorCode};

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
    /// A 401 that names the scheme (`WWW-Authenticate: Bearer`).
    pub www_authenticate: bool,
}

impl AppError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { status, code, message: message.into(), retry_after: None, www_authenticate: false }
    }

    pub fn retry_after(self, seconds: u64) -> AppError {
        AppError { retry_after: Some(seconds), ..self }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 401 with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(message: impl Into<String>) -> AppError {
        AppError { www_authenticate: true, ..AppError::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message) }
    }

    /// Logs `detail` (never shown to the client) and answers 500.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %detail, "internal error");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error; it has been logged")
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> AppError {
        AppError::internal(err)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ApiError { error: self.code, message: self.message };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if self.www_authenticate {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
