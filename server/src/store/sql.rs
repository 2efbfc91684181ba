//! The proxy's own column types for the writer's connection (rusqlite), stored by the same
//! names sqlx uses for the readers: an unknown name read back is an error, not a default.

/// A row type's columns for the writer's own reads: `columns!(Row, COLUMNS, from_row; a, b, ...)`
/// defines `COLUMNS` ("a, b, ...", for a SELECT) and `from_row`, which maps a row selected
/// with them into `Row { a, b, ... }` (column names are the field names). Each column is named
/// once; the readers' sqlx lists are checked against these by tests that read a row both ways.
macro_rules! columns {
    ($row:ident, $columns:ident, $from_row:ident; $first:ident $(, $field:ident)* $(,)?) => {
        const $columns: &str = concat!(stringify!($first) $(, ", ", stringify!($field))*);

        fn $from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<$row> {
            let mut column = 0..;
            let mut next = || column.next().unwrap_or_default();
            Ok($row { $first: row.get(next())?, $($field: row.get(next())?),* })
        }
    };
}
pub(crate) use columns;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use super::notifications::{Endpoint, Verdict};
use super::orders::OrderState;
use crate::secrets::SecretText;

/// The message of a UNIQUE (or PRIMARY KEY) constraint failure, which names the columns.
pub fn unique_violation(err: &rusqlite::Error) -> Option<&str> {
    match err {
        rusqlite::Error::SqliteFailure(e, message)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            Some(message.as_deref().unwrap_or(""))
        }
        _ => None,
    }
}

fn text(value: &'static str) -> rusqlite::Result<ToSqlOutput<'static>> {
    Ok(ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes())))
}

impl ToSql for OrderState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        text(self.name())
    }
}

impl FromSql for OrderState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        OrderState::ALL
            .into_iter()
            .find(|state| state.name() == name)
            .ok_or_else(|| FromSqlError::Other(format!("`{name}` is not an order state").into()))
    }
}

impl ToSql for Verdict {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        text(self.name())
    }
}

impl ToSql for Endpoint {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        text(self.name())
    }
}

impl ToSql for SecretText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.expose().as_bytes())))
    }
}

impl FromSql for SecretText {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Ok(SecretText::new(value.as_str()?.to_owned()))
    }
}
