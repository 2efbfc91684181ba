//! The order store: SQLite (the default: one file, WAL, full fsync, one writer with group
//! commit) or PostgreSQL (several proxies sharing one database). Migrations run at open.
//! Writes run only inside `Store::write`, on a transaction (`Tx`) nothing else can hand out;
//! reads run on a pool of connections (`Store::read`). The statements are the same on both
//! (`db`); where the two databases differ, `Dialect` says which one a connection talks to.
//!
//! On SQLite the writer is a connection of its own on a thread of its own: a statement there
//! is a function call. Through sqlx every statement was a message to sqlx's worker thread and
//! an answer back, and those switches were most of the proxy's CPU per checkout and per
//! postLink (docs/performance.md).

pub mod admin;
pub mod backlog;
mod checkpoint;
pub mod db;
mod error;
pub mod leases;
pub mod notifications;
pub mod operations;
pub mod orders;
mod sql;
pub mod webhooks;
mod writer;

use std::sync::Arc;

use tokio::sync::Notify;

pub use crate::params;
pub use db::{Conn, Dialect, Param, Row, is_postgres, unique_violation};
use db::{Pool, sqlite};
pub use error::StoreError;

/// The store's own metrics (`/metrics` describes them): how long a write transaction held
/// the store, and how many writes one SQLite batch committed.
pub const STORE_WRITE: &str = "epay_proxy_store_write_seconds";
pub const STORE_BATCH_JOBS: &str = "epay_proxy_store_write_batch_jobs";

/// Connections that read (and, on PostgreSQL, that write) per instance.
const READERS: usize = 8;
const PG_WRITERS: usize = 16;

#[derive(Clone)]
pub struct Store {
    writer: Writer,
    reader: Pool,
    dialect: Dialect,
    /// Told after every commit (the webhook worker waits on it: a change may have written an
    /// event).
    commits: Arc<Notify>,
}

#[derive(Clone)]
enum Writer {
    /// SQLite: one connection, group commit (`writer.rs`).
    GroupCommit(writer::Writer),
    /// PostgreSQL: a transaction per job on a pool of connections; the server groups the
    /// commits of concurrent transactions into one WAL flush itself.
    PerJob(Pool),
}

impl Store {
    /// Opens the database behind `database_url` (`sqlite:…`, created if needed, or
    /// `postgres://…`) and brings its schema up to date.
    pub async fn open(database_url: &str) -> Result<Store, StoreError> {
        migrate(database_url).await?;
        let commits = Arc::new(Notify::new());
        if is_postgres(database_url) {
            let url = database_url.to_owned();
            let connect = move |read_only| {
                let url = url.clone();
                move || Ok(Conn::Postgres(Box::new(db::postgres::PgConn::connect(&url, read_only)?)))
            };
            return Ok(Store {
                writer: Writer::PerJob(Pool::new("store-write", PG_WRITERS, connect(false))),
                reader: Pool::new("store-read", READERS, connect(true)),
                dialect: Dialect::Postgres,
                commits,
            });
        }
        let path = sqlite::path_of(database_url).to_owned();
        let writer_path = path.clone();
        let (conn, checkpoints) = tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((sqlite::writer(&writer_path)?, checkpoint::start(sqlite::connection(&writer_path)?)))
        })
        .await
        .map_err(|_| StoreError::JobPanicked)??;
        let writer = writer::Writer::start(Conn::Sqlite(conn), commits.clone(), checkpoints);
        let reader = Pool::new("store-read", READERS, move || Ok(Conn::Sqlite(sqlite::reader(&path)?)));
        Ok(Store { writer: Writer::GroupCommit(writer), reader, dialect: Dialect::Sqlite, commits })
    }

    /// Runs `job` inside a transaction that is committed before this returns. An `Err` from
    /// the job rolls back its writes (and only its own). On PostgreSQL a job whose connection
    /// is lost before its commit runs again from the start on a new one (so a job must not do
    /// anything but its statements).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            Writer::GroupCommit(writer) => writer.write(job).await,
            Writer::PerJob(pool) => {
                let fresh = pool.clone();
                let result = pool
                    .run(move |conn| {
                        let started = std::time::Instant::now();
                        let result = transaction(conn, &fresh, job);
                        metrics::histogram!(STORE_WRITE, "store" => "postgres").record(started.elapsed().as_secs_f64());
                        result
                    })
                    .await;
                // A failed job rolled back: nothing new for the webhook worker to look at.
                if result.is_ok() {
                    self.commits.notify_one();
                }
                result
            }
        }
    }

    /// Runs `read` on a connection that sees every committed write. A connection that turns
    /// out lost (the PostgreSQL server restarted or ended it since it was last used) is
    /// replaced and the read runs again.
    pub async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let fresh = self.reader.clone();
        self.reader
            .run(move |conn| {
                let mut tries = 1;
                loop {
                    let result = if tries == 1 { read(conn) } else { fresh.reconnect(conn).and_then(|()| read(conn)) };
                    match result {
                        Err(err) if tries < RUNS_ON_LOST_CONNECTIONS && (conn.lost_by(&err) || !conn.is_usable()) => {
                            tracing::warn!(error = %err, "a store connection was lost; reading again on a new one");
                            std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(tries)));
                            tries += 1;
                        }
                        result => return result,
                    }
                }
            })
            .await
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Resolves after the next commit (or at once if one happened since the last call).
    pub async fn committed(&self) {
        self.commits.notified().await
    }
}

