//! Every postLink and failurePostLink received, with its raw body and what was decided.

use super::{Conn, StoreError, Tx, now, params};

/// What the proxy made of a postLink, and which endpoint it came to: the wire's words.
pub use epay_api_types::{PostLinkEndpoint as Endpoint, PostLinkVerdict as Verdict};

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
    /// The client address it came from.
    pub source: Option<&'a str>,
}

/// A notification nobody signed (rejected, or a hint: no secret_hash) keeps at most this much of
/// its body: enough to see what it was, too little for a stranger to fill the disk with.
pub const REJECTED_BODY_LIMIT: usize = 4096;

/// Hints (postLinks without secret_hash) one order keeps; beyond, they are not stored.
pub const HINTS_PER_ORDER: i64 = 20;

/// The postLinks an order's view shows: the newest.
pub const SHOWN_PER_ORDER: i64 = 20;

/// The body as stored: whole, or for an unsigned notification (rejected, hint) cut at
/// `REJECTED_BODY_LIMIT` bytes (on a character boundary) with a note of how much was dropped.
pub fn stored_body(raw: &str, verdict: Verdict) -> std::borrow::Cow<'_, str> {
    if !matches!(verdict, Verdict::Rejected | Verdict::Hint) || raw.len() <= REJECTED_BODY_LIMIT {
        return raw.into();
    }
    let mut end = REJECTED_BODY_LIMIT;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[{} more bytes not kept]", &raw[..end], raw.len() - end).into()
}

/// Where a notification goes, without its values.
macro_rules! notification_columns {
    () => {
        "INSERT INTO notifications (order_id, endpoint, invoice_id, transaction_id, code, verdict, reason, raw_body, source, received_at)"
    };
}
const INSERT: &str = concat!(notification_columns!(), " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
/// `INSERT` for several notifications at once (`Tx::execute_later_for_order`).
const MERGED_INSERT: &str = concat!(notification_columns!(), " SELECT * FROM {rows}");

pub fn insert(tx: &mut Tx, n: &NewNotification<'_>) -> Result<(), StoreError> {
    let (body, received_at) = (stored_body(n.raw_body, n.verdict), now());
    let values = params![n.order_id, n.endpoint, n.invoice_id, n.transaction_id, n.code, n.verdict, n.reason, body, n.source, received_at];
    match n.order_id {
        // With the notifications of other orders sent with it, one statement (`db/merge.rs`).
        Some(order) => tx.execute_later_for_order(INSERT, values, order, || MERGED_INSERT.to_owned()),
        None => tx.execute_later(INSERT, values),
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub endpoint: Endpoint,
    pub invoice_id: Option<String>,
    pub transaction_id: Option<String>,
    pub code: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub raw_body: String,
    pub source: Option<String>,
    pub received_at: i64,
}

/// How many hints an order has stored.
pub fn hints_for_order(db: &mut Conn, order_id: i64) -> Result<i64, StoreError> {
    db.query_one("SELECT COUNT(*) FROM notifications WHERE order_id = ? AND verdict = 'hint'", params![order_id], |row| row.get(0))
}

/// The newest `SHOWN_PER_ORDER` notifications of an order, oldest first.
pub fn read_for_order(db: &mut Conn, order_id: i64) -> Result<Vec<NotificationRow>, StoreError> {
    let mut newest = db.query_all(
        "SELECT id, endpoint, invoice_id, transaction_id, code, verdict, reason, raw_body, source, received_at
         FROM notifications WHERE order_id = ? ORDER BY id DESC LIMIT ?",
        params![order_id, SHOWN_PER_ORDER],
        |row| {
            Ok(NotificationRow {
                id: row.get(0)?,
                endpoint: row.get(1)?,
                invoice_id: row.get(2)?,
                transaction_id: row.get(3)?,
                code: row.get(4)?,
                verdict: row.get(5)?,
                reason: row.get(6)?,
                raw_body: row.get(7)?,
                source: row.get(8)?,
                received_at: row.get(9)?,
            })
        },
    )?;
    newest.reverse();
    Ok(newest)
}

/// Deletes unsigned notifications (rejected, hints) received before `before` (unix seconds).
/// Returns how many.
pub fn prune_rejected(tx: &mut Tx, before: i64) -> Result<u64, StoreError> {
    tx.execute(PRUNE_REJECTED, params![before])
}

/// A maintenance statement: it reads only unsigned notifications past their retention.
pub(crate) const PRUNE_REJECTED: &str = "DELETE FROM notifications WHERE verdict IN ('rejected', 'hint') AND received_at < ?";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rejected_bodies_are_cut_and_on_a_character_boundary() {
        let long = "я".repeat(REJECTED_BODY_LIMIT);
        let cut = stored_body(&long, Verdict::Rejected);
        assert!(cut.len() < REJECTED_BODY_LIMIT + 64 && cut.ends_with("more bytes not kept]"), "{}", cut.len());
        assert_eq!(stored_body(&long, Verdict::Accepted), long.as_str());
        assert_eq!(stored_body("{}", Verdict::Rejected), "{}");
    }
}
