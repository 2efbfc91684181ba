//! Configuration from environment variables (documented in the README), resolved once at start.
//!
//! `EPAY_ENV` picks a preset of hosts and credentials; every host can be overridden. Invalid or
//! missing values stop the process with a message naming the variable.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use epay_api_types::Amount;
use secrecy::SecretString;
use url::Url;

/// The published ePay test merchant (the user's document; docs/epay-contract.md).
pub const TEST_CLIENT_ID: &str = "test";
pub const TEST_CLIENT_SECRET: &str = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG";
/// ePay's published test terminal for transfers (P2P, OCT, AFT): the seed's token request.
pub const TEST_P2P_TERMINAL_ID: &str = "40a348cb-68a3-45d5-9002-a4836d79c3b5";
/// ePay's published test terminal for card payments (payment page, overlay): the seed's
/// postLink samples carry it.
pub const TEST_CARD_TERMINAL_ID: &str = "67e34d63-102f-4bd1-898e-370781d0074d";

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
    /// Terminal for card payments (`pay`, `showPaymentWidget`).
    pub terminal_id: String,
    /// Terminal for transfers (`p2p`, `oct`, `aft`).
    pub p2p_terminal_id: String,
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
    /// Where ePay sends the payer after a success; `{order}`, `{key}` and `{lang}` are filled
    /// in (the key in the fragment by default).
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
    /// The proxy runs behind reverse proxies that append to X-Forwarded-For (rate-limit key).
    pub trust_forwarded_for: bool,
    /// How many of those proxies: the client is the address this many entries from the right.
    pub trusted_proxy_hops: u32,
    /// Orders holding an invoice suffix at once, at most (ePay's suffixes are 1,000,000).
    pub max_open_orders: u64,
    /// Payment tokens the proxy may request from ePay per minute, all clients together (0: no cap).
    pub token_rate_per_minute: u32,
    /// Rejected postLinks one source may make the proxy store per minute.
    pub rejected_postlink_rate_per_minute: u32,
    /// How long rejected postLinks are kept.
    pub rejected_postlink_retention: Duration,
    /// A connection must send its first request's headers within this time.
    pub http_header_timeout: Duration,
    /// A connection with no byte read or written for this long is closed (HTTP/1 and HTTP/2).
    pub http_idle_timeout: Duration,
    /// The sandbox may serve a non-loopback address (EPAY_SANDBOX_PUBLIC=true).
    pub sandbox_public: bool,
    /// CSP hashes ('sha256-…') of the `<style>` ePay's payment-api.js inserts for its overlay.
    pub overlay_style_hashes: Vec<String>,
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
            None | Some("sandbox") if !cfg!(feature = "sandbox") => {
                return Err(problem("EPAY_ENV", "this build has no sandbox (built without the `sandbox` feature): set test or prod"));
            }
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
        let (terminal_id, p2p_terminal_id) = terminals(env, get("EPAY_TERMINAL_ID"), get("EPAY_P2P_TERMINAL_ID"))?;

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite:epay-proxy.sqlite3".to_owned());
        if !database_url.starts_with("sqlite:") {
            return Err(problem("DATABASE_URL", "only sqlite: URLs are supported, e.g. sqlite:/var/lib/epay/orders.sqlite3"));
        }
        let widget_dir = PathBuf::from(get("WIDGET_DIR").unwrap_or_else(|| "dist".to_owned()));

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

        // The order key goes in the fragment: browsers never send it to a server, so it stays
        // out of access logs, proxies and analytics.
        let default_back_link = format!("{public_base}/?order={{order}}&lang={{lang}}#key={{key}}");
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

        let trusted_proxy_hops = count("TRUSTED_PROXY_HOPS", 1)?;
        if trusted_proxy_hops == 0 {
            return Err(problem("TRUSTED_PROXY_HOPS", "must be at least 1 (the reverse proxy in front of this one)"));
        }
        let max_open_orders = u64::from(count("MAX_OPEN_ORDERS", 100_000)?);
        if !(1..=900_000).contains(&max_open_orders) {
            return Err(problem("MAX_OPEN_ORDERS", "must be between 1 and 900000 (ePay has 1,000,000 invoice suffixes)"));
        }
        let rejected_postlink_rate_per_minute = count("REJECTED_POSTLINK_RATE_PER_MINUTE", 60)?;
        if rejected_postlink_rate_per_minute == 0 {
            return Err(problem("REJECTED_POSTLINK_RATE_PER_MINUTE", "must be at least 1"));
        }
        let overlay_style_hashes = list(get("EPAY_OVERLAY_STYLE_HASHES"))
            .into_iter()
            .map(|hash| {
                let hash = hash.trim_matches('\'').to_owned();
                let digest = ["sha256-", "sha384-", "sha512-"].iter().find_map(|prefix| hash.strip_prefix(prefix));
                let base64 = |text: &str| text.len() >= 40 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
                if digest.is_some_and(base64) {
                    Ok(hash)
                } else {
                    Err(problem("EPAY_OVERLAY_STYLE_HASHES", format!("`{hash}` is not a CSP hash like sha256-<base64>")))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(problem("LOG_FORMAT", format!("`{other}` is not pretty or json"))),
        };

        let sandbox_public = flag("EPAY_SANDBOX_PUBLIC")?;
        if env == EpayEnv::Sandbox && !sandbox_public {
            check_sandbox_is_local(listen, &public_url)?;
        }
        if env == EpayEnv::Prod {
            require_https("EPAY_OAUTH_URL", &oauth_url)?;
            require_https("EPAY_API_URL", &api_url)?;
            require_https("EPAY_SCRIPT_URL", &script_url)?;
            require_https_text("EPAY_PAYFORM_ORIGIN", &payform_origin)?;
            require_https_text("BACK_LINK", &back_link)?;
            require_https_text("FAILURE_BACK_LINK", &failure_back_link)?;
            for origin in &allowed_origins {
                require_https_text("ALLOWED_ORIGINS", origin)?;
            }
            if database_inside(&database_url, &widget_dir) {
                return Err(problem("DATABASE_URL", "the database file is inside WIDGET_DIR, which is served to everyone; move it out"));
            }
        }

        Ok(Config {
            env,
            oauth_url,
            api_url,
            script_url,
            payform_origin,
            client_id,
            client_secret,
            terminal_id,
            p2p_terminal_id,
            public_url,
            listen,
            database_url,
            min_amount,
            max_amount,
            currencies,
            allowed_origins,
            back_link,
            failure_back_link,
            widget_dir,
            epay_connect_timeout: seconds("EPAY_CONNECT_TIMEOUT_SECS", 5)?,
            epay_timeout: seconds("EPAY_TIMEOUT_SECS", 15)?,
            log_format,
            two_stage: flag("EPAY_TWO_STAGE")?,
            checkout_rate_per_minute: count("CHECKOUT_RATE_PER_MINUTE", 60)?,
            checkout_rate_burst,
            trust_forwarded_for: flag("TRUST_FORWARDED_FOR")?,
            trusted_proxy_hops,
            max_open_orders,
            token_rate_per_minute: count("EPAY_TOKEN_RATE_PER_MINUTE", 3_000)?,
            rejected_postlink_rate_per_minute,
            rejected_postlink_retention: Duration::from_secs(86_400 * u64::from(count("REJECTED_POSTLINK_RETENTION_DAYS", 30)?.max(1))),
            http_header_timeout: seconds("HTTP_HEADER_TIMEOUT_SECS", 10)?,
            http_idle_timeout: seconds("HTTP_IDLE_TIMEOUT_SECS", 60)?,
            sandbox_public,
            overlay_style_hashes,
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

    /// The terminal a payment with `method` is made on (ePay has one per kind of operation).
    pub fn terminal_for(&self, method: epay_api_types::PaymentMethod) -> &str {
        match method.token_scope() {
            "transfer" => &self.p2p_terminal_id,
            _ => &self.terminal_id,
        }
    }

    /// The API URL for `path` (which starts with '/').
    pub fn api_endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.api_url.as_str().trim_end_matches('/'))
    }
}

/// `EPAY_TERMINAL_ID` (card payments) and `EPAY_P2P_TERMINAL_ID` (transfers): each defaults to
/// the other when only one is set; with neither, ePay's two published test terminals (required
/// in prod).
fn terminals(env: EpayEnv, card: Option<String>, p2p: Option<String>) -> Result<(String, String), ConfigError> {
    match (card, p2p) {
        (Some(card), Some(p2p)) => Ok((card, p2p)),
        (Some(one), None) | (None, Some(one)) => Ok((one.clone(), one)),
        (None, None) if env == EpayEnv::Prod => Err(problem("EPAY_TERMINAL_ID", "required when EPAY_ENV=prod (or EPAY_P2P_TERMINAL_ID)")),
        (None, None) => Ok((TEST_CARD_TERMINAL_ID.to_owned(), TEST_P2P_TERMINAL_ID.to_owned())),
    }
}

/// A comma-separated list, trimmed, without empty items.
fn list(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default().split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// The sandbox hands out test tokens, pays with test cards and has an unauthenticated control
/// endpoint: it must not face the Internet by accident.
fn check_sandbox_is_local(listen: SocketAddr, public_url: &Url) -> Result<(), ConfigError> {
    let hint = "the sandbox (EPAY_ENV=sandbox, the default) serves only loopback; set EPAY_ENV=test or prod, or EPAY_SANDBOX_PUBLIC=true to expose it on purpose";
    if !listen.ip().is_loopback() {
        return Err(problem("LISTEN", format!("`{listen}` is not a loopback address: {hint}")));
    }
    let public_loopback = match public_url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if public_url.scheme() != "http" || !public_loopback {
        return Err(problem("PUBLIC_URL", format!("`{public_url}` is not http:// on loopback: {hint}")));
    }
    Ok(())
}

fn require_https(variable: &'static str, url: &Url) -> Result<(), ConfigError> {
    require_https_text(variable, url.as_str())
}

fn require_https_text(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    if url.starts_with("https://") {
        Ok(())
    } else {
        Err(problem(variable, format!("`{url}` must be https:// when EPAY_ENV=prod")))
    }
}

/// Whether the SQLite file of `database_url` lies inside `dir` (compared as absolute paths
/// with `.` and `..` resolved; symbolic links are not followed).
fn database_inside(database_url: &str, dir: &std::path::Path) -> bool {
    let file = database_url.trim_start_matches("sqlite:").trim_start_matches("//");
    let file = file.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" {
        return false;
    }
    let normalize = |path: &std::path::Path| -> PathBuf {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut out = PathBuf::new();
        for part in absolute.components() {
            match part {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                other => out.push(other),
            }
        }
        out
    };
    normalize(std::path::Path::new(file)).starts_with(normalize(dir))
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
        assert_eq!(config.back_link, "http://127.0.0.1:8080/?order={order}&lang={lang}#key={key}");
        assert_eq!(config.currencies, vec!["KZT"]);
    }

    #[test]
    fn sandbox_calls_itself_on_loopback_even_when_listening_everywhere() {
        let config = load(&[("LISTEN", "0.0.0.0:9000"), ("PUBLIC_URL", "https://pay.example.kz/"), ("EPAY_SANDBOX_PUBLIC", "true")]).unwrap();
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
        assert_eq!(config.terminal_id, TEST_CARD_TERMINAL_ID);
        assert_eq!(config.p2p_terminal_id, TEST_P2P_TERMINAL_ID);
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
        assert!(err.problem.contains("EPAY_P2P_TERMINAL_ID"), "{err}");
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
    fn a_terminal_per_kind_of_operation_each_defaulting_to_the_other() {
        use epay_api_types::PaymentMethod::*;
        let config = load(&[]).unwrap();
        assert_eq!(config.terminal_for(Pay), TEST_CARD_TERMINAL_ID);
        assert_eq!(config.terminal_for(Widget), TEST_CARD_TERMINAL_ID);
        for transfer in [P2p, Oct, Aft] {
            assert_eq!(config.terminal_for(transfer), TEST_P2P_TERMINAL_ID);
        }
        let only_card = load(&[("EPAY_TERMINAL_ID", "card-1")]).unwrap();
        assert_eq!((only_card.terminal_for(Pay), only_card.terminal_for(P2p)), ("card-1", "card-1"));
        let only_p2p = load(&[("EPAY_P2P_TERMINAL_ID", "p2p-1")]).unwrap();
        assert_eq!((only_p2p.terminal_for(Pay), only_p2p.terminal_for(P2p)), ("p2p-1", "p2p-1"));
        let both = load(&[("EPAY_TERMINAL_ID", "card-1"), ("EPAY_P2P_TERMINAL_ID", "p2p-1")]).unwrap();
        assert_eq!((both.terminal_for(Widget), both.terminal_for(Aft)), ("card-1", "p2p-1"));
    }

    #[test]
    fn the_sandbox_serves_loopback_only_unless_told_otherwise() {
        for (vars, variable) in [
            (vec![("LISTEN", "0.0.0.0:8080")], "LISTEN"),
            (vec![("LISTEN", "[::]:8080")], "LISTEN"),
            (vec![("PUBLIC_URL", "http://shop.example.kz")], "PUBLIC_URL"),
            (vec![("PUBLIC_URL", "https://127.0.0.1:8080")], "PUBLIC_URL"),
        ] {
            let err = load(&vars).unwrap_err();
            assert_eq!(err.variable, variable, "{vars:?}");
            assert!(err.problem.contains("EPAY_SANDBOX_PUBLIC"), "{err}");
        }
        assert!(load(&[("LISTEN", "[::1]:8080"), ("PUBLIC_URL", "http://localhost:8080")]).is_ok());
        let public = load(&[("LISTEN", "0.0.0.0:8080"), ("PUBLIC_URL", "http://shop.example.kz"), ("EPAY_SANDBOX_PUBLIC", "true")]).unwrap();
        assert!(public.sandbox_public);
        // The other environments have no sandbox to protect.
        assert!(load(&[("EPAY_ENV", "test"), ("LISTEN", "0.0.0.0:8080"), ("PUBLIC_URL", "https://shop.kz")]).is_ok());
    }

    #[test]
    fn prod_refuses_insecure_settings_naming_the_variable() {
        let base = [
            ("EPAY_ENV", "prod"),
            ("PUBLIC_URL", "https://shop.kz"),
            ("EPAY_CLIENT_ID", "shop"),
            ("EPAY_CLIENT_SECRET", "s3cret"),
            ("EPAY_TERMINAL_ID", "t-1"),
            ("WIDGET_DIR", "/srv/epay/dist"),
            ("DATABASE_URL", "sqlite:/var/lib/epay/orders.sqlite3"),
        ];
        assert!(load(&base).is_ok());
        for (name, value) in [
            ("EPAY_OAUTH_URL", "http://epay-oauth.homebank.kz/oauth2/token"),
            ("EPAY_API_URL", "http://epay-api.homebank.kz"),
            ("EPAY_SCRIPT_URL", "http://epay.homebank.kz/payform/payment-api.js"),
            ("EPAY_PAYFORM_ORIGIN", "http://epay.homebank.kz"),
            ("BACK_LINK", "http://shop.kz/return?order={order}#key={key}"),
            ("FAILURE_BACK_LINK", "http://shop.kz/failed?order={order}&key={key}"),
            ("ALLOWED_ORIGINS", "https://shop.kz,http://www.shop.kz"),
            ("DATABASE_URL", "sqlite:/srv/epay/dist/orders.sqlite3"),
            ("DATABASE_URL", "sqlite:/srv/epay/dist/../dist/sub/orders.sqlite3"),
        ] {
            let mut vars = base.to_vec();
            vars.retain(|(n, _)| *n != name);
            vars.push((name, value));
            let err = load(&vars).unwrap_err();
            assert_eq!(err.variable, name, "{name}={value}");
        }
        let mut beside = base.to_vec();
        beside.retain(|(n, _)| *n != "DATABASE_URL");
        beside.push(("DATABASE_URL", "sqlite:/srv/epay/dist-data/orders.sqlite3"));
        assert!(load(&beside).is_ok(), "a sibling directory whose name starts alike is not inside");
    }

    #[test]
    fn limits_and_timeouts_have_defaults_and_bounds() {
        let config = load(&[]).unwrap();
        assert_eq!((config.trusted_proxy_hops, config.max_open_orders, config.token_rate_per_minute), (1, 100_000, 3_000));
        assert_eq!((config.http_header_timeout, config.http_idle_timeout), (Duration::from_secs(10), Duration::from_secs(60)));
        for (vars, variable) in [
            (vec![("TRUSTED_PROXY_HOPS", "0")], "TRUSTED_PROXY_HOPS"),
            (vec![("MAX_OPEN_ORDERS", "1000000")], "MAX_OPEN_ORDERS"),
            (vec![("MAX_OPEN_ORDERS", "0")], "MAX_OPEN_ORDERS"),
            (vec![("REJECTED_POSTLINK_RATE_PER_MINUTE", "0")], "REJECTED_POSTLINK_RATE_PER_MINUTE"),
            (vec![("HTTP_IDLE_TIMEOUT_SECS", "0")], "HTTP_IDLE_TIMEOUT_SECS"),
            (vec![("EPAY_OVERLAY_STYLE_HASHES", "unsafe-inline")], "EPAY_OVERLAY_STYLE_HASHES"),
        ] {
            assert_eq!(load(&vars).unwrap_err().variable, variable, "{vars:?}");
        }
        let hashed = load(&[("EPAY_OVERLAY_STYLE_HASHES", "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc=")]).unwrap();
        assert_eq!(hashed.overlay_style_hashes, ["sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc="]);
    }

    #[test]
    fn secret_is_redacted_in_debug_output() {
        let config = load(&[]).unwrap();
        assert!(!format!("{config:?}").contains(TEST_CLIENT_SECRET));
    }
}
