//! One way to run SQL on either store: SQLite (rusqlite) or PostgreSQL (postgres). The
//! proxy's statements are written once, with `?` placeholders, and run as they are on SQLite;
//! PostgreSQL gets them with `$1, $2…` (`postgres::numbered`). Values bind through `Param`
//! and read back through `Column`, which both drivers implement for every type the store
//! keeps, so a statement and its row mapping are the same code on both.
//!
//! Both drivers are synchronous: a connection is used on a thread of its own (SQLite's
//! writer) or on tokio's blocking pool (`Pool`), and a statement there is a function call.

mod merge;
mod pool;
pub mod postgres;
pub mod sqlite;

pub use pool::Pool;

use super::error::StoreError;

/// A value a statement binds: both drivers can send it.
pub trait Param: rusqlite::ToSql + ::postgres::types::ToSql + Sync {}
impl<T: rusqlite::ToSql + ::postgres::types::ToSql + Sync> Param for T {}

/// A value a row column reads back as: both drivers can decode it.
pub trait Column: rusqlite::types::FromSql + for<'a> ::postgres::types::FromSql<'a> {}
impl<T: rusqlite::types::FromSql + for<'a> ::postgres::types::FromSql<'a>> Column for T {}

/// The values of a statement's placeholders, in order: `params![a, b, c]`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$(&$value as &dyn $crate::store::db::Param),*] as &[&dyn $crate::store::db::Param]
    };
}

/// Which database a connection talks to, for the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection to the store, of either kind.
pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::PgConn>),
}

/// One row of a result, of either driver.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a ::postgres::Row),
}

impl Row<'_> {
    /// Column `index` (from 0), decoded as `T`.
    pub fn get<T: Column>(&self, index: usize) -> Result<T, StoreError> {
        Ok(match self {
            Row::Sqlite(row) => row.get(index)?,
            Row::Postgres(row) => row.try_get(index)?,
        })
    }
}

