//! Configuration from environment variables (documented in the README), resolved once at
//! start, in sections (zero2prod's `Settings`): each component is built from its own section.
//!
//! `EPAY_ENV` picks a preset of hosts and credentials; every host can be overridden. Invalid,
//! missing or insecure values stop the process with a message naming the variable.

pub mod admin;
mod env;
pub mod fiscal;
mod rules;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use epay_api_types::{Amount, PaymentMethod};
use secrecy::SecretString;
use url::Url;

use env::{Env, parse_http_url, problem};

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
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub epay: EpaySettings,
    pub checkout: CheckoutSettings,
    pub confirmation: ConfirmationSettings,
    pub operations: OperationSettings,
    pub limits: LimitSettings,
    pub merchant: MerchantSettings,
    pub webhooks: WebhookSettings,
    pub metrics: MetricsSettings,
    pub admin: admin::AdminSettings,
    pub fiscal: fiscal::FiscalSettings,
}

/// Where and how the proxy serves.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Externally reachable base URL of this proxy.
    pub public_url: Url,
    /// The built widget and demo storefront (trunk's output).
    pub widget_dir: PathBuf,
    /// Origins allowed to call the API from a browser (CORS).
    pub allowed_origins: Vec<String>,
    /// A connection must send its first request's headers within this time.
    pub http_header_timeout: Duration,
    /// A connection with no request in flight and no byte either way for this long is closed.
    pub http_idle_timeout: Duration,
    pub log_format: LogFormat,
}

#[derive(Clone, Debug)]
pub struct StoreSettings {
    pub database_url: String,
}

/// Everything about talking to ePay.
#[derive(Clone, Debug)]
pub struct EpaySettings {
    pub env: EpayEnv,
    /// ePay OAuth token endpoint.
    pub oauth_url: Url,
    /// ePay API base (status, charge, cancel, refund).
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
    /// Where ePay posts notifications (built from PUBLIC_URL).
    pub post_link: String,
    pub failure_post_link: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// CSP hashes ('sha256-…') of the `<style>` ePay's payment-api.js inserts for its overlay.
    pub overlay_style_hashes: Vec<String>,
    /// The sandbox may serve a non-loopback address (EPAY_SANDBOX_PUBLIC=true).
    pub sandbox_public: bool,
    /// Other proxies on this machine that use this one's sandbox as their ePay (several
    /// instances in development; `SANDBOX_PROXIES`): its postLinks may go to their origins.
    pub sandbox_proxies: Vec<String>,
    /// How the payment object names its language (`EPAY_LANGUAGE_CODES`).
    pub language_codes: LanguageCodes,
}

/// The payment object's `language`: the merchant document sends `RU` (and Kazakh as `KZ`);
/// ePay's docs and Halyk's SDK use `rus`/`kaz`/`eng`. Which Kazakh code the payment page
/// takes is not published (docs/epay-contract.md, "unconfirmed").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LanguageCodes {
    /// `RU`, `KZ`, `EN` (the merchant document's).
    TwoLetter,
    /// `rus`, `kaz`, `eng`.
    ThreeLetter,
}

impl LanguageCodes {
    pub fn code(self, language: epay_api_types::Language) -> &'static str {
        match self {
            LanguageCodes::TwoLetter => language.epay_code(),
            LanguageCodes::ThreeLetter => language.epay_code3(),
        }
    }
}

/// What a checkout may be and where the payer returns.
#[derive(Clone, Debug)]
pub struct CheckoutSettings {
    pub min_amount: Amount,
    pub max_amount: Amount,
    /// Accepted currencies; the first is the default.
    pub currencies: Vec<String>,
    /// Where ePay sends the payer after a success; `{order}`, `{key}` and `{lang}` are filled
    /// in (the key in the fragment by default).
    pub back_link: String,
    /// Where ePay sends the payer after a failure.
    pub failure_back_link: String,
    /// `POST /api/checkout` (the payer types the amount) is served; otherwise amounts come
    /// only from the merchant API.
    pub open_amounts: bool,
}

