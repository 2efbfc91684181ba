//! The demo shop's binary: its settings from the environment (see the library's docs).

#[tokio::main]
async fn main() {
    // `epay-demo-shop hash-password`: a hash for SHOP_STAFF_USERS, from a password on standard
    // input (never an argument: those show in process lists and shell history).
    if std::env::args().nth(1).as_deref() == Some("hash-password") {
        let mut password = String::new();
        std::io::stdin().read_line(&mut password).expect("a password on standard input");
        println!("{}", epay_demo_shop::hash_password(password.trim_end_matches(['\r', '\n'])));
        return;
    }
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())).init();
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let listen = env("SHOP_LISTEN", "127.0.0.1:8090");
    let settings = epay_demo_shop::Settings {
        public_url: env("SHOP_PUBLIC_URL", &format!("http://{listen}")),
        proxy: env("PROXY_URL", "http://127.0.0.1:8080"),
        merchant_key: std::env::var("MERCHANT_API_KEY").expect("MERCHANT_API_KEY: the proxy's merchant API key"),
        webhook_secret: std::env::var("WEBHOOK_SECRET").ok(),
        staff_users: std::env::var("SHOP_STAFF_USERS").unwrap_or_default(),
        trusted_proxy_hops: env("SHOP_TRUSTED_PROXY_HOPS", "0").parse().expect("SHOP_TRUSTED_PROXY_HOPS: a number of reverse proxies"),
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
