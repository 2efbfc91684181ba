//! The store a test runs on: a SQLite file in the test's directory, or, when
//! `EPAY_TEST_POSTGRES` names a PostgreSQL server (`postgres://user@host:port/postgres`), a
//! database of its own on it, created for the test and dropped after it. `scripts/test` runs
//! the whole suite both ways.

use std::path::Path;

use epay_proxy::store::{Conn, Row, StoreError};

/// The admin URL of the PostgreSQL server the suite runs against, if it does.
pub fn postgres_server() -> Option<String> {
    std::env::var("EPAY_TEST_POSTGRES").ok().filter(|url| !url.is_empty())
}

/// A fresh store for one test: its `DATABASE_URL`, and what drops it afterwards.
pub struct TestDatabase {
    pub url: String,
    /// The PostgreSQL database to drop (`None` on SQLite: the file goes with the directory).
    dropped: Option<(String, String)>,
}

impl TestDatabase {
    pub fn new(dir: &Path) -> TestDatabase {
        let Some(server) = postgres_server() else {
            return TestDatabase { url: format!("sqlite:{}", dir.join("orders.sqlite3").display()), dropped: None };
        };
        let name = format!("epay_test_{:016x}", rand::random::<u64>());
        admin(&server, &format!("CREATE DATABASE {name}"));
        let (base, _) = server.rsplit_once('/').expect("EPAY_TEST_POSTGRES ends with a database name");
        TestDatabase { url: format!("{base}/{name}"), dropped: Some((server, name)) }
    }

    pub fn is_postgres(&self) -> bool {
        self.dropped.is_some()
    }
}

impl TestDatabase {
    /// Ends every connection to this test's PostgreSQL database (as a server restart does),
    /// from the server's side.
    pub fn drop_connections(&self) {
        if let Some((server, name)) = &self.dropped {
            admin(server, &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"));
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.dropped.take() {
            // The proxy under test may still hold connections (its background tasks outlive
            // the test's server): FORCE ends them.
            admin(&server, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// Runs one statement on the server's admin database, on a thread of its own (the
/// synchronous client must not run on the test's runtime threads).
fn admin(server: &str, sql: &str) {
    let (server, sql) = (server.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&server, postgres::NoTls).expect("connect to EPAY_TEST_POSTGRES");
        client.batch_execute(&sql).unwrap_or_else(|err| panic!("{sql}: {err}"));
    })
    .join()
    .expect("admin statement");
}

/// Reads what a test wants to see, straight from the store behind `url`, on a read-only
/// connection of the test's own (as an operator's tool would look).
pub async fn read<T, F>(url: &str, read: F) -> T
where
    T: Send + 'static,
    F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
{
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || read(&mut Conn::open_read_only(&url)?)).await.expect("read thread").expect("read the store")
}

/// Column 0 of every row.
pub fn first<T: epay_proxy::store::db::Column>(row: &Row<'_>) -> Result<T, StoreError> {
    row.get(0)
}

/// Columns 0 and 1 of every row.
pub fn pair<A: epay_proxy::store::db::Column, B: epay_proxy::store::db::Column>(row: &Row<'_>) -> Result<(A, B), StoreError> {
    Ok((row.get(0)?, row.get(1)?))
}
