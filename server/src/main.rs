//! `epay-proxy`            serve (configuration from the environment, see README)
//! `epay-proxy migrate`    bring the store's schema up to date, and stop (serving does it too)
//! `epay-proxy orders show <invoiceId>`   print an order and its notifications as JSON
//! `epay-proxy orders list [N]`           print the N (default 20) latest orders as JSON lines
//! `epay-proxy admin hash-password`       a hash for ADMIN_USERS, from a password on standard input
//! `epay-proxy admin reset-2fa <name>`     removes a person's second factor and ends their sessions
//! `epay-proxy operations resolve <invoiceId> done|not-done|send-again|epay-ledger --checked TEXT`
//!                                         a person's decision on a capture, cancel or refund in review

use std::process::ExitCode;

use epay_proxy::config::Config;
use epay_proxy::{AppState, inspect, telemetry};

// glibc's malloc showed up as ~17% of the proxy's CPU under load (perf, scripts/bench).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: epay-proxy [serve]\n       epay-proxy migrate\n       epay-proxy openapi   (prints the OpenAPI document)\n       epay-proxy orders show <invoiceId>\n       epay-proxy orders list [N]\n       epay-proxy webhooks secret\n       epay-proxy webhooks list [N]\n       epay-proxy webhooks resend <eventId>\n       epay-proxy admin hash-password   (reads the password on standard input)\n       epay-proxy admin reset-2fa <name>\n       epay-proxy operations resolve <invoiceId> done|not-done|send-again|epay-ledger --checked TEXT [--by NAME] [--note TEXT]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Needs no configuration: the OpenAPI document, for client generators and validators.
    if args.as_slice() == ["openapi"] {
        println!("{}", epay_proxy::openapi::document());
        return ExitCode::SUCCESS;
    }
    // Needs no configuration: prints a new WEBHOOK_SECRET.
    if args.as_slice() == ["webhooks", "secret"] {
        println!("{}", epay_proxy::webhooks::new_secret());
        return ExitCode::SUCCESS;
    }
    // Needs no configuration: a hash for ADMIN_USERS from a password on standard input (never
    // an argument: those show in process lists and shell history).
    if args.as_slice() == ["admin", "hash-password"] {
        let mut password = String::new();
        if std::io::stdin().read_line(&mut password).is_err() || password.trim_end_matches(['\r', '\n']).is_empty() {
            eprintln!("epay-proxy: type the password on standard input (e.g. `read -rs P; echo \"$P\" | epay-proxy admin hash-password`)");
            return ExitCode::from(2);
        }
        println!("{}", epay_proxy::admin::auth::hash_password(password.trim_end_matches(['\r', '\n'])));
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("epay-proxy: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match args.as_slice() {
        [] | ["serve"] => runtime.block_on(serve(config)),
        ["migrate"] => runtime.block_on(migrate(config)),
        ["orders", "show", invoice_id] => runtime.block_on(show_order(config, invoice_id)),
        ["orders", "list"] => runtime.block_on(list_orders(config, 20)),
        ["orders", "list", n] if n.parse::<i64>().is_ok_and(|n| n > 0) => runtime.block_on(list_orders(config, n.parse().unwrap_or(20))),
        ["webhooks", "list"] => runtime.block_on(list_events(config, 20)),
        ["webhooks", "list", n] if n.parse::<i64>().is_ok_and(|n| n > 0) => runtime.block_on(list_events(config, n.parse().unwrap_or(20))),
        ["webhooks", "resend", event_id] => runtime.block_on(resend_event(config, event_id)),
        ["admin", "reset-2fa", name] => runtime.block_on(reset_second_factor(config, name)),
        ["operations", "resolve", rest @ ..] => runtime.block_on(resolve_operation(config, rest)),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    telemetry::init(config.server.log_format);
    let listen = config.server.listen;
    let (env, public) = (config.epay.env.name(), config.server.public_url.to_string());
    // Relative paths are resolved from the working directory: said in full, so nobody guesses.
    let (widget_dir, database) = (config.server.widget_dir.display().to_string(), epay_proxy::store::shown_url(&config.store.database_url));
    let state = match AppState::new(config).await {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error = %err, "cannot open the order store");
            return ExitCode::FAILURE;
        }
    };
    let listener = match epay_proxy::serving::bind(listen) {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(error = %err, %listen, "cannot listen (LISTEN)");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%listen, epay_env = env, storefront = %public, %widget_dir, %database, "epay-proxy ready");
    match epay_proxy::serve(listener, state, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %err, "server failed");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn open_store(config: &Config) -> Option<epay_proxy::store::Store> {
    match epay_proxy::store::Store::open(&config.store.database_url).await {
        Ok(store) => Some(store),
        Err(err) => {
            eprintln!("epay-proxy: cannot open {}: {err}", epay_proxy::store::shown_url(&config.store.database_url));
            None
        }
    }
}