impl Conn {
    /// A connection of its own that only reads, to the store behind `database_url` (a tool
    /// or a test looking at a store while a proxy runs on it). Blocks: call it off the runtime.
    pub fn open_read_only(database_url: &str) -> Result<Conn, StoreError> {
        if is_postgres(database_url) {
            return Ok(Conn::Postgres(Box::new(postgres::PgConn::connect(database_url, true)?)));
        }
        Ok(Conn::Sqlite(sqlite::reader(sqlite::path_of(database_url))?))
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; how many rows it changed.
    pub(in crate::store) fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.prepare_cached(sql)?.execute(sqlite::params(params))? as u64),
            Conn::Postgres(conn) => conn.execute(sql, params),
        }
    }

    /// Runs one statement whose answer nobody reads: on PostgreSQL it leaves with the next
    /// statement that needs one (or the COMMIT), and its error comes back from that one.
    pub(in crate::store) fn execute_later(&mut self, sql: &str, params: &[&dyn Param]) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(conn) => conn.prepare_cached(sql)?.execute(sqlite::params(params)).map(drop).map_err(Into::into),
            Conn::Postgres(conn) => conn.execute_later(sql, params),
        }
    }

    /// `execute_later` for a write that touches the rows of order `order` only (its row, its
    /// history, its notifications): on PostgreSQL, sent together with others of its text, it
    /// runs with them as one statement, `merged_form` (`PgConn::execute_later_for_order`).
    pub(in crate::store) fn execute_later_for_order(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        order: i64,
        merged_form: impl FnOnce() -> String,
    ) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(_) => self.execute_later(sql, params),
            Conn::Postgres(conn) => conn.execute_later_for_order(sql, params, order, merged_form),
        }
    }

    /// How many statements that ran several writes at once were sent since the last call.
    pub(in crate::store) fn take_merged(&mut self) -> u64 {
        match self {
            Conn::Sqlite(_) => 0,
            Conn::Postgres(conn) => std::mem::take(&mut conn.merged),
        }
    }

    /// Runs statements without parameters or results (`BEGIN`, `SAVEPOINT`…).
    pub(in crate::store) fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Conn::Postgres(conn) => conn.batch(sql),
        }
    }

    /// Every row `sql` returns, mapped by `map`.
    pub fn query_all<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(sqlite::params(params))?;
                let mut mapped = Vec::new();
                while let Some(row) = rows.next()? {
                    mapped.push(map(&Row::Sqlite(row))?);
                }
                Ok(mapped)
            }
            Conn::Postgres(conn) => conn.query(sql, params)?.iter().map(|row| map(&Row::Postgres(row))).collect(),
        }
    }

    /// As `query_all`, but planned for `params`' values each time on PostgreSQL (its plan made
    /// once for any values can be far worse, `PgConn::query_planned_for_values`).
    pub fn query_all_planned_for_values<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Conn::Sqlite(_) => self.query_all(sql, params, map),
            Conn::Postgres(conn) => conn.query_planned_for_values(sql, params)?.iter().map(|row| map(&Row::Postgres(row))).collect(),
        }
    }

    /// The first row `sql` returns, mapped by `map`, if there is one.
    pub fn query_optional<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Conn::Sqlite(conn) => {
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(sqlite::params(params))?;
                rows.next()?.map(|row| map(&Row::Sqlite(row))).transpose()
            }
            Conn::Postgres(conn) => conn.query(sql, params)?.first().map(|row| map(&Row::Postgres(row))).transpose(),
        }
    }

    /// The row `sql` returns, mapped by `map`; an error when there is none.
    pub fn query_one<T>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.query_optional(sql, params, map)?.ok_or(StoreError::NoRow)
    }

    /// What a claim's subquery ends with to lock the rows it picks, skipping rows another
    /// transaction holds: on PostgreSQL several instances claim at once; SQLite has one writer.
    pub fn skip_locked(&self) -> &'static str {
        match self {
            Conn::Sqlite(_) => "",
            Conn::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// What a `SELECT` of whole rows inside a write job ends with, so that what the job decides
    /// on cannot change before it commits: on PostgreSQL, where transactions of several
    /// instances run at once, `FOR UPDATE` (another job that wants the row waits for this one's
    /// commit and then reads the row as it left it); SQLite's one writer needs nothing.
    pub fn for_update(&self) -> &'static str {
        match self {
            Conn::Postgres(conn) if conn.writing => "FOR UPDATE",
            _ => "",
        }
    }

    /// Starts a write transaction (PostgreSQL), waiting briefly or as usual for row locks.
    pub(in crate::store) fn begin(&mut self, short_lock_wait: bool) {
        if let Conn::Postgres(conn) = self {
            conn.begin(short_lock_wait);
        }
    }

    /// Commits the write transaction (begun by `begin` on PostgreSQL, by SQLite's writer for its
    /// batch), with the writes kept for later.
    pub(in crate::store) fn commit(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch("COMMIT")?),
            Conn::Postgres(conn) => conn.commit(),
        }
    }

    /// Rolls back the write transaction; the writes kept for later are never sent.
    pub(in crate::store) fn rollback(&mut self) -> Result<(), StoreError> {
        match self {
            Conn::Sqlite(conn) => Ok(conn.execute_batch("ROLLBACK")?),
            Conn::Postgres(conn) => conn.rollback(),
        }
    }

    /// Notes that the transaction makes a webhook event due now (PostgreSQL: the webhook worker
    /// is woken after such a commit only; SQLite's writer wakes it after every batch).
    pub(in crate::store) fn made_event_due(&mut self) {
        if let Conn::Postgres(conn) = self {
            conn.event_due = true;
        }
    }

    /// Whether the last transaction made a webhook event due (`made_event_due`).
    pub(in crate::store) fn event_due(&self) -> bool {
        matches!(self, Conn::Postgres(conn) if conn.event_due)
    }

    /// The id of the PostgreSQL transaction begun, once its BEGIN has been answered.
    pub(in crate::store) fn transaction_id(&self) -> Option<i64> {
        match self {
            Conn::Sqlite(_) => None,
            Conn::Postgres(conn) => conn.transaction_id(),
        }
    }

    /// Marks the start and the end of a write job's transaction (`for_update`).
    pub(in crate::store) fn set_writing(&mut self, writing: bool) {
        if let Conn::Postgres(conn) = self {
            conn.writing = writing;
        }
    }

    /// Whether the connection can still be used (a PostgreSQL server may have gone away).
    pub(in crate::store) fn is_usable(&self) -> bool {
        match self {
            Conn::Sqlite(_) => true,
            Conn::Postgres(conn) => !conn.is_closed(),
        }
    }

    /// Whether `err`, met on this connection, means the connection is gone: what ran on it
    /// since the last commit did not happen, and the work may run again on a new one.
    pub(in crate::store) fn lost_by(&self, err: &StoreError) -> bool {
        match (self, err) {
            (Conn::Sqlite(_), _) => false,
            (Conn::Postgres(conn), StoreError::Postgres(err)) => conn.is_closed() || postgres::connection_lost(err),
            (Conn::Postgres(conn), _) => conn.is_closed(),
        }
    }
}

/// The constraint a failed statement violated, when it was a unique one: SQLite names the
/// columns ("orders.invoice_id"), PostgreSQL the constraint ("orders_invoice_id_key"). Both
/// contain the column's name.
pub fn unique_violation(err: &StoreError) -> Option<String> {
    match err {
        StoreError::Sqlite(err) => sqlite::unique_violation(err),
        StoreError::Postgres(err) => postgres::unique_violation(err),
        _ => None,
    }
}

/// Whether `database_url` names a PostgreSQL database.
pub fn is_postgres(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}
