//! Every postLink and failurePostLink received, with its raw body and what was decided.

use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::{StoreError, now};

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Passed every check and moved the order.
    Accepted,
    /// The same notification again; nothing changed.
    Duplicate,
    /// Authentic, but too late to change the order (a failure after paid).
    Ignored,
    /// Failed a check; never touched the order.
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    Postlink,
    FailurePostlink,
}

#[derive(Clone, Debug)]
pub struct NewNotification<'a> {
    pub order_id: Option<i64>,
    pub endpoint: Endpoint,
    pub invoice_id: Option<&'a str>,
    pub transaction_id: Option<&'a str>,
    pub code: Option<&'a str>,
    pub verdict: Verdict,
    pub reason: Option<&'a str>,
    pub raw_body: &'a str,
}

pub async fn insert(conn: &mut SqliteConnection, n: &NewNotification<'_>) -> Result<i64, StoreError> {
    let id = sqlx::query_scalar(
        "INSERT INTO notifications (order_id, endpoint, invoice_id, transaction_id, code, verdict, reason, raw_body, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(n.order_id)
    .bind(n.endpoint)
    .bind(n.invoice_id)
    .bind(n.transaction_id)
    .bind(n.code)
    .bind(n.verdict)
    .bind(n.reason)
    .bind(n.raw_body)
    .bind(now())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub endpoint: Endpoint,
    pub invoice_id: Option<String>,
    pub transaction_id: Option<String>,
    pub code: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub raw_body: String,
    pub received_at: i64,
}

pub async fn read_for_order(pool: &SqlitePool, order_id: i64) -> Result<Vec<NotificationRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, endpoint, invoice_id, transaction_id, code, verdict, reason, raw_body, received_at
         FROM notifications WHERE order_id = ? ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await?)
}