/// Applies the migrations the store lacks (before a deploy, or from one instance while the
/// others wait: several migrating at once are safe too).
async fn migrate(config: Config) -> ExitCode {
    let shown = epay_proxy::store::shown_url(&config.store.database_url);
    match epay_proxy::store::migrate(&config.store.database_url).await {
        Ok(()) => {
            println!("{shown}: the schema is up to date");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("epay-proxy: cannot migrate {shown}: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn list_orders(config: Config, limit: i64) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    match inspect::list_orders(&store, limit).await {
        Ok(orders) => {
            for order in orders {
                println!("{order}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("epay-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn show_order(config: Config, invoice_id: &str) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    match inspect::show_order(&store, invoice_id).await {
        Ok(Some(order)) => {
            println!("{}", serde_json::to_string_pretty(&order).expect("JSON"));
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no order {invoice_id}");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("epay-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The latest webhook events with their attempts, as JSON lines (as `GET /api/merchant/events`).
async fn list_events(config: Config, limit: i64) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    let listed = store.read(move |db| epay_proxy::store::webhooks::page(db, None, None, limit)).await;
    let listed =
        listed.map(|(rows, attempts)| rows.iter().map(|row| epay_proxy::merchant::events::view(row, &attempts)).collect::<Vec<_>>());
    match listed {
        Ok(events) => {
            for event in events {
                println!("{}", serde_json::to_string(&event).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cannot list events: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Removes a person's second factor (a lost phone) and ends their sessions: at their next
/// sign-in they enrol a new one.
async fn reset_second_factor(config: Config, name: &str) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    let person = name.to_owned();
    match store.write(move |tx| epay_proxy::store::admin::reset_second_factor(tx, &person)).await {
        Ok(true) => {
            println!(
                "{name}: the second factor and its recovery codes are removed, and their sessions ended; they enrol a new one at their next sign-in"
            );
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("{name} has no second factor (their sessions, if any, are ended)");
            ExitCode::from(1)
        }
        Err(err) => {
            eprintln!("epay-proxy: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Queues an event again; a running proxy sends it within a second.
async fn resend_event(config: Config, event_id: &str) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    let id = event_id.to_owned();
    match store.write(move |tx| epay_proxy::store::webhooks::resend(tx, &id, epay_proxy::store::now_ms())).await {
        Ok(Some(_)) => {
            println!("event {event_id} queued again; a running proxy sends it within a second");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no event {event_id}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("cannot queue the event: {err}");
            ExitCode::FAILURE
        }
    }
}

/// A person's decision on the capture, cancel or refund in review on an order.
async fn resolve_operation(config: Config, args: &[&str]) -> ExitCode {
    let Some(store) = open_store(&config).await else { return ExitCode::FAILURE };
    let epay = epay_proxy::epay::EpayClient::new(std::sync::Arc::new(config.epay.clone()));
    match epay_proxy::operations::review::from_cli(&store, &epay, args).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("epay-proxy: {why}");
            ExitCode::FAILURE
        }
    }
}
