//! epay-proxy: keeps the merchant's ePay secret, mints one token per payment, receives
//! ePay's postLinks, tells the widget what really happened, and serves the widget.

pub mod admin;
pub mod assets;
pub mod card_deactivation;
pub mod checkout;
pub mod config;
pub mod confirm;
#[cfg(test)]
mod conformance;
pub mod cors;
pub mod emulator;
pub mod epay;
pub mod error;
pub mod fiscal;
pub mod hosted;
pub mod idempotency;
pub mod inspect;
pub mod invoice;
pub mod json;
#[cfg(test)]
mod layers;
pub mod maintenance;
pub mod merchant;
pub mod monitoring;
pub mod openapi;
pub mod operations;
pub mod order_status;
pub mod passwords;
pub mod periods;
pub mod postlink;
pub mod rate_limit;
pub mod secrets;
pub mod security;
pub mod serving;
pub mod state;
pub mod store;
pub mod subscriptions;
pub mod telemetry;
pub mod text;
pub mod views;
pub mod webhooks;
pub mod widget_config;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{any, get, post};
use axum::{BoxError, Router};
use epay_api_types::ErrorCode;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use config::{Config, EpayEnv};
use epay::EpayClient;
pub use state::AppState;
use store::{Store, StoreError, orders};

/// Checkout requests are small JSON objects.
pub const CHECKOUT_BODY_LIMIT: usize = 16 * 1024;
/// postLink bodies are about 1 KiB; leave room for ePay adding fields. Also the limit for
/// every other body the proxy reads.
pub const POSTLINK_BODY_LIMIT: usize = 64 * 1024;
/// A client has this long to send its request body.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl AppState {
    /// Opens the store, recovers from an interrupted previous run, and builds the clients.
    pub async fn new(config: Config) -> Result<Arc<AppState>, StoreError> {
        let config = Arc::new(config);
        // Installed before anything is recorded, so nothing counted is lost; without a reader
        // nothing is recorded (the facade's no-op recorder).
        if config.metrics.enabled() {
            monitoring::handle();
        }
        let store = Store::open(&config.store.database_url).await?;
        let check_ms = confirm::first_check_ms(&config.confirmation);
        // One proxy on SQLite: nothing else can be asking for a token now. Several on
        // PostgreSQL: only orders older than any token request can be were interrupted.
        let single = store.dialect() == store::Dialect::Sqlite;
        let started_before = if single { store::now() + 1 } else { maintenance::interrupted_before(&config, store::now()) };
        // The longest lease any worker takes: `lease_ms` of the longest timeout, or a receipt's.
        let receipts_lease = config.fiscal.webkassa.as_ref().map_or(0, |w| fiscal::worker::lease_ms(w.timeout));
        let lease_ms = store::leases::lease_ms(config.epay.timeout.max(config.webhooks.timeout)).max(receipts_lease);
        let (interrupted, held, merchant_held) = store
            .write(move |tx| {
                if single {
                    store::leases::resume_claims(tx, store::now_ms(), lease_ms)?;
                }
                Ok((
                    orders::fail_interrupted_starts(tx, started_before, check_ms)?,
                    orders::count_holding_suffix(tx)?,
                    orders::count_merchant_holding_suffix(tx)?,
                ))
            })
            .await?;
        if interrupted > 0 {
            tracing::warn!(interrupted, "orders whose token request was interrupted (a restart) are now start_failed");
        }
        let instance = format!("pid{}-{:08x}", std::process::id(), rand::random::<u32>());
        tracing::info!(%instance, store = ?store.dialect(), "store open");
        if config.epay.env == EpayEnv::Sandbox && config.epay.sandbox_public {
            tracing::warn!(
                listen = %config.server.listen,
                public_url = %config.server.public_url,
                "EPAY_SANDBOX_PUBLIC=true: the ePay SANDBOX (test tokens, test cards, an unauthenticated /sandbox/control) is reachable beyond this machine; never take real orders like this"
            );
        }
        let sandbox = emulator::router(&config);
        let checkout_limiter = rate_limit::checkout_limiter(&config.limits);
        Ok(Arc::new(AppState {
            epay: EpayClient::new(Arc::new(config.epay.clone())),
            postlink_limiter: rate_limit::SourceLimiter::new(config.limits.rejected_postlink_rate_per_minute),
            token_budget: rate_limit::TokenBudget::new(config.limits.token_rate_per_minute),
            admin_sign_ins: rate_limit::SourceLimiter::new(config.admin.sign_in_rate_per_minute),
            sign_in_retries: rate_limit::TokenBudget::new(config.admin.retries_per_minute),
            password_checks: passwords::PasswordChecks::new(),
            open_orders: Arc::new(orders::OpenOrders::new(held, config.limits.max_open_orders)),
            merchant_open_orders: Arc::new(orders::OpenOrders::new(merchant_held, config.limits.max_open_merchant_orders)),
            config,
            store,
            sandbox,
            confirmations: Arc::new(tokio::sync::Notify::new()),
            subscriptions: Arc::new(tokio::sync::Notify::new()),
            checkout_limiter,
            instance,
        }))
    }
}

