//! SQLite through rusqlite: opening the store's file and binding values.

use std::path::Path;
use std::time::Duration;

use super::Param;
use crate::store::error::StoreError;

/// Every connection waits this long for a lock before it gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the store's file, waiting for locks as long as every other one does.
pub fn connection(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// The writer's connection: WAL (already the file's mode), an fsync per commit, foreign keys.
pub fn writer(path: &Path) -> Result<rusqlite::Connection, StoreError> {
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

/// A reader's connection: it cannot write.
pub fn reader(path: &Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

pub(super) fn params<'a>(params: &'a [&'a dyn Param]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(params.iter().map(|param| *param as &dyn rusqlite::ToSql))
}

/// The columns a UNIQUE (or PRIMARY KEY) constraint failure names.
pub(super) fn unique_violation(err: &rusqlite::Error) -> Option<String> {
    match err {
        rusqlite::Error::SqliteFailure(e, message)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Some(message.clone().unwrap_or_default())
        }
        _ => None,
    }
}

/// The file a `sqlite:` URL names (`sqlite:path`, `sqlite://path`, with `?options` ignored).
pub fn path_of(url: &str) -> &Path {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Path::new(rest.split('?').next().unwrap_or(rest))
}
