//! TLS to PostgreSQL: `sslmode=require` in DATABASE_URL means encrypted and verified (the
//! server's certificate against `sslrootcert`, or the public roots, and its name).

use epay_proxy::params;
use epay_proxy::store::Store;

use crate::helpers::database::{self, TestDatabase};

#[tokio::test]
async fn postgresql_over_tls_is_verified() {
    let (Some(_), Ok(ca)) = (database::postgres_server(), std::env::var("EPAY_TEST_POSTGRES_CA")) else {
        eprintln!("needs PostgreSQL with TLS (EPAY_TEST_POSTGRES, EPAY_TEST_POSTGRES_CA): scripts/test runs it there");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let test_database = TestDatabase::new(dir.path());
    let url = &test_database.url;

    let store = Store::open(&format!("{url}?sslmode=require&sslrootcert={ca}")).await.expect("TLS with the server's CA");
    let encrypted: bool = store
        .read(|db| db.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", params![], database::first))
        .await
        .unwrap();
    assert!(encrypted, "the connection is encrypted");
    let migrated: i64 = store.read(|db| db.query_one("SELECT COUNT(*) FROM orders", params![], database::first)).await.unwrap();
    assert_eq!(migrated, 0);

    // A certificate no trusted CA signed, or made out to another name: no connection at all.
    assert!(Store::open(&format!("{url}?sslmode=require")).await.is_err(), "the public roots do not know the test CA");
    let other_name = url.replace("127.0.0.1", "localhost");
    assert!(Store::open(&format!("{other_name}?sslmode=require&sslrootcert={ca}")).await.is_err(), "the certificate is for 127.0.0.1");
    // The proxy's own connections verify too, not only the migrations'.
    let public_roots = format!("{url}?sslmode=require");
    let refused = tokio::task::spawn_blocking(move || epay_proxy::store::Conn::open_read_only(&public_roots).is_err()).await.unwrap();
    assert!(refused);
}