pub fn app(state: Arc<AppState>) -> Router {
    let mut checkout_route = post(checkout::create).layer(DefaultBodyLimit::max(CHECKOUT_BODY_LIMIT));
    let mut order_checkout_route = post(checkout::order::start).layer(DefaultBodyLimit::max(CHECKOUT_BODY_LIMIT));
    if let Some(limiter) = &state.checkout_limiter {
        checkout_route = checkout_route.layer(rate_limit::layer(limiter));
        order_checkout_route = order_checkout_route.layer(rate_limit::layer(limiter));
    }
    let browser_api = Router::new()
        .route("/api/checkout", checkout_route)
        .route("/api/orders/{invoice_id}", get(order_status::show))
        .route("/api/orders/{invoice_id}/checkout", order_checkout_route)
        .route("/api/widget-config", get(widget_config::show))
        .layer(cors::layer(&state.config.server))
        .layer(axum::middleware::from_fn_with_state(cors::Unlisted::new(&state.config.server), cors::warn_unlisted));

    // The shop's backend: a bearer key, and no CORS (merchant::auth).
    let merchant_api = merchant::routes(&state);

    // Server to server: no CORS, a browser has no business here.
    let epay_notifications = Router::new()
        .route("/api/epay/postlink", post(postlink::postlink))
        .route("/api/epay/failure-postlink", post(postlink::failure_postlink))
        .layer(DefaultBodyLimit::max(POSTLINK_BODY_LIMIT));

    let console_apart = state.config.admin.listen.is_some();
    let mut router = Router::new()
        .merge(browser_api)
        .merge(merchant_api)
        .merge(epay_notifications)
        .route("/api/openapi.json", get(openapi::serve))
        .route("/pay/{invoice_id}", get(hosted::page))
        .route("/healthz", get(healthz))
        .merge(monitoring::routes(&state));
    if console_apart {
        // ADMIN_LISTEN: the console is not served here at all (`console_app`).
        router = router
            .route("/admin", any(console_elsewhere))
            .route("/admin/", any(console_elsewhere))
            .route("/admin/{*rest}", any(console_elsewhere))
            .route("/api/admin/{*rest}", any(console_elsewhere));
    } else {
        router = router.merge(admin::routes(&state));
    }
    let mut router = router.with_state(state.clone());
    if let Some(sandbox) = &state.sandbox {
        router = router.nest("/sandbox", sandbox.clone());
    }
    let router = common_layers(router, assets::router(&state.config.server), &state);
    if console_apart {
        // The file service decodes and tidies paths (`/%61dmin/`, `//admin/`): those are
        // refused before it sees them.
        return router.layer(axum::middleware::from_fn(assets::no_console_files));
    }
    router
}

/// The console alone (`/admin/`, `/api/admin/*`), for `ADMIN_LISTEN`: on its own address it
/// is its own origin, so no script of a page that runs ePay's `payment-api.js` (the
/// storefront, `/pay/{id}`) can read its session or send it a change.
pub fn console_app(state: Arc<AppState>) -> Router {
    let router = Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/admin/") }))
        .route("/healthz", get(healthz))
        .merge(admin::routes(&state))
        .with_state(state.clone())
        .layer(axum::Extension(rate_limit::OnConsoleListener));
    common_layers(router, assets::console_router(&state.config.server), &state)
}

