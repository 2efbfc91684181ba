//! Rules across sections: the sandbox only on loopback, and production only with secure
//! settings. Each refusal names the variable to change.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use url::Url;

use super::env::problem;
use super::{Config, ConfigError, EpayEnv};

pub fn check(config: &Config) -> Result<(), ConfigError> {
    let (server, epay, checkout) = (&config.server, &config.epay, &config.checkout);
    if epay.env == EpayEnv::Sandbox && !epay.sandbox_public {
        sandbox_is_local(server.listen, &server.public_url)?;
    }
    console_apart(config)?;
    if epay.env != EpayEnv::Prod {
        return Ok(());
    }
    let urls = [
        ("EPAY_OAUTH_URL", epay.oauth_url.as_str()),
        ("EPAY_API_URL", epay.api_url.as_str()),
        ("EPAY_SCRIPT_URL", epay.script_url.as_str()),
        ("EPAY_PAYFORM_ORIGIN", epay.payform_origin.as_str()),
        ("BACK_LINK", checkout.back_link.as_str()),
        ("FAILURE_BACK_LINK", checkout.failure_back_link.as_str()),
    ];
    let origins = server.allowed_origins.iter().map(|origin| ("ALLOWED_ORIGINS", origin.as_str()));
    // The integrator's key and the cashier's password travel to Webkassa.
    let registrar = config.fiscal.webkassa.iter().map(|webkassa| ("WEBKASSA_URL", webkassa.url.as_str()));
    for (variable, url) in urls.into_iter().chain(origins).chain(registrar) {
        if !url.starts_with("https://") {
            return Err(problem(variable, format!("`{url}` must be https:// when EPAY_ENV=prod")));
        }
    }
    if database_inside(&config.store.database_url, &server.widget_dir) {
        return Err(problem("DATABASE_URL", "the database file is inside WIDGET_DIR, which is served to everyone; move it out"));
    }
    Ok(())
}

/// The sandbox hands out test tokens, pays with test cards and has an unauthenticated control
/// endpoint: it must not face the Internet by accident.
fn sandbox_is_local(listen: SocketAddr, public_url: &Url) -> Result<(), ConfigError> {
    let hint = "the sandbox (EPAY_ENV=sandbox, the default) serves only loopback; set EPAY_ENV=test or prod, or EPAY_SANDBOX_PUBLIC=true to expose it on purpose";
    if !listen.ip().is_loopback() {
        return Err(problem("LISTEN", format!("`{listen}` is not a loopback address: {hint}")));
    }
    if !super::plain_http_loopback(public_url) {
        return Err(problem("PUBLIC_URL", format!("`{public_url}` is not http:// on loopback: {hint}")));
    }
    Ok(())
}

/// Whether the SQLite file of `database_url` lies inside `dir` (compared as absolute paths
/// with `.` and `..` resolved; symbolic links are not followed).
fn database_inside(database_url: &str, dir: &Path) -> bool {
    let file = database_url.trim_start_matches("sqlite:").trim_start_matches("//");
    let file = file.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" {
        return false;
    }
    normalize(Path::new(file)).starts_with(normalize(dir))
}

fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `ADMIN_LISTEN` is an address of its own, and in production the console's URL is https (or
/// plain-http loopback, reached through an SSH tunnel): its cookie is `Secure` everywhere
/// else, and browsers drop a `Secure` cookie sent over plain http.
fn console_apart(config: &Config) -> Result<(), ConfigError> {
    let admin = &config.admin;
    if let Some(listen) = admin.listen
        && (listen == config.server.listen || Some(listen) == config.metrics.listen)
    {
        return Err(problem("ADMIN_LISTEN", "must differ from LISTEN and METRICS_LISTEN"));
    }
    if config.epay.env != EpayEnv::Prod || admin.url.scheme() == "https" {
        return Ok(());
    }
    if !super::plain_http_loopback(&admin.url) {
        return Err(problem(
            "ADMIN_URL",
            format!("`{}` must be https:// when EPAY_ENV=prod (or http on loopback, reached through an SSH tunnel)", admin.url),
        ));
    }
    // Plain http is for a tunnel to loopback only: the console must not listen beyond it.
    if let Some(listen) = admin.listen
        && !listen.ip().is_loopback()
    {
        return Err(problem(
            "ADMIN_LISTEN",
            format!(
                "`{listen}` is reachable beyond this machine over plain http: listen on loopback (127.0.0.1:8081) or set an https ADMIN_URL"
            ),
        ));
    }
    Ok(())
}