/// The merchant API (`/api/merchant/...`): enabled by at least one key.
#[derive(Clone, Debug, Default)]
pub struct MerchantSettings {
    /// `MERCHANT_API_KEY` and `MERCHANT_API_KEYS` (rotation): any of them is accepted.
    pub api_keys: Vec<SecretString>,
}

/// Who may read `/metrics`: the bearer of `METRICS_TOKEN` on the main listener, and anyone
/// who reaches `METRICS_LISTEN` (an address of its own; keep it private). Neither: no metrics.
#[derive(Clone, Debug, Default)]
pub struct MetricsSettings {
    pub token: Option<SecretString>,
    pub listen: Option<SocketAddr>,
}

impl MetricsSettings {
    /// Someone may read `/metrics`: only then is anything recorded.
    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.listen.is_some()
    }
}

/// Where and how order events are sent (Standard Webhooks): both URL and secret, or neither.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub url: Option<Url>,
    /// `whsec_` + base64 of the signing key.
    pub secret: Option<SecretString>,
    /// One delivery attempt may take this long.
    pub timeout: Duration,
    /// The first retry's pause; later ones are multiples of it (see `webhooks::schedule`).
    pub first_retry: Duration,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

/// The shortest merchant API key accepted.
pub const MERCHANT_KEY_MIN_LEN: usize = 32;

/// How payments are confirmed and reconciled through the status API.
#[derive(Clone, Copy, Debug)]
pub struct ConfirmationSettings {
    /// AUTH (held, not yet charged) counts as paid: two-stage terminals.
    pub two_stage: bool,
    /// How long after its token an order without a postLink is first looked up.
    pub reconcile_after: Duration,
    /// How long after its token expired an order with no transaction at ePay expires (and
    /// its invoice suffix is released).
    pub expiry_grace: Duration,
    /// Questions to the status API in flight at once (the confirmation worker's pace).
    pub status_concurrency: usize,
}

/// How capture, cancel and refund are sent and settled (docs/reliability.md, "Operations").
#[derive(Clone, Copy, Debug)]
pub struct OperationSettings {
    /// How long an operation whose outcome is unknown (a timeout, a reset, a 5xx) is looked
    /// up in the status API before a person is asked (`EPAY_OPERATION_SETTLE_SECS`, 15 min):
    /// long enough for a slow bank to finish and for the status API to catch up, short enough
    /// that a refund that never happened is noticed the same hour.
    pub settle_window: Duration,
    /// How long a worker holds an operation it works on (`EPAY_OPERATION_LEASE_SECS`; by
    /// default four times `EPAY_TIMEOUT_SECS`, 5 s at least). A shorter lease only makes
    /// another instance take over sooner: every request is preceded by a compare-and-set of
    /// the claim, so no operation is ever sent by two.
    pub lease: Option<Duration>,
    /// What becomes of a charge that arrives after its merchant order's payable window
    /// (`LATE_PAYMENTS`); a late hold is always cancelled.
    pub late_payments: LatePayments,
}

/// `LATE_PAYMENTS`: a charge that arrived after the payable window is kept (the shop decides,
/// told by `order.paid_late`) or refunded at once through the operations path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatePayments {
    Keep,
    Refund,
}

/// What strangers may make the proxy do.
#[derive(Clone, Copy, Debug)]
pub struct LimitSettings {
    /// Checkouts one client may start per minute (0: no limit), and how many at once.
    pub checkout_rate_per_minute: u32,
    pub checkout_rate_burst: u32,
    /// How to tell the client's address (rate-limit keys, notification sources).
    pub client_address: ClientAddressRule,
    /// Orders holding an invoice suffix at once, at most (ePay's suffixes are 1,000,000).
    pub max_open_orders: u64,
    /// Of those, how many merchant orders may hold one (`MAX_OPEN_MERCHANT_ORDERS`): the rest is
    /// the payers' (checkouts on the storefront).
    pub max_open_merchant_orders: u64,
    /// Payment tokens the proxy may request from ePay per minute, all clients together (0: no cap).
    pub token_rate_per_minute: u32,
    /// Rejected postLinks one source may make the proxy store per minute.
    pub rejected_postlink_rate_per_minute: u32,
    /// How long rejected postLinks are kept.
    pub rejected_postlink_retention: Duration,
}