/// What every router gets: files, metrics of routes, timeouts, security headers, compression,
/// the request trace.
fn common_layers(mut router: Router, mut files: Router, state: &Arc<AppState>) -> Router {
    if state.config.metrics.enabled() {
        router = router.route_layer(axum::middleware::from_fn(monitoring::http::track_route));
        files = files.layer(axum::middleware::from_fn(monitoring::http::track_files));
    }
    // No request may run longer than two ePay timeouts (a checkout waiting for a concurrent
    // one with the same key) and a margin; none may trickle its body (a 4xx, so the body
    // timeout must fire first).
    let route_timeout = (state.config.epay.timeout * 2).max(BODY_READ_TIMEOUT) + Duration::from_secs(5);
    let policies = Arc::new(security::Policies::new(&state.config.server, &state.config.epay));
    router
        .merge(files)
        .layer(DefaultBodyLimit::max(POSTLINK_BODY_LIMIT))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: BoxError| async {
                    error::AppError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Timeout,
                        "the proxy could not finish this request in time; retry",
                    )
                }))
                .layer(tower::timeout::TimeoutLayer::new(route_timeout)),
        )
        .layer(RequestBodyTimeoutLayer::new(BODY_READ_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(policies, security::headers))
        .layer(CompressionLayer::new())
        .layer(telemetry::http_trace_layer())
}

/// `/admin/*` and `/api/admin/*` on the public address when the console has its own.
async fn console_elsewhere() -> error::AppError {
    error::AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "the console is served on its own address here (ADMIN_LISTEN)")
}

async fn healthz(State(app): State<Arc<AppState>>) -> Result<&'static str, error::AppError> {
    app.store.read(store::ping).await.map_err(error::AppError::internal)?;
    Ok("ok")
}

/// Serves until `shutdown` resolves, then finishes the requests in flight. The confirmation
/// worker runs alongside.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, state.clone(), app(state), shutdown).await
}

/// `serve` with a router of the caller's (`app(state)` with layers of its own, in tests).
pub async fn serve_router(
    listener: TcpListener,
    state: Arc<AppState>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(confirm::run(state.clone()));
    let housekeeping = tokio::spawn(maintenance::run(state.clone()));
    let (stop_deliveries, deliveries_stop) = tokio::sync::oneshot::channel::<()>();
    let deliveries = tokio::spawn(webhooks::run(state.store.clone(), state.config.clone(), async move {
        let _ = deliveries_stop.await;
    }));
    let lookups = tokio::spawn(operations::run(state.clone()));
    let deactivations = tokio::spawn(card_deactivation::run(state.clone()));
    let billing = tokio::spawn(subscriptions::run(state.clone()));
    let receipts = fiscal::start(&state);
    let timeouts = serving::Timeouts { header: state.config.server.http_header_timeout, idle: state.config.server.http_idle_timeout };
    let console_listener = match state.config.admin.listen {
        Some(addr) => {
            let listener = serving::bind(addr)?;
            tracing::info!(%addr, console = %state.config.admin.url, "the console is served on ADMIN_LISTEN only");
            let console = console_app(state.clone());
            Some(tokio::spawn(async move {
                if let Err(err) = serving::run(listener, console, timeouts, std::future::pending()).await {
                    tracing::error!(error = %err, "the console listener stopped");
                }
            }))
        }
        None => None,
    };
    let metrics_listener = match state.config.metrics.listen {
        Some(addr) => Some(monitoring::serve_privately(addr, state.clone()).await?),
        None => None,
    };
    let forget_clients = state.checkout_limiter.clone().map(|limiter| {
        // The limiter keeps a bucket per client address; drop the idle ones now and then.
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                limiter.limiter().retain_recent();
            }
        })
    });
    let served = serving::run(listener, router, timeouts, shutdown).await;
    worker.abort();
    housekeeping.abort();
    lookups.abort();
    deactivations.abort();
    billing.abort();
    for task in receipts {
        task.abort();
    }
    // The deliveries in flight are cut short and their events handed back (due now), so
    // another instance, or this one restarted, sends them without waiting for their leases.
    let _ = stop_deliveries.send(());
    let handed_back = tokio::time::timeout(Duration::from_secs(5), deliveries).await;
    if handed_back.is_err() {
        tracing::warn!("webhook deliveries in flight were not handed back within 5 s; they wait for their leases");
    }
    if let Some(task) = forget_clients {
        task.abort();
    }
    for task in [metrics_listener, console_listener].into_iter().flatten() {
        task.abort();
    }
    served
}
