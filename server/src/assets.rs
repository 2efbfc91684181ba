//! The built widget and demo storefront (trunk's `dist/`), served with the right types,
//! compression (precompressed files when present) and cache headers: hashed file names are
//! immutable, everything else is revalidated. Storefronts on other origins import the
//! widget, so static files allow any origin.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse};
use tower_http::services::ServeDir;

use crate::config::ServerSettings;

pub fn router(server: &ServerSettings) -> Router {
    let missing = server.widget_dir.join("index.html").exists().then_some(()).is_none();
    if missing {
        tracing::warn!(dir = %server.widget_dir.display(), "the widget is not built; serving a notice instead");
    }
    let not_found = axum::routing::get(move || async move {
        if missing {
            (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response()
        } else {
            (StatusCode::NOT_FOUND, "not found").into_response()
        }
    });
    Router::new().fallback_service(served(&server.widget_dir).not_found_service(not_found)).layer(middleware::from_fn(static_headers))
}

/// The files under `dir` as both routers serve them: `index.html` for a directory, and the
/// precompressed twins when the browser takes them.
fn served(dir: &std::path::Path) -> ServeDir {
    ServeDir::new(dir).append_index_html_on_directories(true).precompressed_br().precompressed_gzip()
}

/// The console's files alone (`WIDGET_DIR/admin/` at `/admin/`), for its own address
/// (`ADMIN_LISTEN`): nothing of the storefront, which runs ePay's script, is served there.
pub fn console_router(server: &ServerSettings) -> Router {
    let files = served(&server.widget_dir.join("admin"))
        .not_found_service(axum::routing::get(|| async { (StatusCode::NOT_FOUND, "not found").into_response() }));
    Router::new().nest_service("/admin", files).layer(middleware::from_fn(static_headers))
}

/// Whether `path`, as the file service would read it (percent-decoded, empty and `.`
/// segments dropped), is under `/admin/`. Pure.
pub fn names_console_files(path: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    decoded.split(['/', '\\']).find(|segment| !segment.is_empty() && *segment != ".") == Some("admin")
}

/// With the console on its own address: its files are not served on the public one, however
/// the path is spelt.
pub async fn no_console_files(request: Request<Body>, next: Next) -> Response<Body> {
    if names_console_files(request.uri().path()) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    next.run(request).await
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>epay-proxy</title>\
<p>The checkout widget is not built yet. Run <code>./scripts/demo</code>, or <code>trunk build --release</code> \
and set <code>WIDGET_DIR</code> to its output.</p>";

async fn static_headers(request: Request<Body>, next: Next) -> Response<Body> {
    let immutable = has_content_hash(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// trunk names built files `name-<16 hex digits>.ext` (wasm: `name-<hash>_bg.wasm`).
fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("").trim_end_matches("_bg");
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod console_path_tests {
    use super::names_console_files;

    #[test]
    fn every_spelling_of_the_console_directory_is_recognised() {
        for path in ["/admin", "/admin/", "/admin/index.html", "//admin/index.html", "/%61dmin/index.html", "/./admin/x", "/%2Fadmin/"] {
            assert!(names_console_files(path), "{path}");
        }
        for path in ["/", "/index.html", "/administrator.html", "/widget.js", "/api/admin-x"] {
            assert!(!names_console_files(path), "{path}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(has_content_hash("/epay-widget-6f1c2a9b3d4e5f60_bg.wasm"));
        assert!(has_content_hash("/epay-widget-6f1c2a9b3d4e5f60.js"));
        assert!(has_content_hash("/widget-0123456789abcdef.css"));
        assert!(!has_content_hash("/index.html"));
        assert!(!has_content_hash("/widget.js"));
        assert!(!has_content_hash("/"));
    }
}