/// Behind reverse proxies the operator trusts (`TRUST_FORWARDED_FOR`), the client is the
/// address `trusted_hops` entries from the right of X-Forwarded-For.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddressRule {
    pub trust_forwarded_for: bool,
    pub trusted_hops: u32,
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

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env = Env::new(lookup);
        let epay_env = epay_env(&env)?;
        let server = ServerSettings::load(&env, epay_env)?;
        let config = Config {
            store: StoreSettings { database_url: database_url(&env)? },
            epay: EpaySettings::load(&env, epay_env, &server)?,
            checkout: CheckoutSettings::load(&env, &server.public_url)?,
            confirmation: ConfirmationSettings::load(&env)?,
            operations: OperationSettings::load(&env)?,
            limits: LimitSettings::load(&env)?,
            merchant: MerchantSettings::load(&env)?,
            webhooks: WebhookSettings::load(&env, epay_env)?,
            metrics: MetricsSettings::load(&env, server.listen, epay_env == EpayEnv::Prod)?,
            admin: admin::AdminSettings::load(&env, epay_env == EpayEnv::Prod, &server.public_url)?,
            fiscal: fiscal::FiscalSettings::load(&env, epay_env, &server)?,
            server,
        };
        rules::check(&config)?;
        Ok(config)
    }
}

