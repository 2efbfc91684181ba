//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the merchant and widget APIs,
//! generated from the handlers' annotations and the shared types (utoipa). The handlers are
//! listed here by hand; `the_openapi_document_describes_every_route_and_error_code` reads the
//! router's routes and fails on any it does not find documented, and `scripts/test` runs
//! schemathesis against the document.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{checkout, merchant, order_status};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Halyk ePay token proxy",
        description = "The merchant API (`/api/merchant/...`, server to server with a bearer key) creates priced orders and reads \
                       their outcome; the widget API (`/api/...`, called by the checkout widget in the payer's browser) pays them. \
                       Every error is a JSON `ApiError` with a stable `error` code and a `message` to act on."
    ),
    paths(
        merchant::create::create,
        merchant::read::show,
        merchant::read::list,
        merchant::operations::capture,
        merchant::operations::cancel,
        merchant::operations::refund,
        merchant::events::list,
        merchant::events::resend,
        checkout::order::start,
        checkout::create,
        order_status::show,
        crate::widget_config::show,
    ),
    components(schemas(epay_api_types::ErrorCode)),
    modifiers(&MerchantKey),
    tags(
        (name = "merchant", description = "The shop's backend: `Authorization: Bearer <MERCHANT_API_KEY>`; never from a browser"),
        (name = "widget", description = "The checkout widget, from the payer's browser (CORS: ALLOWED_ORIGINS)"),
    )
)]
pub struct ApiDoc;

struct MerchantKey;

impl Modify for MerchantKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme =
            HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("MERCHANT_API_KEY (or one of MERCHANT_API_KEYS)")).build();
        components.add_security_scheme("merchantKey", SecurityScheme::Http(scheme));
    }
}

pub fn document() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises"))
}

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every type of `api-types` that derives a schema (`utoipa::ToSchema`) is in the document: a client generated from it misses nothing the API speaks, and no
    /// derive is kept for a document that never shows it.
    #[test]
    fn every_schema_derived_is_in_the_document() {
        let document: serde_json::Value = serde_json::from_str(super::document()).unwrap();
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../api-types/src");
        let mut derived = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for (at, _) in text.match_indices("derive(utoipa::ToSchema))]") {
                let rest = &text[at..];
                let Some(start) = ["pub struct ", "pub enum "].iter().filter_map(|k| rest.find(k).map(|i| i + k.len())).min() else {
                    continue;
                };
                derived.push(rest[start..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>());
            }
        }
        assert!(derived.len() > 20, "{derived:?}");
        let missing: Vec<&String> = derived.iter().filter(|name| !schemas.contains_key(name.as_str())).collect();
        assert!(missing.is_empty(), "derive a schema but are not in the document: {missing:?}");
    }
}
