//! The order store: SQLite in WAL mode with full fsync, one writer (group commit) and a pool
//! of readers. Migrations run at open. Writes run only inside `Store::write`, on the writer's
//! transaction (`Tx`), which nothing else can hand out.

pub mod notifications;
pub mod operations;
pub mod orders;
pub mod webhooks;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection};

use writer::Writer;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
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
            .busy_timeout(Duration::from_secs(10));

        let mut writer_conn: SqliteConnection = options.clone().connect().await?;
        sqlx::migrate!("./migrations").run(&mut writer_conn).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        let commits = std::sync::Arc::new(tokio::sync::Notify::new());
        Ok(Store { writer: Writer::start(Tx { conn: writer_conn }, commits.clone()), reader, commits })
    }

    /// Runs `job` on the writer connection inside the next committed transaction.
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: AsyncFnOnce(&mut Tx) -> Result<T, StoreError> + Send + 'static,
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

/// The write transaction a job of `Store::write` runs in. Only the writer makes one, so a
/// function that takes `&mut Tx` can only run inside `Store::write`.
pub struct Tx {
    conn: SqliteConnection,
}

impl Tx {
    /// The connection, for the statements of this transaction.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
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
        store.write(async |tx| Ok(sqlx::query("CREATE TABLE t (v TEXT)").execute(tx.conn()).await.map(|_| ())?)).await.unwrap();

        let insert = |value: &'static str, fail: bool| {
            let store = store.clone();
            async move {
                store
                    .write(async move |tx| {
                        sqlx::query("INSERT INTO t (v) VALUES (?)").bind(value).execute(tx.conn()).await?;
                        if fail { Err(StoreError::Closed) } else { Ok(()) }
                    })
                    .await
            }
        };
        // A first job holds the writer while the four others queue: they share the next batch.
        let hold = store.write(async |_conn| {
            tokio::time::sleep(Duration::from_millis(200)).await;
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
}
