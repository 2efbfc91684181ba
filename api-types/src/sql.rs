//! The shared enums as SQLite TEXT columns, by their wire names: a stored order reads back as
//! the same typed value, and an unknown name is an error, not a default. For sqlx (the
//! proxy's readers) and for rusqlite (its writer).

#[cfg(feature = "sqlx")]
use sqlx::encode::IsNull;
#[cfg(feature = "sqlx")]
use sqlx::error::BoxDynError;
#[cfg(feature = "sqlx")]
use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
#[cfg(feature = "sqlx")]
use sqlx::{Decode, Encode, Type};

use crate::{Language, PaymentMethod};

macro_rules! text_column {
    ($type:ty, $to_text:expr, $from_text:expr) => {
        #[cfg(feature = "sqlx")]
        sqlx_text_column!($type, $to_text, $from_text);
        #[cfg(feature = "rusqlite")]
        impl rusqlite::types::ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text($to_text(*self).as_bytes())))
            }
        }
        #[cfg(feature = "rusqlite")]
        impl rusqlite::types::FromSql for $type {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $from_text(text)
                    .ok_or_else(|| rusqlite::types::FromSqlError::Other(format!("`{text}` is not a {}", stringify!($type)).into()))
            }
        }
    };
}

#[cfg(feature = "sqlx")]
macro_rules! sqlx_text_column {
    ($type:ty, $to_text:expr, $from_text:expr) => {
        impl Type<Sqlite> for $type {
            fn type_info() -> SqliteTypeInfo {
                <str as Type<Sqlite>>::type_info()
            }
            fn compatible(ty: &SqliteTypeInfo) -> bool {
                <str as Type<Sqlite>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Sqlite> for $type {
            fn encode_by_ref(&self, buf: &mut Vec<SqliteArgumentValue<'q>>) -> Result<IsNull, BoxDynError> {
                let text: &'static str = $to_text(*self);
                <&str as Encode<'q, Sqlite>>::encode(text, buf)
            }
        }

        impl<'r> Decode<'r, Sqlite> for $type {
            fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
                $from_text(text).ok_or_else(|| format!("`{text}` is not a {}", stringify!($type)).into())
            }
        }
    };
}

text_column!(PaymentMethod, PaymentMethod::js_name, PaymentMethod::from_name);
text_column!(Language, Language::tag, Language::from_tag);
#[cfg(feature = "merchant")]
text_column!(crate::OrderSource, crate::OrderSource::as_str, crate::OrderSource::from_name);