fn epay_env(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<EpayEnv, ConfigError> {
    let choices = [("sandbox", EpayEnv::Sandbox), ("test", EpayEnv::Test), ("prod", EpayEnv::Prod), ("production", EpayEnv::Prod)];
    let chosen = env.choice("EPAY_ENV", EpayEnv::Sandbox, &choices)?;
    if chosen == EpayEnv::Sandbox && !cfg!(feature = "sandbox") {
        return Err(problem("EPAY_ENV", "this build has no sandbox (built without the `sandbox` feature): set test or prod"));
    }
    Ok(chosen)
}

fn database_url(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<String, ConfigError> {
    let url = env.text("DATABASE_URL").unwrap_or_else(|| "sqlite:epay-proxy.sqlite3".to_owned());
    if crate::store::is_postgres(&url) {
        // Checked here so a typo fails at start with the variable named. The message never
        // repeats the URL: it may hold a password.
        return match crate::store::db::postgres::without_root_cert(&url).0.parse::<postgres::Config>() {
            Ok(_) => Ok(url),
            Err(err) => Err(problem("DATABASE_URL", format!("not a PostgreSQL URL like postgres://epay@db.internal/epay ({err})"))),
        };
    }
    if !url.starts_with("sqlite:") {
        return Err(problem(
            "DATABASE_URL",
            "must be a SQLite file (sqlite:/var/lib/epay/orders.sqlite3) or a PostgreSQL database (postgres://epay@db.internal/epay)",
        ));
    }
    Ok(absolute_sqlite_url(&url, &current_dir()))
}

/// The directory relative paths are read from (the process's working directory).
fn current_dir() -> PathBuf {
    std::env::current_dir().unwrap_or_default()
}

/// `path`, made absolute from `cwd` when relative: a relative default (`dist`,
/// `epay-proxy.sqlite3`) means whatever directory the proxy was started in, which the start's
/// log line then says in full. Pure.
fn absolute_path(path: PathBuf, cwd: &Path) -> PathBuf {
    if path.is_absolute() { path } else { cwd.join(path) }
}

/// A SQLite URL whose file path is relative, made absolute from `cwd` (`sqlite:orders.db`
/// becomes `sqlite:/srv/shop/orders.db`); in-memory databases and absolute paths stay. Pure.
fn absolute_sqlite_url(url: &str, cwd: &Path) -> String {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let (path, query) = rest.split_once('?').map_or((rest, ""), |(path, query)| (path, query));
    if path.is_empty() || path.starts_with(':') || Path::new(path).is_absolute() {
        return url.to_owned();
    }
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    format!("sqlite:{}{query}", cwd.join(path).display())
}

impl ServerSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>, epay_env: EpayEnv) -> Result<ServerSettings, ConfigError> {
        let listen = env.address("LISTEN", "127.0.0.1:8080")?.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        if epay_env == EpayEnv::Prod && env.text("PUBLIC_URL").is_none() {
            return Err(problem("PUBLIC_URL", "required when EPAY_ENV=prod (ePay posts notifications to it)"));
        }
        let public_url = env.base_url("PUBLIC_URL", "http://127.0.0.1:8080")?;
        if epay_env == EpayEnv::Prod && public_url.scheme() != "https" {
            return Err(problem("PUBLIC_URL", "must be https:// when EPAY_ENV=prod"));
        }
        let allowed_origins = match env.list("ALLOWED_ORIGINS") {
            origins if origins.is_empty() => vec![public_url.origin().ascii_serialization()],
            origins => origins
                .iter()
                .map(|o| parse_http_url("ALLOWED_ORIGINS", o).map(|url| url.origin().ascii_serialization()))
                .collect::<Result<_, _>>()?,
        };
        let log_format = env.choice("LOG_FORMAT", LogFormat::Pretty, &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)])?;
        Ok(ServerSettings {
            listen,
            public_url,
            widget_dir: absolute_path(PathBuf::from(env.text("WIDGET_DIR").unwrap_or_else(|| "dist".to_owned())), &current_dir()),
            allowed_origins,
            http_header_timeout: env.seconds("HTTP_HEADER_TIMEOUT_SECS", 10)?,
            http_idle_timeout: env.seconds("HTTP_IDLE_TIMEOUT_SECS", 60)?,
            log_format,
        })
    }

    /// `PUBLIC_URL` + `path`, for links ePay and browsers follow.
    pub fn public_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str().trim_end_matches('/'))
    }
}

impl EpaySettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>, epay_env: EpayEnv, server: &ServerSettings) -> Result<EpaySettings, ConfigError> {
        let public_base = server.public_url.as_str().trim_end_matches('/');
        let (oauth, api, script) = match epay_env {
            EpayEnv::Sandbox => {
                let local = format!("http://{}", loopback(server.listen));
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
        let script_url = env.url("EPAY_SCRIPT_URL", &script)?;
        let payform_origin = match env.text("EPAY_PAYFORM_ORIGIN") {
            Some(_) => env.url("EPAY_PAYFORM_ORIGIN", "")?.origin().ascii_serialization(),
            None => script_url.origin().ascii_serialization(),
        };
        let production = epay_env == EpayEnv::Prod;
        let client_id = env.credential("EPAY_CLIENT_ID", production, TEST_CLIENT_ID)?;
        let client_secret = env.secret("EPAY_CLIENT_SECRET", production, TEST_CLIENT_SECRET)?;
        let (terminal_id, p2p_terminal_id) = terminals(epay_env, env.text("EPAY_TERMINAL_ID"), env.text("EPAY_P2P_TERMINAL_ID"))?;
        Ok(EpaySettings {
            env: epay_env,
            oauth_url: env.url("EPAY_OAUTH_URL", &oauth)?,
            api_url: env.base_url("EPAY_API_URL", &api)?,
            script_url,
            payform_origin,
            client_id,
            client_secret,
            terminal_id,
            p2p_terminal_id,
            post_link: server.public_link("/api/epay/postlink"),
            failure_post_link: server.public_link("/api/epay/failure-postlink"),
            connect_timeout: env.seconds("EPAY_CONNECT_TIMEOUT_SECS", 5)?,
            timeout: env.seconds("EPAY_TIMEOUT_SECS", 15)?,
            overlay_style_hashes: overlay_style_hashes(env.list("EPAY_OVERLAY_STYLE_HASHES"))?,
            sandbox_public: env.flag("EPAY_SANDBOX_PUBLIC")?,
            sandbox_proxies: sandbox_proxies(env.list("SANDBOX_PROXIES"))?,
            language_codes: env.choice(
                "EPAY_LANGUAGE_CODES",
                LanguageCodes::TwoLetter,
                &[("two-letter", LanguageCodes::TwoLetter), ("three-letter", LanguageCodes::ThreeLetter)],
            )?,
        })
    }

    /// The terminal a payment with `method` is made on (ePay has one per kind of operation).
    pub fn terminal_for(&self, method: PaymentMethod) -> &str {
        if method.is_transfer() { &self.p2p_terminal_id } else { &self.terminal_id }
    }

    /// The API URL for `path` (which starts with '/').
    pub fn api_endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.api_url.as_str().trim_end_matches('/'))
    }
}

