//! Form fields from either `multipart/form-data` (what ePay documents for the token request)
//! or `application/x-www-form-urlencoded` (which it also accepts).

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub struct FormFields(pub HashMap<String, String>);

impl FormFields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let bad = |message: String| (StatusCode::BAD_REQUEST, axum::Json(super::oauth_error("invalid_request", &message))).into_response();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, state).await.map_err(|e| bad(e.body_text()))?;
            let mut fields = HashMap::new();
            while let Some(field) = multipart.next_field().await.map_err(|e| bad(e.body_text()))? {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field.text().await.map_err(|e| bad(e.body_text()))?;
                fields.insert(name, value);
            }
            Ok(FormFields(fields))
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            let axum::Form(fields) =
                axum::Form::<HashMap<String, String>>::from_request(req, state).await.map_err(|e| bad(e.body_text()))?;
            Ok(FormFields(fields))
        } else {
            Err(bad("send multipart/form-data or application/x-www-form-urlencoded".into()))
        }
    }
}
