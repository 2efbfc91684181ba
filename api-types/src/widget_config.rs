use serde::{Deserialize, Serialize};

/// `GET /api/widget-config`: what the widget needs before the first click, so it can
/// validate amounts and start loading ePay's script at mount.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetConfig {
    pub script_url: String,
    pub payform_origin: String,
    pub currency: String,
    pub min_amount: String,
    pub max_amount: String,
    /// True when the proxy talks to its built-in ePay emulator.
    pub sandbox: bool,
}
