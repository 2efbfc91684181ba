//! `GET /api/widget-config`: what the widget reads before the payer's first click.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use epay_api_types::WidgetConfig;

use crate::config::EpayEnv;
use crate::state::AppState;

/// What the widget needs before the first click: limits, currency, ePay's script.
#[utoipa::path(get, path = "/api/widget-config", operation_id = "getWidgetConfig", tag = "widget", responses((status = 200, description = "The widget's settings", body = WidgetConfig)))]
pub async fn show(State(app): State<Arc<AppState>>) -> Json<WidgetConfig> {
    let config = &app.config;
    Json(WidgetConfig {
        script_url: config.epay.script_url.to_string(),
        payform_origin: config.epay.payform_origin.clone(),
        currency: config.checkout.currencies[0].clone(),
        min_amount: config.checkout.min_amount.to_string(),
        max_amount: config.checkout.max_amount.to_string(),
        sandbox: config.epay.env == EpayEnv::Sandbox,
    })
}