impl CheckoutSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>, public_url: &Url) -> Result<CheckoutSettings, ConfigError> {
        let min_amount = env.amount("CHECKOUT_MIN_AMOUNT", "1")?;
        let max_amount = env.amount("CHECKOUT_MAX_AMOUNT", "1000000")?;
        if min_amount > max_amount {
            return Err(problem("CHECKOUT_MIN_AMOUNT", "is greater than CHECKOUT_MAX_AMOUNT"));
        }
        let mut currencies: Vec<String> = env.list("CHECKOUT_CURRENCIES").iter().map(|c| c.to_ascii_uppercase()).collect();
        if currencies.is_empty() {
            currencies.push("KZT".to_owned());
        }
        if let Some(bad) = currencies.iter().find(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(problem("CHECKOUT_CURRENCIES", format!("`{bad}` is not a three-letter currency code")));
        }
        // The order key goes in the fragment: browsers never send it to a server, so it stays
        // out of access logs, proxies and analytics.
        let public_base = public_url.as_str().trim_end_matches('/');
        let back_link = env.text("BACK_LINK").unwrap_or_else(|| format!("{public_base}/?order={{order}}&lang={{lang}}#key={{key}}"));
        check_back_link("BACK_LINK", &back_link)?;
        let failure_back_link = env.text("FAILURE_BACK_LINK").unwrap_or_else(|| back_link.clone());
        check_back_link("FAILURE_BACK_LINK", &failure_back_link)?;
        let open_amounts = env.flag("CHECKOUT_OPEN_AMOUNTS")?;
        Ok(CheckoutSettings { min_amount, max_amount, currencies, back_link, failure_back_link, open_amounts })
    }
}

impl WebhookSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>, epay_env: EpayEnv) -> Result<WebhookSettings, ConfigError> {
        let url = match env.text("WEBHOOK_URL") {
            None => None,
            Some(text) => Some(parse_http_url("WEBHOOK_URL", &text)?),
        };
        if epay_env == EpayEnv::Prod && url.as_ref().is_some_and(|url| url.scheme() != "https") {
            return Err(problem("WEBHOOK_URL", "must be https:// when EPAY_ENV=prod"));
        }
        let secret = env.text("WEBHOOK_SECRET");
        if let Some(secret) = &secret {
            // Checked by the library that signs with it; the message never repeats it.
            let valid = secret.starts_with("whsec_") && standardwebhooks::Webhook::new(secret).is_ok() && secret.len() >= 30;
            if !valid {
                return Err(problem(
                    "WEBHOOK_SECRET",
                    "must be whsec_ followed by base64 of at least 16 bytes (`epay-proxy webhooks secret` makes one)",
                ));
            }
        }
        match (&url, &secret) {
            (Some(_), None) => return Err(problem("WEBHOOK_SECRET", "required with WEBHOOK_URL: every delivery is signed")),
            (None, Some(_)) => return Err(problem("WEBHOOK_URL", "required with WEBHOOK_SECRET")),
            _ => {}
        }
        Ok(WebhookSettings {
            url,
            secret: secret.map(SecretString::from),
            timeout: env.seconds("WEBHOOK_TIMEOUT_SECS", 10)?,
            first_retry: Duration::from_millis(u64::from(env.count("WEBHOOK_FIRST_RETRY_MS", 5_000, 1..=3_600_000)?)),
            concurrency: env.count("WEBHOOK_CONCURRENCY", 16, 1..=256)? as usize,
        })
    }
}

