//! Fiscal receipts' settings (docs/fiscal-receipts.md): which registrar issues them, if any
//! (`FISCAL_REGISTRAR`, `none` by default: nothing fiscal happens), how to reach it, the VAT
//! rate (never a constant: `FISCAL_VAT_RATE`) and when the shift is closed each day.

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

use super::env::{Env, problem};
use super::{ConfigError, EpayEnv, ServerSettings, loopback};

/// Kazakhstan's one time zone since 1 March 2024 (UTC+5): the registrar prints local times.
pub const KAZAKHSTAN_UTC_OFFSET_MINUTES: i32 = 5 * 60;

#[derive(Clone, Debug, Default)]
pub struct FiscalSettings {
    /// `None`: no receipts (the default).
    pub webkassa: Option<WebkassaSettings>,
    /// The VAT rate of an order's one line and of line items that name none (`None`: the seller
    /// is not a VAT payer). Required with a registrar.
    pub vat_percent: Option<u32>,
    /// Minutes after local midnight at which the day's shift is closed (`FISCAL_ZREPORT_AT`).
    pub zreport_at_minute: u32,
}

impl FiscalSettings {
    pub fn enabled(&self) -> bool {
        self.webkassa.is_some()
    }
}

/// Webkassa API v4 (`fiscal::webkassa`).
#[derive(Clone, Debug)]
pub struct WebkassaSettings {
    /// The host, without `/api/v4`.
    pub url: Url,
    pub api_key: SecretString,
    pub login: String,
    pub password: SecretString,
    /// `CashboxUniqueNumber`.
    pub cashbox: String,
    pub timeout: Duration,
}

impl FiscalSettings {
    pub(super) fn load(
        env: &Env<impl Fn(&str) -> Option<String>>,
        epay_env: EpayEnv,
        server: &ServerSettings,
    ) -> Result<FiscalSettings, ConfigError> {
        let webkassa = env.choice("FISCAL_REGISTRAR", false, &[("none", false), ("webkassa", true)])?;
        let zreport_at_minute = zreport_at(env.text("FISCAL_ZREPORT_AT").as_deref().unwrap_or("23:50"))?;
        if !webkassa {
            return Ok(FiscalSettings { webkassa: None, vat_percent: None, zreport_at_minute });
        }
        let vat_percent = match env.text("FISCAL_VAT_RATE").as_deref().map(str::trim) {
            None | Some("") => {
                return Err(problem("FISCAL_VAT_RATE", "required with FISCAL_REGISTRAR: the VAT rate in percent (16 in 2026) or `none`"));
            }
            Some("none") => None,
            Some(text) => Some(
                text.parse::<u32>()
                    .ok()
                    .filter(|rate| *rate < 100)
                    .ok_or_else(|| problem("FISCAL_VAT_RATE", format!("`{text}` is not a whole percentage below 100 or `none`")))?,
            ),
        };
        // The sandbox's own Webkassa answers the demo and the tests; elsewhere the host and the
        // integrator's credentials come from Webkassa.
        let sandbox = epay_env == EpayEnv::Sandbox;
        let local = format!("http://{}/sandbox/webkassa", loopback(server.listen));
        let required = |name: &'static str, sandbox_value: &str| match env.text(name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ if sandbox => Ok(sandbox_value.to_owned()),
            _ => Err(problem(name, "required with FISCAL_REGISTRAR=webkassa outside the sandbox")),
        };
        let url = match (env.text("WEBKASSA_URL"), sandbox) {
            (Some(_), _) => env.base_url("WEBKASSA_URL", "")?,
            (None, true) => env.url("WEBKASSA_URL", &local)?,
            (None, false) => {
                return Err(problem("WEBKASSA_URL", "required with FISCAL_REGISTRAR=webkassa (test: https://devkkm.webkassa.kz)"));
            }
        };
        Ok(FiscalSettings {
            webkassa: Some(WebkassaSettings {
                url,
                api_key: SecretString::from(required("WEBKASSA_API_KEY", "sandbox-key")?),
                login: required("WEBKASSA_LOGIN", "integrator@sandbox.kz")?,
                password: SecretString::from(required("WEBKASSA_PASSWORD", "sandbox")?),
                cashbox: required("WEBKASSA_CASHBOX", "SWK00000001")?,
                timeout: env.seconds("WEBKASSA_TIMEOUT_SECS", 15)?,
            }),
            vat_percent,
            zreport_at_minute,
        })
    }
}

/// `HH:MM`, local time, as minutes after midnight.
fn zreport_at(text: &str) -> Result<u32, ConfigError> {
    let parsed = text.split_once(':').and_then(|(h, m)| Some((h.trim().parse::<u32>().ok()?, m.trim().parse::<u32>().ok()?)));
    match parsed {
        Some((hours, minutes)) if hours < 24 && minutes < 60 => Ok(hours * 60 + minutes),
        _ => Err(problem("FISCAL_ZREPORT_AT", format!("`{text}` is not a local time like 23:50"))),
    }
}
