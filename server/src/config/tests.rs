//! Configuration: defaults, presets, sections, and every rule naming its variable.

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
    assert_eq!(config.epay.env, EpayEnv::Sandbox);
    assert_eq!(config.epay.oauth_url.as_str(), "http://127.0.0.1:8080/sandbox/oauth2/token");
    assert_eq!(config.epay.script_url.as_str(), "http://127.0.0.1:8080/sandbox/payform/payment-api.js");
    assert_eq!(config.epay.payform_origin, "http://127.0.0.1:8080");
    assert_eq!(config.server.allowed_origins, vec!["http://127.0.0.1:8080"]);
    assert_eq!(config.checkout.back_link, "http://127.0.0.1:8080/?order={order}&lang={lang}#key={key}");
    assert_eq!(config.checkout.currencies, vec!["KZT"]);
}

#[test]
fn sandbox_calls_itself_on_loopback_even_when_listening_everywhere() {
    let config = load(&[("LISTEN", "0.0.0.0:9000"), ("PUBLIC_URL", "https://pay.example.kz/"), ("EPAY_SANDBOX_PUBLIC", "true")]).unwrap();
    assert_eq!(config.epay.oauth_url.as_str(), "http://127.0.0.1:9000/sandbox/oauth2/token");
    assert_eq!(config.epay.script_url.as_str(), "https://pay.example.kz/sandbox/payform/payment-api.js");
    assert_eq!(config.epay.post_link, "https://pay.example.kz/api/epay/postlink");
}

