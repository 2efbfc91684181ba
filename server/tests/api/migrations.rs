//! Stores made by older versions of the proxy, brought up to date by its migrations.

use sqlx::{ConnectOptions, Connection};

/// Orders paid before the refunds migration (0005) have no captured amount: the backfill
/// gives them their amount, so a full refund of an old order marks it `refunded` (issue 20,
/// item 12). Made with the schema as it stood at 0004, on SQLite (PostgreSQL's schema starts
/// with the column).
#[tokio::test]
async fn orders_paid_before_the_refunds_migration_get_their_captured_amount() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true).connect().await.unwrap();
    let mut old = sqlx::migrate!("./migrations/sqlite");
    old.migrations = old.migrations.iter().filter(|m| m.version <= 4).cloned().collect::<Vec<_>>().into();
    old.run(&mut conn).await.unwrap();
    for (invoice, status) in [("100000000001", "paid"), ("100000000002", "failed")] {
        sqlx::query(
            "INSERT INTO orders (invoice_id, invoice_suffix, order_key, secret_hash, amount_minor, currency, terminal, method, language,
                status, created_at, updated_at)
             VALUES (?, substr(?, -6), 'k', 's', 150000, 'KZT', 't', 'pay', 'ru', ?, 0, 0)",
        )
        .bind(invoice)
        .bind(invoice)
        .bind(status)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let url = format!("sqlite:{}", path.display());
    epay_proxy::store::migrate(&url).await.unwrap();
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).connect().await.unwrap();
    let captured: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT invoice_id, captured_minor FROM orders ORDER BY invoice_id").fetch_all(&mut conn).await.unwrap();
    assert_eq!(captured, [("100000000001".to_owned(), Some(150_000)), ("100000000002".to_owned(), None)]);
}