/// A statement that reads nothing: whether the store answers (`/healthz`).
pub fn ping(db: &mut Conn) -> Result<(), StoreError> {
    db.query_one("SELECT 1", &[], |row| row.get::<i32>(0)).map(|_| ())
}

/// `database_url` as it may be shown (a log line, an error): without its password.
pub fn shown_url(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.to_string()
        }
        _ => database_url.to_owned(),
    }
}

/// Brings the schema behind `database_url` up to date (`epay-proxy migrate`, and every
/// start). Several instances starting at once are safe: sqlx holds a lock while it migrates.
pub async fn migrate(database_url: &str) -> Result<(), StoreError> {
    use sqlx::{ConnectOptions, Connection};
    if is_postgres(database_url) {
        let mut options = database_url.parse::<sqlx::postgres::PgConnectOptions>()?;
        // `require` means verified, as for the proxy's own connections (db/postgres.rs).
        if matches!(options.get_ssl_mode(), sqlx::postgres::PgSslMode::Require) {
            options = options.ssl_mode(sqlx::postgres::PgSslMode::VerifyFull);
        }
        let mut conn: sqlx::PgConnection = options.connect().await?;
        sqlx::migrate!("./migrations/postgres").run(&mut conn).await?;
        return Ok(conn.close().await?);
    }
    if !database_url.starts_with("sqlite:") {
        return Err(StoreError::UnknownDatabase);
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(sqlite::path_of(database_url))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(sqlite::BUSY_TIMEOUT);
    let mut conn = options.connect().await?;
    sqlx::migrate!("./migrations/sqlite").run(&mut conn).await?;
    Ok(conn.close().await?)
}

/// How often a job meets a lost connection before its caller is told (each on a new one,
/// after a pause of a few milliseconds more each time).
const RUNS_ON_LOST_CONNECTIONS: u32 = 5;

/// How a transaction ended, when it did not end well.
enum Ended {
    /// The job's own error, or the database's: nothing was committed.
    Failed(StoreError),
    /// The connection was lost before the COMMIT was sent: nothing was committed.
    Lost(StoreError),
    /// The connection was lost at the COMMIT: the transaction `id` may or may not have
    /// committed; `value` is what the job returned.
    AtCommit { id: i64, error: StoreError },
}

/// One job in a transaction of its own (PostgreSQL). A lost connection (the server restarted,
/// or ended it: a failover, a pooler) never costs the caller's request: the job runs again
/// from the start on a new connection; lost at the COMMIT, the transaction's id tells whether
/// it committed (then its result stands) or not (then it runs again).
fn transaction<T>(conn: &mut Conn, pool: &Pool, mut job: impl FnMut(&mut Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut runs = 0;
    let mut fresh = !conn.is_usable();
    loop {
        runs += 1;
        let connected = if fresh { pool.reconnect(conn) } else { Ok(()) };
        let error = match connected.map(|()| run_once(conn, &mut job)) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err((Ended::Failed(error), _))) => return Err(error),
            // Could not connect (the server is ending sessions, restarting): try again.
            Err(error) | Ok(Err((Ended::Lost(error), _))) => error,
            Ok(Err((Ended::AtCommit { id, error }, value))) => match commit_outcome(conn, pool, id)? {
                true => return value.ok_or(error),
                false => error,
            },
        };
        tracing::warn!(error = %error, runs, "a store connection was lost; the write runs again on a new one");
        if runs >= RUNS_ON_LOST_CONNECTIONS {
            return Err(error);
        }
        std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(runs)));
        fresh = true;
    }
}