impl MerchantSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<MerchantSettings, ConfigError> {
        let single = env.text("MERCHANT_API_KEY").map(|key| ("MERCHANT_API_KEY", key));
        let rotated = env.list("MERCHANT_API_KEYS").into_iter().map(|key| ("MERCHANT_API_KEYS", key));
        let mut api_keys = Vec::new();
        for (variable, key) in single.into_iter().chain(rotated) {
            api_keys.push(bearer_key(variable, key)?);
        }
        Ok(MerchantSettings { api_keys })
    }
}

/// A bearer key from `variable` (merchant API keys, METRICS_TOKEN): long and visible enough.
/// The message never repeats the key: configuration errors end up in logs.
fn bearer_key(variable: &'static str, key: String) -> Result<SecretString, ConfigError> {
    if key.len() < MERCHANT_KEY_MIN_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(problem(
            variable,
            format!("a key must be at least {MERCHANT_KEY_MIN_LEN} visible ASCII characters (e.g. `openssl rand -hex 32`)"),
        ));
    }
    Ok(SecretString::from(key))
}

impl MetricsSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>, main_listen: SocketAddr, production: bool) -> Result<MetricsSettings, ConfigError> {
        let token = env.text("METRICS_TOKEN").map(|token| bearer_key("METRICS_TOKEN", token)).transpose()?;
        let listen = match env.address("METRICS_LISTEN", "127.0.0.1:9464")? {
            None => None,
            Some(addr) => {
                if addr == main_listen {
                    return Err(problem("METRICS_LISTEN", "must differ from LISTEN (it serves /metrics without a token)"));
                }
                if production && !private_address(addr.ip()) {
                    return Err(problem(
                        "METRICS_LISTEN",
                        format!(
                            "`{addr}` is public or every address: it serves /metrics without a token; in production give a loopback or private address (127.0.0.1:9464, 10.0.0.5:9464)"
                        ),
                    ));
                }
                Some(addr)
            }
        };
        Ok(MetricsSettings { token, listen })
    }
}

impl ConfirmationSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<ConfirmationSettings, ConfigError> {
        Ok(ConfirmationSettings {
            two_stage: env.flag("EPAY_TWO_STAGE")?,
            reconcile_after: env.whole_seconds("RECONCILE_AFTER_SECS", 600)?,
            expiry_grace: env.whole_seconds("ORDER_EXPIRY_GRACE_SECS", 1800)?,
            status_concurrency: env.count("STATUS_API_CONCURRENCY", 16, 1..=256)? as usize,
        })
    }
}

impl OperationSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<OperationSettings, ConfigError> {
        let settle_window = env.whole_seconds("EPAY_OPERATION_SETTLE_SECS", 900)?;
        if settle_window > Duration::from_secs(86_400) {
            return Err(problem("EPAY_OPERATION_SETTLE_SECS", "at most 86400 (a day): an unsettled refund must reach a person"));
        }
        let lease = env.text("EPAY_OPERATION_LEASE_SECS").map(|_| env.seconds("EPAY_OPERATION_LEASE_SECS", 0)).transpose()?;
        let late_payments =
            env.choice("LATE_PAYMENTS", LatePayments::Keep, &[("keep", LatePayments::Keep), ("refund", LatePayments::Refund)])?;
        Ok(OperationSettings { settle_window, lease, late_payments })
    }
}

