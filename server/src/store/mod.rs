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
pub mod cards;
mod checkpoint;
pub mod clock;
pub mod db;
mod error;
pub mod leases;
pub mod notifications;
pub mod operations;
pub mod orders;
mod pg_writer;
pub mod receipts;
mod sql;
pub mod subscriptions;
pub mod webhooks;
mod writer;

use std::sync::Arc;

use tokio::sync::Notify;

pub use crate::params;
pub use db::{Conn, Dialect, Param, Row, is_postgres, unique_violation};
use db::{Pool, sqlite};
pub use error::StoreError;

/// The store's own metrics (`/metrics` describes them): how long a write transaction held
/// the store, and how many writes one batch committed (both stores batch).
pub const STORE_WRITE: &str = "epay_proxy_store_write_seconds";
pub const STORE_BATCH_JOBS: &str = "epay_proxy_store_write_batch_jobs";

/// Connections that read per instance.
const READERS: usize = 8;
/// Connections that write per instance on PostgreSQL, each a batch at a time (`pg_writer.rs`):
/// while one commits, the others run the next batches.
const PG_WRITERS: usize = 2;

/// How often a job meets a lost connection before its caller is told (each on a new one,
/// after a pause of a few milliseconds more each time).
const RUNS_ON_LOST_CONNECTIONS: u32 = 5;

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
    /// PostgreSQL: group commit too, on a few connections (`pg_writer.rs`).
    Batched(pg_writer::Writer),
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
                writer: Writer::Batched(pg_writer::Writer::start(PG_WRITERS, Pool::new("store-write", 0, connect(false)), commits.clone())),
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
    /// the job rolls back its writes (and only its own). On PostgreSQL a job may run more than
    /// once before its writes commit: again alone when its batch did not commit, and again on
    /// a new connection when its connection was lost. So a job does nothing but its statements,
    /// or does it once however often it runs, with a flag the job keeps (the open-orders count,
    /// `OpenOrders::added_once`; the postLink limiter, `postlink::Context::admits`).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_locking(None, job).await
    }

    /// `write` for a job that locks the order `key` names first (`orders::lock_by_id`,
    /// `lock_by_invoice`, or `orders::change`) and writes no other order (a postLink, a status
    /// answer, a recorded token). On PostgreSQL the jobs of a batch that name their orders have
    /// them read and locked in one statement, instead of a round trip each (docs/performance.md).
    pub async fn write_locking<T, F>(&self, key: Option<orders::OrderKey>, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            // One connection in the process: a read costs no round trip.
            Writer::GroupCommit(writer) => writer.write(job).await,
            Writer::Batched(writer) => writer.write(key, job).await,
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

    /// How many statements this store sent that ran several writes at once (PostgreSQL;
    /// `db/merge.rs`), for tests.
    #[doc(hidden)]
    pub fn statements_merged(&self) -> u64 {
        match &self.writer {
            Writer::GroupCommit(_) => 0,
            Writer::Batched(writer) => writer.statements_merged(),
        }
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

/// The write transaction a job of `Store::write` runs in. Only the store makes one, so a
/// function that takes `&mut Tx` can only run inside `Store::write`. It reads like any
/// connection (`Deref<Target = Conn>`), so the readers' functions work inside a job too.
pub struct Tx<'c> {
    conn: &'c mut Conn,
    /// Orders this job read locked, each with its state as this transaction now has it
    /// (`orders::lock_by_id`): `orders::change` need not read it again.
    locked_orders: Vec<(i64, orders::OrderState)>,
    /// The order this job named (`Store::write_locking`), read and locked by its batch before
    /// it ran: the job's first locking read of an order takes it (`orders::lock_by_id`).
    prefetched: Option<orders::OrderRow>,
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

impl<'c> Tx<'c> {
    pub(in crate::store) fn new(conn: &'c mut Conn) -> Tx<'c> {
        Tx { conn, locked_orders: Vec::new(), prefetched: None }
    }

    /// The state of order `id` as this job read it locked, and moved it since.
    pub(in crate::store) fn locked_state(&self, id: i64) -> Option<orders::OrderState> {
        self.locked_orders.iter().find(|(locked, _)| *locked == id).map(|(_, state)| *state)
    }

    /// Remembers order `id` as locked by this job, now in `state` (a locking read, a move).
    pub(in crate::store) fn remember_locked(&mut self, id: i64, state: orders::OrderState) {
        match self.locked_orders.iter_mut().find(|(locked, _)| *locked == id) {
            Some(entry) => entry.1 = state,
            None => self.locked_orders.push((id, state)),
        }
    }

    /// Forgets every state remembered: what was read may have been rolled back (a savepoint,
    /// or a job of the same batch that failed), so the next move reads it again.
    pub(in crate::store) fn forget_locked(&mut self) {
        self.locked_orders.clear();
    }

    /// Gives this job the order its batch read and locked for it (`pg_writer.rs`).
    pub(in crate::store) fn prefetch(&mut self, order: Option<orders::OrderRow>) {
        self.prefetched = order;
    }

    /// The order the batch read for this job, at the job's first locking read only, and only
    /// if the job wrote nothing before it (`execute`, `execute_later` and `attempt` drop it).
    pub(in crate::store) fn take_prefetched(&mut self) -> Option<orders::OrderRow> {
        self.prefetched.take()
    }

    /// Runs one statement; how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        // What the batch read for this job is as it was before the job wrote anything.
        self.prefetched = None;
        self.conn.execute(sql, params)
    }

    /// Runs one statement whose answer the job does not read (a history row, an event): on
    /// PostgreSQL it is sent with the job's next statement or its COMMIT, saving a round trip;
    /// if it fails, the job's transaction fails there.
    pub fn execute_later(&mut self, sql: &str, params: &[&dyn Param]) -> Result<(), StoreError> {
        self.prefetched = None;
        self.conn.execute_later(sql, params)
    }

    /// `execute_later` for a write that touches the rows of order `order` only: on PostgreSQL
    /// such writes of one text sent together run as one statement, `merged_form`, the same
    /// write with `{rows}` where its rows come from and `v.p1`, `v.p2`… for its values
    /// (`db/merge.rs`). Its rows must be its order's alone: a write that could collide with
    /// another order's (a unique value one order gives up and another takes) is no such write,
    /// as one statement checks its rows in an order of its own.
    pub fn execute_later_for_order(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        order: i64,
        merged_form: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        self.prefetched = None;
        self.conn.execute_later_for_order(sql, params, order, merged_form)
    }

    /// Notes that this transaction makes a webhook event due now: the webhook worker is told
    /// once it commits.
    pub fn made_event_due(&mut self) {
        self.conn.made_event_due();
    }

    /// Runs `step` so that, if it fails, its writes are undone and the transaction goes on (a
    /// savepoint: after an error PostgreSQL refuses every statement until one is rolled back).
    pub fn attempt<T>(&mut self, step: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.prefetched = None;
        self.conn.batch("SAVEPOINT attempt")?;
        // A write the step kept for later fails at the RELEASE it leaves with: that is the
        // step's failure too, and rolls back to the savepoint like one.
        match step(self).and_then(|value| self.conn.batch("RELEASE SAVEPOINT attempt").map(|()| value)) {
            Ok(value) => Ok(value),
            Err(err) => {
                self.forget_locked();
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
