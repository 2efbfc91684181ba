//! Configuration from environment variables (names from design.md), resolved once at start.
//!
//! `EPAY_ENV` picks a preset of hosts and credentials; every host can be overridden. Invalid or
//! missing values stop the process with a message naming the variable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use epay_api_types::Amount;
use secrecy::SecretString;
use url::Url;

/// The published ePay test merchant (the user's document, `seed/epay-p2p.txt`).
pub const TEST_CLIENT_ID: &str = "test";
pub const TEST_CLIENT_SECRET: &str = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG";
pub const TEST_TERMINAL_ID: &str = "40a348cb-68a3-45d5-9002-a4836d79c3b5";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpayEnv {
    /// The built-in ePay emulator, served by this process under `/sandbox`.
    Sandbox,
    /// ePay's public test environment.
    Test,
    /// Production ePay.
    Prod,
}

impl EpayEnv {
    pub fn name(self) -> &'static str {
        match self {
            EpayEnv::Sandbox => "sandbox",
            EpayEnv::Test => "test",
            EpayEnv::Prod => "prod",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: EpayEnv,
    /// ePay OAuth token endpoint.
    pub oauth_url: Url,
    /// ePay API base (status, charge, cancel, refund), without a trailing slash.
    pub api_url: Url,
    /// ePay's payment-api.js, loaded by the payer's browser.
    pub script_url: Url,
    /// Exact origin of ePay's payment page.
    pub payform_origin: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub terminal_id: String,
    /// Externally reachable base URL of this proxy, without a trailing slash.
    pub public_url: Url,
    pub listen: SocketAddr,
    pub database_url: String,
    pub min_amount: Amount,
    pub max_amount: Amount,
    /// Accepted currencies; the first is the default.
    pub currencies: Vec<String>,
    /// Origins allowed to call the API from a browser (CORS).
    pub allowed_origins: Vec<String>,
    /// Where ePay sends the payer after a success; `{order}`, `{key}` and `{lang}` are filled in.
    pub back_link: String,
    /// Where ePay sends the payer after a failure.
    pub failure_back_link: String,
    /// The built widget and demo storefront (trunk's output).
    pub widget_dir: PathBuf,
    pub epay_connect_timeout: Duration,
    pub epay_timeout: Duration,
    pub log_format: LogFormat,
    /// AUTH (held, not yet charged) counts as paid: two-stage terminals.
    pub two_stage: bool,
    /// How long after its token an order without a postLink is first looked up.
    pub reconcile_after: Duration,
    /// How long after its token expired an order with no transaction at ePay expires.
    pub expiry_grace: Duration,
    /// Checkouts one client may start per minute (0: no limit), and how many at once.
    pub checkout_rate_per_minute: u32,
    pub checkout_rate_burst: u32,
    /// The proxy runs behind a reverse proxy that sets X-Forwarded-For (rate-limit key).
    pub trust_forwarded_for: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { variable, problem: problem.into() }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map). Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let env = match get("EPAY_ENV").as_deref() {
            None | Some("sandbox") => EpayEnv::Sandbox,
            Some("test") => EpayEnv::Test,
            Some("prod") | Some("production") => EpayEnv::Prod,
            Some(other) => return Err(problem("EPAY_ENV", format!("`{other}` is not one of sandbox, test, prod"))),
        };

