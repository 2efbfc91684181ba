//! What can go wrong in the store, for every caller.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("a value cannot be sent as its column's type: {0}")]
    Bind(String),
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
    #[error("order {id} may not move from {from} to {to}")]
    Forbidden { id: i64, from: &'static str, to: &'static str },
    #[error("the statement returned no row")]
    NoRow,
    #[error("DATABASE_URL must start with sqlite: or postgres://")]
    UnknownDatabase,
    #[error("TLS to PostgreSQL: {0}")]
    Tls(String),
}

impl StoreError {
    /// Whether a statement gave up waiting for a row lock (PostgreSQL's `lock_timeout`).
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, StoreError::Postgres(err) if err.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE))
    }
}
