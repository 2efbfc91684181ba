//! The order store: SQLite in WAL mode with full fsync, one writer (group commit) and a pool
//! of readers. Migrations run at open. Writes run only inside `Store::write`, on the writer's
//! transaction (`Tx`), which nothing else can hand out.
//!
//! The writer is a connection of its own (rusqlite) on a thread of its own: a statement there
//! is a function call. Through sqlx every statement was a message to sqlx's worker thread and
//! an answer back, two context switches, and those switches were most of the proxy's CPU per
//! checkout and per postLink (docs/performance.md). The readers stay on sqlx, whose queries
//! are checked against the schema at compile time.

mod checkpoint;
pub mod notifications;
pub mod operations;
pub mod orders;
mod sql;
pub mod webhooks;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{OptionalExtension, Params, Row};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

pub(crate) use sql::unique_violation;
use writer::Writer;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the store is closed")]
    Closed,
    #[error("a write job panicked")]
    JobPanicked,
    #[error("could not allocate a unique invoice id")]
    InvoiceIdsExhausted,
    #[error("order {0} is not in the store")]
    Vanished(i64),
}

/// Every connection waits this long for a lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Store {
    writer: Writer,
    reader: SqlitePool,
    /// Told after every commit (the webhook worker waits on it: a trigger may have written an
    /// event).
    commits: std::sync::Arc<tokio::sync::Notify>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database behind `database_url`.
    pub async fn open(database_url: &str) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An acknowledged postLink must survive a crash, and a power cut: fsync each
            // commit. Group commit keeps that affordable.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);

        let mut migrator: SqliteConnection = options.clone().connect().await?;
        sqlx::migrate!("./migrations").run(&mut migrator).await?;
        migrator.close().await?;
        let path = options.get_filename().to_owned();
        let (conn, checkpoints) =
            tokio::task::spawn_blocking(move || Ok::<_, StoreError>((writer_connection(&path)?, checkpoint::start(connection(&path)?))))
                .await
                .map_err(|_| StoreError::JobPanicked)??;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        let commits = std::sync::Arc::new(tokio::sync::Notify::new());
        Ok(Store { writer: Writer::start(Tx { conn }, commits.clone(), checkpoints), reader, commits })
    }

    /// Runs `job` on the writer connection inside the next committed transaction.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(job).await
    }

    /// Connections for reads; they see every committed write.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Resolves after the next commit (or at once if one happened since the last call).
    pub async fn committed(&self) {
        self.commits.notified().await
    }
}

/// A rusqlite connection of the store's own (the writer's, the checkpoints'), waiting for
/// locks as long as the readers do.
fn connection(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The writer's connection, with the settings sqlx gives the readers: WAL (already the
/// file's mode), an fsync per commit, foreign keys, the same busy timeout.
fn writer_connection(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = connection(path)?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    // The writer never checkpoints: a commit that had to copy the WAL into the database
    // first would keep every caller of its batch waiting (300 ms at p99 under load, measured).
    // `checkpoint` does it beside the writer.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    // Each statement is prepared once and kept: a checkout or a postLink runs a handful.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// The write transaction a job of `Store::write` runs in. Only the writer makes one, so a
/// function that takes `&mut Tx` can only run inside `Store::write`.
pub struct Tx {
    conn: rusqlite::Connection,
}

impl Tx {
    /// Runs one statement; how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: impl Params) -> Result<u64, StoreError> {
        Ok(self.conn.prepare_cached(sql)?.execute(params)? as u64)
    }

    /// The first row `sql` returns, mapped by `map`, if there is one.
    pub fn query_optional<T>(
        &mut self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.conn.prepare_cached(sql)?.query_row(params, map).optional()?)
    }

    /// SQLite's plan for `sql` (`EXPLAIN QUERY PLAN`), one step per line.
    pub fn query_plan(&mut self, sql: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let count = statement.parameter_count();
        let nulls = vec![rusqlite::types::Null; count];
        let steps = statement.query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))?;
        Ok(steps.collect::<Result<_, _>>()?)
    }

    /// The row `sql` returns, mapped by `map`; an error when there is none.
    pub fn query_one<T>(
        &mut self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        Ok(self.conn.prepare_cached(sql)?.query_row(params, map)?)
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    now_ms() / 1000
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_inside_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        store.write(|tx| tx.execute("CREATE TABLE t (v TEXT)", []).map(|_| ())).await.unwrap();

        let insert = |value: &'static str, fail: bool| {
            let store = store.clone();
            async move {
                store
                    .write(move |tx| {
                        tx.execute("INSERT INTO t (v) VALUES (?)", [value])?;
                        if fail { Err(StoreError::Closed) } else { Ok(()) }
                    })
                    .await
            }
        };
        // A first job holds the writer while the four others queue: they share the next batch.
        let hold = store.write(|_tx| {
            std::thread::sleep(Duration::from_millis(200));
            Ok(())
        });
        let queued = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            futures::future::join_all([insert("a", false), insert("b", true), insert("c", false), insert("d", true)]).await
        };
        let (held, results) = tokio::join!(hold, queued);
        held.unwrap();
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok() && results[3].is_err());
        let kept: Vec<String> = sqlx::query_scalar("SELECT v FROM t ORDER BY v").fetch_all(store.reader()).await.unwrap();
        assert_eq!(kept, ["a", "c"]);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        store.write(|tx| tx.execute("CREATE TABLE t (v TEXT)", []).map(|_| ())).await.unwrap();
        let panicked = store
            .write(|tx| {
                tx.execute("INSERT INTO t (v) VALUES ('lost')", [])?;
                panic!("a bug in a job");
                #[allow(unreachable_code)]
                Ok(())
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::JobPanicked)));
        store.write(|tx| tx.execute("INSERT INTO t (v) VALUES ('kept')", []).map(|_| ())).await.unwrap();
        let kept: Vec<String> = sqlx::query_scalar("SELECT v FROM t").fetch_all(store.reader()).await.unwrap();
        assert_eq!(kept, ["kept"]);
    }
}