        let listen: SocketAddr = match get("LISTEN") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(text) => text
                .parse()
                .map_err(|_| problem("LISTEN", format!("`{text}` is not an address like 127.0.0.1:8080")))?,
        };

        let public_url = match get("PUBLIC_URL") {
            None if env == EpayEnv::Prod => {
                return Err(problem("PUBLIC_URL", "required when EPAY_ENV=prod (ePay posts notifications to it)"));
            }
            None => Url::parse("http://127.0.0.1:8080").expect("valid default"),
            Some(text) => parse_base_url("PUBLIC_URL", &text)?,
        };
        if env == EpayEnv::Prod && public_url.scheme() != "https" {
            return Err(problem("PUBLIC_URL", "must be https:// when EPAY_ENV=prod"));
        }
        let public_base = public_url.as_str().trim_end_matches('/').to_owned();

        let (oauth_preset, api_preset, script_preset) = match env {
            EpayEnv::Sandbox => {
                let local = format!("http://{}", loopback(listen));
                (
                    format!("{local}/sandbox/oauth2/token"),
                    format!("{local}/sandbox/api"),
                    format!("{public_base}/sandbox/payform/payment-api.js"),
                )
            }
            EpayEnv::Test => (
                "https://testoauth.homebank.kz/epay2/oauth2/token".to_owned(),
                "https://testepay.homebank.kz/api".to_owned(),
                "https://test-epay.homebank.kz/payform/payment-api.js".to_owned(),
            ),
            EpayEnv::Prod => (
                "https://epay-oauth.homebank.kz/oauth2/token".to_owned(),
                "https://epay-api.homebank.kz".to_owned(),
                "https://epay.homebank.kz/payform/payment-api.js".to_owned(),
            ),
        };
        let url_var = |name: &'static str, preset: String| -> Result<Url, ConfigError> {
            parse_http_url(name, &get(name).unwrap_or(preset))
        };
        let oauth_url = url_var("EPAY_OAUTH_URL", oauth_preset)?;
        let api_url = parse_base_url("EPAY_API_URL", &get("EPAY_API_URL").unwrap_or(api_preset))?;
        let script_url = url_var("EPAY_SCRIPT_URL", script_preset)?;
        let payform_origin = match get("EPAY_PAYFORM_ORIGIN") {
            Some(text) => parse_http_url("EPAY_PAYFORM_ORIGIN", &text)?.origin().ascii_serialization(),
            None => script_url.origin().ascii_serialization(),
        };

        let credential = |name: &'static str, test_value: &str| -> Result<String, ConfigError> {
            match (get(name), env) {
                (Some(value), _) => Ok(value),
                (None, EpayEnv::Prod) => Err(problem(name, "required when EPAY_ENV=prod")),
                (None, _) => Ok(test_value.to_owned()),
            }
        };
        let client_id = credential("EPAY_CLIENT_ID", TEST_CLIENT_ID)?;
        let client_secret = SecretString::from(credential("EPAY_CLIENT_SECRET", TEST_CLIENT_SECRET)?);
        let terminal_id = credential("EPAY_TERMINAL_ID", TEST_TERMINAL_ID)?;

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite:epay-proxy.sqlite3".to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(problem("DATABASE_URL", "only sqlite: URLs are supported, e.g. sqlite:/var/lib/epay/orders.sqlite3"));
        }

        let amount = |name: &'static str, default: &str| -> Result<Amount, ConfigError> {
            let text = get(name).unwrap_or_else(|| default.to_owned());
            Amount::parse(&text).map_err(|_| problem(name, format!("`{text}` is not a positive amount with at most 2 decimals")))
        };
        let min_amount = amount("CHECKOUT_MIN_AMOUNT", "1")?;
        let max_amount = amount("CHECKOUT_MAX_AMOUNT", "1000000")?;
        if min_amount > max_amount {
            return Err(problem("CHECKOUT_MIN_AMOUNT", "is greater than CHECKOUT_MAX_AMOUNT"));
        }

        let currencies: Vec<String> = get("CHECKOUT_CURRENCIES")
            .unwrap_or_else(|| "KZT".to_owned())
            .split(',')
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        if let Some(bad) = currencies.iter().find(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(problem("CHECKOUT_CURRENCIES", format!("`{bad}` is not a three-letter currency code")));
        }
        if currencies.is_empty() {
            return Err(problem("CHECKOUT_CURRENCIES", "lists no currency"));
        }

        let allowed_origins = match get("ALLOWED_ORIGINS") {
            None => vec![public_url.origin().ascii_serialization()],
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    let url = parse_http_url("ALLOWED_ORIGINS", o)?;
                    Ok(url.origin().ascii_serialization())
                })
                .collect::<Result<_, ConfigError>>()?,
        };

        let default_back_link = format!("{public_base}/?order={{order}}&key={{key}}&lang={{lang}}");
        let back_link = get("BACK_LINK").unwrap_or(default_back_link);
        check_back_link("BACK_LINK", &back_link)?;
        let failure_back_link = get("FAILURE_BACK_LINK").unwrap_or_else(|| back_link.clone());
        check_back_link("FAILURE_BACK_LINK", &failure_back_link)?;

        let seconds = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(name) {
                None => Ok(Duration::from_secs(default)),
                Some(text) => match text.parse::<f64>() {
                    Ok(s) if s > 0.0 && s <= 600.0 => Ok(Duration::from_secs_f64(s)),
                    _ => Err(problem(name, format!("`{text}` is not a number of seconds between 0 and 600"))),
                },
            }
        };

        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match get(name).as_deref() {
                None | Some("false") | Some("0") | Some("no") => Ok(false),
                Some("true") | Some("1") | Some("yes") => Ok(true),
                Some(other) => Err(problem(name, format!("`{other}` is not true or false"))),
            }
        };
        let count = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(text) => text.parse().map_err(|_| problem(name, format!("`{text}` is not a whole number"))),
            }
        };
        let checkout_rate_burst = count("CHECKOUT_RATE_BURST", 20)?;
        if checkout_rate_burst == 0 {
            return Err(problem("CHECKOUT_RATE_BURST", "must be at least 1"));
        }
        let whole_seconds = |name: &'static str, default: u64| -> Result<Duration, ConfigError> {
            match get(name) {
                None => Ok(Duration::from_secs(default)),
                Some(text) => match text.parse::<u64>() {
                    Ok(s) if s > 0 => Ok(Duration::from_secs(s)),
                    _ => Err(problem(name, format!("`{text}` is not a whole number of seconds above 0"))),
                },
            }
        };

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(problem("LOG_FORMAT", format!("`{other}` is not pretty or json"))),
        };

        Ok(Config {
            env,
            oauth_url,
            api_url,
            script_url,
            payform_origin,
            client_id,
            client_secret,
            terminal_id,
            public_url,
            listen,
            database_url,
            min_amount,
            max_amount,
            currencies,
            allowed_origins,
            back_link,
            failure_back_link,
            widget_dir: PathBuf::from(get("WIDGET_DIR").unwrap_or_else(|| "dist".to_owned())),
            epay_connect_timeout: seconds("EPAY_CONNECT_TIMEOUT_SECS", 5)?,
            epay_timeout: seconds("EPAY_TIMEOUT_SECS", 15)?,
            log_format,
            two_stage: flag("EPAY_TWO_STAGE")?,
            checkout_rate_per_minute: count("CHECKOUT_RATE_PER_MINUTE", 60)?,
            checkout_rate_burst,
            trust_forwarded_for: flag("TRUST_FORWARDED_FOR")?,
            reconcile_after: whole_seconds("RECONCILE_AFTER_SECS", 600)?,
            expiry_grace: whole_seconds("ORDER_EXPIRY_GRACE_SECS", 1800)?,
        })
    }

    /// `PUBLIC_URL` + `path`, for links ePay and browsers follow.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }

    pub fn post_link(&self) -> String {
        self.public_link("/api/epay/postlink")
    }

    pub fn failure_post_link(&self) -> String {
        self.public_link("/api/epay/failure-postlink")
    }

    /// The API URL for `path` (which starts with '/').
    pub fn api_endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.api_url.as_str().trim_end_matches('/'))
    }
}

