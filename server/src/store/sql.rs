//! `columns!`, which names a row type's columns once for every statement that reads them, and
//! secrets as a column type. The enums are stored as text by their wire names (an unknown name
//! read back is an error, not a default) where they are defined, in `epay_api_types::sql`.

/// A row type's columns: `columns!(Row, COLUMNS, from_row; a, b, ...)` defines `COLUMNS`
/// ("a, b, ...", for a SELECT) and `from_row`, which maps a row selected with them into
/// `Row { a, b, ... }` (column names are the field names).
macro_rules! columns {
    ($row:ident, $columns:ident, $from_row:ident; $first:ident $(, $field:ident)* $(,)?) => {
        pub(crate) const $columns: &str = concat!(stringify!($first) $(, ", ", stringify!($field))*);

        pub(crate) fn $from_row(row: &$crate::store::db::Row<'_>) -> Result<$row, $crate::store::error::StoreError> {
            let mut column = 0..;
            let mut next = || column.next().unwrap_or_default();
            Ok($row { $first: row.get(next())?, $($field: row.get(next())?),* })
        }
    };
}
pub(crate) use columns;

use epay_api_types::sql::{postgres_types, rusqlite};

use crate::secrets::SecretText;

impl rusqlite::ToSql for SecretText {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.expose().to_sql()
    }
}

impl rusqlite::types::FromSql for SecretText {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        Ok(SecretText::new(value.as_str()?.to_owned()))
    }
}

impl postgres_types::ToSql for SecretText {
    fn to_sql(
        &self,
        ty: &postgres_types::Type,
        out: &mut postgres_types::private::BytesMut,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.expose().to_sql(ty, out)
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        <&str as postgres_types::ToSql>::accepts(ty)
    }

    postgres_types::to_sql_checked!();
}

impl<'a> postgres_types::FromSql<'a> for SecretText {
    fn from_sql(ty: &postgres_types::Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(SecretText::new(String::from_sql(ty, raw)?))
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        <String as postgres_types::FromSql>::accepts(ty)
    }
}

/// A list bound as one parameter: a JSON array on SQLite (read with `json_each(?)`), an array
/// on PostgreSQL (read with `= ANY(?)`), so a statement takes any number of values and is
/// prepared once.
#[derive(Debug)]
pub struct List<T>(pub Vec<T>);

impl<T: serde::Serialize> rusqlite::ToSql for List<T> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        let json = serde_json::to_string(&self.0).map_err(|err| rusqlite::Error::ToSqlConversionFailure(err.into()))?;
        Ok(rusqlite::types::ToSqlOutput::Owned(rusqlite::types::Value::Text(json)))
    }
}

impl<T: postgres_types::ToSql + std::fmt::Debug> postgres_types::ToSql for List<T> {
    fn to_sql(
        &self,
        ty: &postgres_types::Type,
        out: &mut postgres_types::private::BytesMut,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        <Vec<T> as postgres_types::ToSql>::accepts(ty)
    }

    postgres_types::to_sql_checked!();
}