#[test]
fn test_preset_uses_the_published_test_merchant_and_hosts() {
    let config = load(&[("EPAY_ENV", "test")]).unwrap();
    assert_eq!(config.epay.oauth_url.as_str(), "https://testoauth.homebank.kz/epay2/oauth2/token");
    assert_eq!(
        config.epay.api_endpoint("/check-status/payment/transaction/1"),
        "https://testepay.homebank.kz/api/check-status/payment/transaction/1"
    );
    assert_eq!(config.epay.script_url.as_str(), "https://test-epay.homebank.kz/payform/payment-api.js");
    assert_eq!(config.epay.payform_origin, "https://test-epay.homebank.kz");
    assert_eq!(config.epay.client_id, "test");
    assert_eq!(config.epay.terminal_id, TEST_CARD_TERMINAL_ID);
    assert_eq!(config.epay.p2p_terminal_id, TEST_P2P_TERMINAL_ID);
    assert_eq!(config.epay.client_secret.expose_secret(), TEST_CLIENT_SECRET);
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
    assert_eq!(config.epay.oauth_url.as_str(), "https://epay-oauth.homebank.kz/oauth2/token");
    assert_eq!(config.epay.api_endpoint("/x"), "https://epay-api.homebank.kz/x");
    assert_eq!(config.epay.payform_origin, "https://epay.homebank.kz");
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
        (vec![("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
        (vec![("DATABASE_URL", "postgres://epay@db:notaport/epay")], "DATABASE_URL"),
        (vec![("EPAY_TIMEOUT_SECS", "0")], "EPAY_TIMEOUT_SECS"),
        (vec![("ALLOWED_ORIGINS", "shop.kz")], "ALLOWED_ORIGINS"),
        (vec![("EPAY_TWO_STAGE", "maybe")], "EPAY_TWO_STAGE"),
        (vec![("EPAY_LANGUAGE_CODES", "iso")], "EPAY_LANGUAGE_CODES"),
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
    assert_eq!(config.epay.terminal_for(Pay), TEST_CARD_TERMINAL_ID);
    assert_eq!(config.epay.terminal_for(Widget), TEST_CARD_TERMINAL_ID);
    for transfer in [P2p, Oct, Aft] {
        assert_eq!(config.epay.terminal_for(transfer), TEST_P2P_TERMINAL_ID);
    }
    let only_card = load(&[("EPAY_TERMINAL_ID", "card-1")]).unwrap();
    assert_eq!((only_card.epay.terminal_for(Pay), only_card.epay.terminal_for(P2p)), ("card-1", "card-1"));
    let only_p2p = load(&[("EPAY_P2P_TERMINAL_ID", "p2p-1")]).unwrap();
    assert_eq!((only_p2p.epay.terminal_for(Pay), only_p2p.epay.terminal_for(P2p)), ("p2p-1", "p2p-1"));
    let both = load(&[("EPAY_TERMINAL_ID", "card-1"), ("EPAY_P2P_TERMINAL_ID", "p2p-1")]).unwrap();
    assert_eq!((both.epay.terminal_for(Widget), both.epay.terminal_for(Aft)), ("card-1", "p2p-1"));
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
    assert!(public.epay.sandbox_public);
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
    assert_eq!(
        (config.limits.client_address.trusted_hops, config.limits.max_open_orders, config.limits.token_rate_per_minute),
        (1, 100_000, 3_000)
    );
    assert_eq!((config.server.http_header_timeout, config.server.http_idle_timeout), (Duration::from_secs(10), Duration::from_secs(60)));
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
    let hashed = load(&[(
        "EPAY_OVERLAY_STYLE_HASHES",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc=",
    )])
    .unwrap();
    assert_eq!(
        hashed.epay.overlay_style_hashes,
        ["sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc="]
    );
}

#[test]
fn secret_is_redacted_in_debug_output() {
    let config = load(&[]).unwrap();
    assert!(!format!("{config:?}").contains(TEST_CLIENT_SECRET));
}

#[test]
fn merchant_keys_and_webhooks_are_checked_without_repeating_secrets() {
    let config = load(&[]).unwrap();
    assert!(config.merchant.api_keys.is_empty() && config.webhooks.url.is_none() && !config.checkout.open_amounts);

    let short = load(&[("MERCHANT_API_KEY", "too-short-key")]).unwrap_err();
    assert_eq!(short.variable, "MERCHANT_API_KEY");
    assert!(!short.problem.contains("too-short-key"), "the key is not repeated: {}", short.problem);
    let keys =
        load(&[("MERCHANT_API_KEY", &"a".repeat(32)), ("MERCHANT_API_KEYS", &format!("{},{}", "b".repeat(40), "c".repeat(33)))]).unwrap();
    assert_eq!(keys.merchant.api_keys.len(), 3);
    assert_eq!(load(&[("MERCHANT_API_KEYS", &format!("{},short", "b".repeat(40)))]).unwrap_err().variable, "MERCHANT_API_KEYS");

    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let hooks = load(&[("WEBHOOK_URL", "https://shop.kz/hooks"), ("WEBHOOK_SECRET", secret)]).unwrap();
    assert_eq!(hooks.webhooks.url.unwrap().as_str(), "https://shop.kz/hooks");
    assert_eq!(load(&[("WEBHOOK_URL", "https://shop.kz/hooks")]).unwrap_err().variable, "WEBHOOK_SECRET", "unsigned webhooks are refused");
    assert_eq!(load(&[("WEBHOOK_SECRET", secret)]).unwrap_err().variable, "WEBHOOK_URL");
    let bad = load(&[("WEBHOOK_URL", "https://shop.kz/hooks"), ("WEBHOOK_SECRET", "not-a-secret")]).unwrap_err();
    assert_eq!(bad.variable, "WEBHOOK_SECRET");
    assert!(!bad.problem.contains("not-a-secret"));
    assert!(load(&[("CHECKOUT_OPEN_AMOUNTS", "true")]).unwrap().checkout.open_amounts);
}

/// `METRICS_LISTEN` serves `/metrics` without a token: in production only on a loopback or
/// private address, never a public one or every address (issue 29, item 5).
#[test]
fn production_serves_tokenless_metrics_only_on_a_private_address() {
    let prod = |listen: &str| {
        load(&[
            ("EPAY_ENV", "prod"),
            ("PUBLIC_URL", "https://shop.kz"),
            ("EPAY_CLIENT_ID", "shop"),
            ("EPAY_CLIENT_SECRET", "s3cret"),
            ("EPAY_TERMINAL_ID", "t-1"),
            ("METRICS_LISTEN", listen),
        ])
    };
    for refused in ["0.0.0.0:9464", "[::]:9464", "8.8.8.8:9464", "[2001:db8::1]:9464"] {
        assert_eq!(prod(refused).unwrap_err().variable, "METRICS_LISTEN", "{refused}");
    }
    for allowed in ["127.0.0.1:9464", "10.0.0.5:9464", "192.168.1.2:9464", "[::1]:9464", "[fd00::5]:9464"] {
        assert_eq!(prod(allowed).unwrap().metrics.listen.map(|a| a.to_string()), Some(allowed.to_owned()), "{allowed}");
    }
    assert!(load(&[("METRICS_LISTEN", "0.0.0.0:9464")]).is_ok(), "a sandbox on a developer's machine may");
}

/// The console's own address (issue 29, item 3): in production over https, or plain http on
/// loopback only (an SSH tunnel); never the public address; `ADMIN_REQUIRE_2FA` on by default
/// there; failures remembered at least as long as the longest wait.
#[test]
fn production_serves_the_console_apart_only_over_https_or_on_loopback() {
    let prod = |vars: &[(&str, &str)]| {
        let mut all = vec![
            ("EPAY_ENV", "prod"),
            ("PUBLIC_URL", "https://shop.kz"),
            ("EPAY_CLIENT_ID", "shop"),
            ("EPAY_CLIENT_SECRET", "s3cret"),
            ("EPAY_TERMINAL_ID", "t-1"),
        ];
        all.extend_from_slice(vars);
        load(&all)
    };
    let shared = prod(&[]).unwrap();
    assert!(shared.admin.require_second_factor && shared.admin.listen.is_none());
    assert_eq!(shared.admin.url.as_str(), "https://shop.kz/");
    assert!(!load(&[]).unwrap().admin.require_second_factor, "off in the sandbox unless asked");
    assert!(!prod(&[("ADMIN_REQUIRE_2FA", "false")]).unwrap().admin.require_second_factor);

    let tunnel = prod(&[("ADMIN_LISTEN", "127.0.0.1:8081")]).unwrap();
    assert_eq!(tunnel.admin.url.as_str(), "http://127.0.0.1:8081/");
    assert_eq!(tunnel.admin.client_address.trusted_hops, 0, "the console's address trusts no forwarded header by default");
    let behind_nginx =
        prod(&[("ADMIN_LISTEN", "10.0.0.11:8081"), ("ADMIN_URL", "https://console.shop.kz"), ("ADMIN_TRUSTED_PROXY_HOPS", "1")]);
    let behind_nginx = behind_nginx.unwrap();
    assert_eq!(behind_nginx.admin.url.origin().ascii_serialization(), "https://console.shop.kz");
    assert!(behind_nginx.admin.client_address.trust_forwarded_for);
    for (vars, variable) in [
        (vec![("ADMIN_LISTEN", "0.0.0.0:8081")], "ADMIN_LISTEN"),
        (vec![("ADMIN_LISTEN", "10.0.0.11:8081"), ("ADMIN_URL", "http://10.0.0.11:8081")], "ADMIN_URL"),
        (vec![("ADMIN_URL", "http://console.shop.kz")], "ADMIN_URL"),
        (vec![("ADMIN_LISTEN", "127.0.0.1:8080"), ("LISTEN", "127.0.0.1:8080")], "ADMIN_LISTEN"),
        (vec![("ADMIN_SIGN_IN_WINDOW_MINUTES", "5")], "ADMIN_SIGN_IN_WINDOW_MINUTES"),
    ] {
        assert_eq!(prod(&vars).unwrap_err().variable, variable, "{vars:?}");
    }
    assert_eq!(load(&[("ADMIN_LOCKOUT_AFTER", "7")]).unwrap().admin.throttle.free_failures, 7, "the former name still reads");
}

#[test]
fn relative_paths_are_read_from_the_directory_the_proxy_starts_in() {
    let cwd = Path::new("/srv/shop");
    assert_eq!(absolute_sqlite_url("sqlite:epay-proxy.sqlite3", cwd), "sqlite:/srv/shop/epay-proxy.sqlite3");
    assert_eq!(absolute_sqlite_url("sqlite://data/orders.db?mode=rwc", cwd), "sqlite:/srv/shop/data/orders.db?mode=rwc");
    assert_eq!(absolute_sqlite_url("sqlite:/var/lib/epay/orders.db", cwd), "sqlite:/var/lib/epay/orders.db");
    assert_eq!(absolute_sqlite_url("sqlite::memory:", cwd), "sqlite::memory:");
    assert_eq!(absolute_path("dist".into(), cwd), Path::new("/srv/shop/dist"));
    assert_eq!(absolute_path("/opt/epay/dist".into(), cwd), Path::new("/opt/epay/dist"));
    let config = Config::from_lookup(|_| None).unwrap();
    assert!(config.server.widget_dir.is_absolute() && config.store.database_url.starts_with("sqlite:/"), "{config:?}");
}

#[test]
fn fiscal_receipts_are_off_by_default_and_need_a_vat_rate_credentials_and_https_in_production() {
    assert!(!load(&[]).unwrap().fiscal.enabled());
    let no_rate = load(&[("FISCAL_REGISTRAR", "webkassa")]).unwrap_err();
    assert_eq!(no_rate.variable, "FISCAL_VAT_RATE");
    let sandbox = load(&[("FISCAL_REGISTRAR", "webkassa"), ("FISCAL_VAT_RATE", "16")]).unwrap();
    let webkassa = sandbox.fiscal.webkassa.as_ref().unwrap();
    assert!(webkassa.url.as_str().ends_with("/sandbox/webkassa"), "the sandbox's own Webkassa: {}", webkassa.url);
    assert_eq!(sandbox.fiscal.vat_percent, Some(16));
    assert_eq!(load(&[("FISCAL_REGISTRAR", "webkassa"), ("FISCAL_VAT_RATE", "none")]).unwrap().fiscal.vat_percent, None);
    assert_eq!(load(&[("FISCAL_REGISTRAR", "webkassa"), ("FISCAL_VAT_RATE", "16%")]).unwrap_err().variable, "FISCAL_VAT_RATE");
    assert_eq!(load(&[("FISCAL_ZREPORT_AT", "25:00")]).unwrap_err().variable, "FISCAL_ZREPORT_AT");

    let key = "wk-integrator-key-never-printed";
    let password = "cashier-password-never-printed";
    let test = [
        ("EPAY_ENV", "test"),
        ("FISCAL_REGISTRAR", "webkassa"),
        ("FISCAL_VAT_RATE", "16"),
        ("WEBKASSA_URL", "https://devkkm.webkassa.kz"),
        ("WEBKASSA_API_KEY", key),
        ("WEBKASSA_LOGIN", "cashier@shop.kz"),
        ("WEBKASSA_PASSWORD", password),
        ("WEBKASSA_CASHBOX", "SWK00031234"),
    ];
    let config = load(&test).unwrap();
    let printed = format!("{config:?}");
    assert!(!printed.contains(key) && !printed.contains(password), "Webkassa's secrets are redacted");
    let missing = load(&test[..7]).unwrap_err();
    assert_eq!(missing.variable, "WEBKASSA_CASHBOX");
    assert!(!missing.problem.contains(password));
}