/// The address this process can reach itself on (0.0.0.0 is not a destination).
fn loopback(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, listen.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, listen.port())),
        _ => listen,
    }
}

fn parse_http_url(variable: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| problem(variable, format!("`{text}` is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(problem(variable, format!("`{text}` is not an http(s) URL")));
    }
    Ok(url)
}

/// A base URL: no query or fragment; paths are appended to it.
fn parse_base_url(variable: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = parse_http_url(variable, text)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(problem(variable, format!("`{text}` must not have a query or fragment")));
    }
    Ok(url)
}

fn check_back_link(variable: &'static str, template: &str) -> Result<(), ConfigError> {
    for placeholder in ["{order}", "{key}"] {
        if !template.contains(placeholder) {
            return Err(problem(
                variable,
                format!("must contain {placeholder}, e.g. https://shop.kz/pay/return?order={{order}}&key={{key}}"),
            ));
        }
    }
    let sample = template.replace("{order}", "1").replace("{key}", "k").replace("{lang}", "ru");
    parse_http_url(variable, &sample).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn sandbox_is_the_default_and_needs_nothing() {
        let config = load(&[]).unwrap();
        assert_eq!(config.env, EpayEnv::Sandbox);
        assert_eq!(config.oauth_url.as_str(), "http://127.0.0.1:8080/sandbox/oauth2/token");
        assert_eq!(config.script_url.as_str(), "http://127.0.0.1:8080/sandbox/payform/payment-api.js");
        assert_eq!(config.payform_origin, "http://127.0.0.1:8080");
        assert_eq!(config.allowed_origins, vec!["http://127.0.0.1:8080"]);
        assert_eq!(config.back_link, "http://127.0.0.1:8080/?order={order}&key={key}&lang={lang}");
        assert_eq!(config.currencies, vec!["KZT"]);
    }

    #[test]
    fn sandbox_calls_itself_on_loopback_even_when_listening_everywhere() {
        let config = load(&[("LISTEN", "0.0.0.0:9000"), ("PUBLIC_URL", "https://pay.example.kz/")]).unwrap();
        assert_eq!(config.oauth_url.as_str(), "http://127.0.0.1:9000/sandbox/oauth2/token");
        assert_eq!(config.script_url.as_str(), "https://pay.example.kz/sandbox/payform/payment-api.js");
        assert_eq!(config.post_link(), "https://pay.example.kz/api/epay/postlink");
    }

    #[test]
    fn test_preset_uses_the_published_test_merchant_and_hosts() {
        let config = load(&[("EPAY_ENV", "test")]).unwrap();
        assert_eq!(config.oauth_url.as_str(), "https://testoauth.homebank.kz/epay2/oauth2/token");
        assert_eq!(config.api_endpoint("/check-status/payment/transaction/1"), "https://testepay.homebank.kz/api/check-status/payment/transaction/1");
        assert_eq!(config.script_url.as_str(), "https://test-epay.homebank.kz/payform/payment-api.js");
        assert_eq!(config.payform_origin, "https://test-epay.homebank.kz");
        assert_eq!(config.client_id, "test");
        assert_eq!(config.terminal_id, TEST_TERMINAL_ID);
        assert_eq!(config.client_secret.expose_secret(), TEST_CLIENT_SECRET);
    }

    #[test]
    fn prod_refuses_to_start_without_credentials_naming_the_variable() {
        let base = [("EPAY_ENV", "prod"), ("PUBLIC_URL", "https://shop.kz")];
        let err = load(&base).unwrap_err();
        assert_eq!(err.variable, "EPAY_CLIENT_ID");
        let err = load(&[base[0], base[1], ("EPAY_CLIENT_ID", "shop")]).unwrap_err();
        assert_eq!(err.variable, "EPAY_CLIENT_SECRET");
        let err = load(&[base[0], base[1], ("EPAY_CLIENT_ID", "shop"), ("EPAY_CLIENT_SECRET", "s")]).unwrap_err();
        assert_eq!(err.variable, "EPAY_TERMINAL_ID");
        assert_eq!(load(&[("EPAY_ENV", "prod")]).unwrap_err().variable, "PUBLIC_URL");
        let err = load(&[("EPAY_ENV", "prod"), ("PUBLIC_URL", "http://shop.kz")]).unwrap_err();
        assert_eq!(err.variable, "PUBLIC_URL");
        assert!(err.to_string().starts_with("PUBLIC_URL: "), "{err}");
    }

    #[test]
    fn prod_with_everything_uses_prod_hosts() {
        let config = load(&[
            ("EPAY_ENV", "prod"),
            ("PUBLIC_URL", "https://shop.kz"),
            ("EPAY_CLIENT_ID", "shop"),
            ("EPAY_CLIENT_SECRET", "s3cret"),
            ("EPAY_TERMINAL_ID", "t-1"),
        ])
        .unwrap();
        assert_eq!(config.oauth_url.as_str(), "https://epay-oauth.homebank.kz/oauth2/token");
        assert_eq!(config.api_endpoint("/x"), "https://epay-api.homebank.kz/x");
        assert_eq!(config.payform_origin, "https://epay.homebank.kz");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (vars, variable) in [
            (vec![("EPAY_ENV", "staging")], "EPAY_ENV"),
            (vec![("LISTEN", "localhost")], "LISTEN"),
            (vec![("EPAY_OAUTH_URL", "ftp://x")], "EPAY_OAUTH_URL"),
            (vec![("CHECKOUT_MIN_AMOUNT", "-1")], "CHECKOUT_MIN_AMOUNT"),
            (vec![("CHECKOUT_MIN_AMOUNT", "10"), ("CHECKOUT_MAX_AMOUNT", "5")], "CHECKOUT_MIN_AMOUNT"),
            (vec![("CHECKOUT_CURRENCIES", "KZT,tenge")], "CHECKOUT_CURRENCIES"),
            (vec![("BACK_LINK", "https://shop.kz/return?order={order}")], "BACK_LINK"),
            (vec![("DATABASE_URL", "postgres://x")], "DATABASE_URL"),
            (vec![("EPAY_TIMEOUT_SECS", "0")], "EPAY_TIMEOUT_SECS"),
            (vec![("ALLOWED_ORIGINS", "shop.kz")], "ALLOWED_ORIGINS"),
            (vec![("EPAY_TWO_STAGE", "maybe")], "EPAY_TWO_STAGE"),
            (vec![("RECONCILE_AFTER_SECS", "0")], "RECONCILE_AFTER_SECS"),
            (vec![("CHECKOUT_RATE_PER_MINUTE", "lots")], "CHECKOUT_RATE_PER_MINUTE"),
            (vec![("CHECKOUT_RATE_BURST", "0")], "CHECKOUT_RATE_BURST"),
            (vec![("TRUST_FORWARDED_FOR", "perhaps")], "TRUST_FORWARDED_FOR"),
        ] {
            assert_eq!(load(&vars).unwrap_err().variable, variable, "{vars:?}");
        }
    }

    #[test]
    fn secret_is_redacted_in_debug_output() {
        let config = load(&[]).unwrap();
        assert!(!format!("{config:?}").contains(TEST_CLIENT_SECRET));
    }
}