/// One run of `job`: BEGIN (with the transaction's id), the job, COMMIT.
fn run_once<T>(conn: &mut Conn, job: &mut impl FnMut(&mut Tx<'_>) -> Result<T, StoreError>) -> Result<T, (Ended, Option<T>)> {
    let begun = match conn {
        Conn::Postgres(pg) => pg.begin_with_id(),
        Conn::Sqlite(_) => Err(StoreError::Closed),
    };
    let id = match begun {
        Ok(id) => id,
        Err(error) if conn.lost_by(&error) => return Err((Ended::Lost(error), None)),
        Err(error) => return Err((Ended::Failed(error), None)),
    };
    conn.set_writing(true);
    let result = job(&mut Tx { conn: &mut *conn });
    conn.set_writing(false);
    match result {
        Ok(value) => match conn.batch("COMMIT") {
            Ok(()) => Ok(value),
            Err(error) if conn.lost_by(&error) => Err((Ended::AtCommit { id, error }, Some(value))),
            Err(error) => Err((Ended::Failed(StoreError::Commit(error.to_string())), None)),
        },
        Err(error) => {
            let lost = conn.lost_by(&error);
            let _ = conn.batch("ROLLBACK");
            Err((if lost { Ended::Lost(error) } else { Ended::Failed(error) }, None))
        }
    }
}

/// Whether the transaction `id`, whose connection was lost at its COMMIT, committed: asked on
/// a new connection (and again on another if that one is lost too), and again while the
/// server is still ending the old session.
fn commit_outcome(conn: &mut Conn, pool: &Pool, id: i64) -> Result<bool, StoreError> {
    let mut last = None;
    for attempt in 0..50u64 {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if let Err(error) = pool.reconnect(conn) {
            last = Some(error);
            continue;
        }
        let Conn::Postgres(pg) = conn else { return Ok(false) };
        match pg.committed(id) {
            Ok(Some(committed)) => return Ok(committed),
            Ok(None) => {}
            Err(error) => last = Some(error),
        }
    }
    Err(StoreError::Commit(format!("whether transaction {id} committed cannot be told after its connection was lost ({last:?})")))
}

/// The write transaction a job of `Store::write` runs in. Only the store makes one, so a
/// function that takes `&mut Tx` can only run inside `Store::write`. It reads like any
/// connection (`Deref<Target = Conn>`), so the readers' functions work inside a job too.
pub struct Tx<'c> {
    conn: &'c mut Conn,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Tx<'_> {
    /// Runs one statement; how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        self.conn.execute(sql, params)
    }

    /// Runs `step` so that, if it fails, its writes are undone and the transaction goes on (a
    /// savepoint: after an error PostgreSQL refuses every statement until one is rolled back).
    pub fn attempt<T>(&mut self, step: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.conn.batch("SAVEPOINT attempt")?;
        match step(self) {
            Ok(value) => {
                self.conn.batch("RELEASE SAVEPOINT attempt")?;
                Ok(value)
            }
            Err(err) => {
                self.conn.batch("ROLLBACK TO SAVEPOINT attempt; RELEASE SAVEPOINT attempt")?;
                Err(err)
            }
        }
    }

    /// SQLite's plan for `sql` (`EXPLAIN QUERY PLAN`), one step per line.
    #[cfg(test)]
    pub fn query_plan(&mut self, sql: &str) -> Result<Vec<String>, StoreError> {
        let Conn::Sqlite(conn) = &mut *self.conn else { return Ok(Vec::new()) };
        let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let nulls = vec![rusqlite::types::Null; statement.parameter_count()];
        let steps = statement.query_map(rusqlite::params_from_iter(nulls), |row| row.get::<_, String>(3))?;
        Ok(steps.collect::<Result<_, _>>()?)
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
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_failing_job_rolls_back_alone_inside_a_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        store.write(|tx| tx.execute("CREATE TABLE t (v TEXT)", params![]).map(|_| ())).await.unwrap();

        let insert = |value: &'static str, fail: bool| {
            let store = store.clone();
            async move {
                store
                    .write(move |tx| {
                        tx.execute("INSERT INTO t (v) VALUES (?)", params![value])?;
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
        let kept = store.read(|db| db.query_all("SELECT v FROM t ORDER BY v", params![], |row| row.get::<String>(0))).await.unwrap();
        assert_eq!(kept, ["a", "c"]);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}", dir.path().join("t.sqlite3").display())).await.unwrap();
        store.write(|tx| tx.execute("CREATE TABLE t (v TEXT)", params![]).map(|_| ())).await.unwrap();
        let panicked = store
            .write(|tx| {
                tx.execute("INSERT INTO t (v) VALUES ('lost')", params![])?;
                panic!("a bug in a job");
                #[allow(unreachable_code)]
                Ok(())
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::JobPanicked)));
        store.write(|tx| tx.execute("INSERT INTO t (v) VALUES ('kept')", params![]).map(|_| ())).await.unwrap();
        let kept = store.read(|db| db.query_all("SELECT v FROM t", params![], |row| row.get::<String>(0))).await.unwrap();
        assert_eq!(kept, ["kept"]);
    }
}