impl LimitSettings {
    fn load(env: &Env<impl Fn(&str) -> Option<String>>) -> Result<LimitSettings, ConfigError> {
        // ePay has 1,000,000 invoice suffixes: leave room for new draws.
        let max_open_orders = u64::from(env.count("MAX_OPEN_ORDERS", 100_000, 1..=900_000)?);
        let max_open_merchant_orders = u64::from(env.count("MAX_OPEN_MERCHANT_ORDERS", (max_open_orders / 2) as u32, 1..=900_000)?);
        if max_open_merchant_orders > max_open_orders {
            return Err(problem("MAX_OPEN_MERCHANT_ORDERS", "must not be more than MAX_OPEN_ORDERS (merchant orders hold suffixes too)"));
        }
        let retention_days = env.count("REJECTED_POSTLINK_RETENTION_DAYS", 30, 1..=3650)?;
        Ok(LimitSettings {
            checkout_rate_per_minute: env.count("CHECKOUT_RATE_PER_MINUTE", 60, 0..=u32::MAX)?,
            checkout_rate_burst: env.count("CHECKOUT_RATE_BURST", 20, 1..=u32::MAX)?,
            client_address: ClientAddressRule {
                trust_forwarded_for: env.flag("TRUST_FORWARDED_FOR")?,
                trusted_hops: env.count("TRUSTED_PROXY_HOPS", 1, 1..=16)?,
            },
            max_open_orders,
            max_open_merchant_orders,
            token_rate_per_minute: env.count("EPAY_TOKEN_RATE_PER_MINUTE", 3_000, 0..=u32::MAX)?,
            rejected_postlink_rate_per_minute: env.count("REJECTED_POSTLINK_RATE_PER_MINUTE", 60, 1..=u32::MAX)?,
            rejected_postlink_retention: Duration::from_secs(86_400 * u64::from(retention_days)),
        })
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

fn overlay_style_hashes(hashes: Vec<String>) -> Result<Vec<String>, ConfigError> {
    hashes
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
        .collect()
}

/// The address this process can reach itself on (0.0.0.0 is not a destination).
/// `SANDBOX_PROXIES`: origins on this machine only (the sandbox sends postLinks to them; it
/// must not be a way to make requests anywhere else).
fn sandbox_proxies(urls: Vec<String>) -> Result<Vec<String>, ConfigError> {
    urls.iter()
        .map(|text| {
            let url = parse_http_url("SANDBOX_PROXIES", text)?;
            if !loopback_host(&url) {
                return Err(problem("SANDBOX_PROXIES", format!("`{text}` is not on this machine (127.0.0.0/8, ::1 or localhost)")));
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// Whether `url` names this machine: a loopback address or `localhost` (the URL parser
/// lowercases host names). Pure.
pub(crate) fn loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Whether `url` is plain http on loopback (development, the sandbox): the one place a
/// cookie cannot be `Secure`, and the only address the sandbox serves. Pure.
pub fn plain_http_loopback(url: &Url) -> bool {
    url.scheme() == "http" && loopback_host(url)
}

/// A loopback or private-network address (RFC 1918, IPv6 unique-local): not the public
/// internet's, and not "every address" (0.0.0.0, ::). Pure.
fn private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_private(),
        IpAddr::V6(ip) => ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00,
    }
}

pub(crate) fn loopback(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, listen.port())),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, listen.port())),
        _ => listen,
    }
}

fn check_back_link(variable: &'static str, template: &str) -> Result<(), ConfigError> {
    for placeholder in ["{order}", "{key}"] {
        if !template.contains(placeholder) {
            return Err(problem(
                variable,
                format!("must contain {placeholder}, e.g. https://shop.kz/pay/return?order={{order}}#key={{key}}"),
            ));
        }
    }
    let sample = template.replace("{order}", "1").replace("{key}", "k").replace("{lang}", "ru");
    parse_http_url(variable, &sample).map(|_| ())
}
