//! Logs. Request spans carry the method and path only: query strings hold order keys, and no
//! secret (client_secret, secret_hash) is ever a field of any event.

use axum::body::Body;
use axum::http::Request;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// `RUST_LOG` overrides the default: info for this crate, warnings for the libraries (sqlx
/// would otherwise log every statement).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,reqwest=warn"));
    let filter = quiet_drivers(filter);
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(ansi);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The PostgreSQL driver logs every statement with its parameters at debug level, and the
/// parameters hold secret_hash and order keys: it says warnings and errors only, whatever
/// `RUST_LOG` asks.
pub fn quiet_drivers(filter: EnvFilter) -> EnvFilter {
    ["tokio_postgres=warn", "postgres=warn"].into_iter().fold(filter, |filter, directive| match directive.parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    })
}

fn request_span(request: &Request<Body>) -> Span {
    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
}

pub type HttpTraceLayer =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, fn(&Request<Body>) -> Span, (), DefaultOnResponse, (), (), DefaultOnFailure>;

pub fn http_trace_layer() -> HttpTraceLayer {
    TraceLayer::new_for_http()
        .make_span_with(request_span as fn(&Request<Body>) -> Span)
        .on_request(())
        .on_body_chunk(())
        .on_eos(())
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}
