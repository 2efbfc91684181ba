//! The demo shop's binary: its settings from the environment (see the library's docs).

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())).init();
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let listen = env("SHOP_LISTEN", "127.0.0.1:8090");
    let settings = epay_demo_shop::Settings {
        public_url: env("SHOP_PUBLIC_URL", &format!("http://{listen}")),
        proxy: env("PROXY_URL", "http://127.0.0.1:8080"),
        merchant_key: std::env::var("MERCHANT_API_KEY").expect("MERCHANT_API_KEY: the proxy's merchant API key"),
        webhook_secret: std::env::var("WEBHOOK_SECRET").ok(),
        buy_rate_per_minute: env("SHOP_BUY_RATE_PER_MINUTE", "10").parse().expect("SHOP_BUY_RATE_PER_MINUTE: a number"),
        database: env("SHOP_DATABASE_URL", "sqlite:shop.sqlite3").parse().expect("SHOP_DATABASE_URL"),
        listen,
    };
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.expect("SHOP_LISTEN");
    tracing::info!(listen = %settings.listen, "demo shop listening");
    let shop = epay_demo_shop::open(settings).await;
    let app = epay_demo_shop::router(shop).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await.expect("serve");
}
