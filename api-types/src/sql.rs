//! The shared enums as TEXT columns, by their wire names: a stored order reads back as the
//! same typed value, and an unknown name is an error, not a default. For the proxy's SQLite
//! store (rusqlite) and its PostgreSQL store (postgres). The proxy stores its own enums the
//! same way, through the same macro.

use crate::{Language, PaymentMethod};

#[doc(hidden)]
pub use {postgres_types, rusqlite};

/// `text_column!(Type, to_text, from_text)`: `Type` binds as the text `to_text` gives and
/// reads back through `from_text` (`None`: an error naming the text).
#[macro_export]
macro_rules! text_column {
    ($type:ty, $to_text:expr, $from_text:expr) => {
        impl $crate::sql::rusqlite::types::ToSql for $type {
            fn to_sql(&self) -> $crate::sql::rusqlite::Result<$crate::sql::rusqlite::types::ToSqlOutput<'_>> {
                Ok($crate::sql::rusqlite::types::ToSqlOutput::Borrowed($crate::sql::rusqlite::types::ValueRef::Text(
                    $to_text(*self).as_bytes(),
                )))
            }
        }
        impl $crate::sql::rusqlite::types::FromSql for $type {
            fn column_result(value: $crate::sql::rusqlite::types::ValueRef<'_>) -> $crate::sql::rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $from_text(text).ok_or_else(|| {
                    $crate::sql::rusqlite::types::FromSqlError::Other(format!("`{text}` is not a {}", stringify!($type)).into())
                })
            }
        }
        impl $crate::sql::postgres_types::ToSql for $type {
            fn to_sql(
                &self,
                ty: &$crate::sql::postgres_types::Type,
                out: &mut $crate::sql::postgres_types::private::BytesMut,
            ) -> Result<$crate::sql::postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
                let text: &str = $to_text(*self);
                <&str as $crate::sql::postgres_types::ToSql>::to_sql(&text, ty, out)
            }

            fn accepts(ty: &$crate::sql::postgres_types::Type) -> bool {
                <&str as $crate::sql::postgres_types::ToSql>::accepts(ty)
            }

            $crate::sql::postgres_types::to_sql_checked!();
        }
        impl<'a> $crate::sql::postgres_types::FromSql<'a> for $type {
            fn from_sql(ty: &$crate::sql::postgres_types::Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
                let text = <&str as $crate::sql::postgres_types::FromSql>::from_sql(ty, raw)?;
                $from_text(text).ok_or_else(|| format!("`{text}` is not a {}", stringify!($type)).into())
            }

            fn accepts(ty: &$crate::sql::postgres_types::Type) -> bool {
                <&str as $crate::sql::postgres_types::FromSql>::accepts(ty)
            }
        }
    };
}

text_column!(PaymentMethod, PaymentMethod::js_name, PaymentMethod::from_name);
text_column!(Language, Language::tag, Language::from_tag);
#[cfg(feature = "merchant")]
text_column!(crate::OrderSource, crate::OrderSource::as_str, crate::OrderSource::from_name);
#[cfg(feature = "merchant")]
text_column!(crate::OperationKind, crate::OperationKind::as_str, crate::OperationKind::parse);
#[cfg(feature = "merchant")]
text_column!(crate::OrderState, crate::OrderState::as_str, crate::OrderState::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::OperationStatus, crate::OperationStatus::as_str, crate::OperationStatus::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::EventType, crate::EventType::as_str, crate::EventType::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::Role, crate::Role::as_str, crate::Role::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::Decision, crate::Decision::as_str, crate::Decision::from_wire);

text_column!(crate::CardStatus, crate::CardStatus::as_str, crate::CardStatus::from_wire);

text_column!(crate::SubscriptionStatus, crate::SubscriptionStatus::as_str, crate::SubscriptionStatus::from_wire);

text_column!(crate::IntervalUnit, crate::IntervalUnit::as_str, crate::IntervalUnit::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::PostLinkVerdict, crate::PostLinkVerdict::as_str, crate::PostLinkVerdict::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::PostLinkEndpoint, crate::PostLinkEndpoint::as_str, crate::PostLinkEndpoint::from_wire);
#[cfg(feature = "merchant")]
text_column!(crate::Action, crate::Action::as_str, crate::Action::from_wire);
