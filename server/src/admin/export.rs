//! `GET /api/admin/export.csv?from=2026-12-01&to=2026-12-31`: the orders created on those
//! days (Almaty's, both included) and the refunds, captures and cancels done on them, one row
//! each, for reconciliation with ePay's statement. UTF-8 with a BOM, so Excel reads Cyrillic;
//! amounts in tenge with a dot ("1500.50") and the order's currency beside them.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use epay_api_types::{Amount, ErrorCode};
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use super::summary::UTC_OFFSET_SECS;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::operations::{self, OperationRow};
use crate::store::orders::{self, OrderRow};
use crate::store::{Conn, StoreError};

/// At most this many days in one file.
const MAX_DAYS: i64 = 366;
const HEADER: [&str; 20] = [
    "row",
    "invoice_id",
    "reference",
    "created_at",
    "status",
    "state",
    "amount",
    "currency",
    "captured",
    "refunded",
    "operation",
    "operation_amount",
    "operation_status",
    "card_mask",
    "card_type",
    "approval_code",
    "transaction_id",
    "fee",
    "bonus",
    "description",
];

/// The days asked for, as unix seconds [from, to). Pure.
pub fn range(query: &str) -> Result<(i64, i64), AppError> {
    let bad = |m: String| AppError::bad_request(ErrorCode::InvalidField, m);
    let day = |name: &str| -> Result<Date, AppError> {
        let text = url::form_urlencoded::parse(query.as_bytes()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
        let text = text.ok_or_else(|| bad(format!("{name} is required: a day such as 2026-12-01")))?;
        Date::parse(text.trim(), format_description!("[year]-[month]-[day]"))
            .map_err(|_| bad(format!("{name} `{text}` is not a day such as 2026-12-01")))
    };
    let (from, to) = (day("from")?, day("to")?);
    if to < from || (to - from).whole_days() >= MAX_DAYS {
        return Err(bad(format!("to must be on or after from, and at most {MAX_DAYS} days later")));
    }
    let offset = UtcOffset::from_whole_seconds(UTC_OFFSET_SECS as i32).expect("a valid offset");
    let start = |d: Date| d.midnight().assume_offset(offset).unix_timestamp();
    Ok((start(from), start(to) + 86_400))
}

fn read(db: &mut Conn, from: i64, to: i64) -> Result<(Vec<OrderRow>, Vec<OperationRow>), StoreError> {
    let orders = orders::created_between(db, from, to)?;
    Ok((orders, operations::for_orders_created(db, from, to)?))
}

fn local_time(unix: i64) -> String {
    let offset = UtcOffset::from_whole_seconds(UTC_OFFSET_SECS as i32).expect("a valid offset");
    OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| t.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]")).ok())
        .unwrap_or_default()
}

fn money(minor: Option<i64>) -> String {
    minor.map(|m| Amount::from_minor(m.max(0) as u64).to_string()).unwrap_or_default()
}

/// The file's bytes: BOM, header, a row per order and one per operation after it. Pure.
/// A cell as a spreadsheet shows it, never runs it: text that starts like a formula (`=`, `+`,
/// `-`, `@`, a tab or a carriage return: a payer's description, a shop's reference) gets a
/// leading `'` (OWASP's advice for CSV injection). Pure.
pub fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell }
}

fn write_record(out: &mut csv::Writer<Vec<u8>>, record: Vec<String>) {
    let _ = out.write_record(record.into_iter().map(inert));
}

pub fn write(orders: &[OrderRow], ops: &[OperationRow]) -> Vec<u8> {
    let mut by_order: std::collections::HashMap<i64, Vec<&OperationRow>> = std::collections::HashMap::new();
    for op in ops {
        by_order.entry(op.order_id).or_default().push(op);
    }
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let _ = out.write_record(HEADER);
    for order in orders {
        let base = |row: &str, status: String| -> Vec<String> {
            vec![
                row.to_owned(),
                order.invoice_id.clone(),
                order.merchant_reference.clone().unwrap_or_default(),
                local_time(order.created_at),
                status,
                order.status.as_str().to_owned(),
                money(Some(order.amount_minor)),
                order.currency.clone(),
                money(order.captured_minor),
                money(Some(order.refunded_minor)),
            ]
        };
        let mut record = base("order", order.status.merchant_status().to_string());
        let payment = [
            String::new(),
            String::new(),
            String::new(),
            order.card_mask.clone().unwrap_or_default(),
            order.card_type.clone().unwrap_or_default(),
            order.approval_code.clone().unwrap_or_default(),
            order.transaction_id.clone().unwrap_or_default(),
            money(order.fee_minor),
            money(order.amount_bonus_minor),
            order.description.clone(),
        ];
        record.extend(payment);
        write_record(&mut out, record);
        for op in by_order.get(&order.id).into_iter().flatten() {
            let mut record = base("operation", order.status.merchant_status().to_string());
            record.extend([
                op.kind.as_str().to_owned(),
                money(op.amount_minor),
                op.status.as_str().to_owned(),
                String::new(),
                String::new(),
                String::new(),
                order.transaction_id.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                op.reason.clone().unwrap_or_default(),
            ]);
            record[3] = local_time(op.updated_at);
            write_record(&mut out, record);
        }
    }
    out.into_inner().unwrap_or_default()
}

pub async fn csv(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Response, AppError> {
    let query = query.unwrap_or_default();
    let (from, to) = range(&query)?;
    let (orders, ops) = app.store.read(move |db| read(db, from, to)).await?;
    let name = format!("epay-orders-{}-{}.csv", &local_time(from)[..10], &local_time(to - 1)[..10]);
    let mut response = write(&orders, &ops).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_whole_almaty_days_and_bad_ones_are_named() {
        let (from, to) = range("from=2026-12-01&to=2026-12-01").unwrap();
        assert_eq!((crate::views::order::rfc3339(from).as_str(), to - from), ("2026-11-30T19:00:00Z", 86_400));
        for (query, named) in
            [("to=2026-12-01", "from"), ("from=2026-12-01&to=1.12.2026", "to"), ("from=2026-12-02&to=2026-12-01", "after")]
        {
            assert!(range(query).unwrap_err().message.contains(named), "{query}");
        }
    }

    #[test]
    fn cells_that_start_like_a_formula_are_made_inert() {
        for formula in ["=HYPERLINK(\"http://x\",\"pay\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"] {
            assert_eq!(inert(formula.to_owned()), format!("'{formula}"));
        }
        for plain in ["1500.00", "Чай «Алатау»", "2026-12-01 10:00", "", "a=b"] {
            assert_eq!(inert(plain.to_owned()), plain);
        }
        let mut order =
            OrderRow::created(1, "123456789012".into(), &orders::NewOrder::example(150_000, epay_api_types::PaymentMethod::Pay), 0);
        order.description = "=cmd|' /C calc'!A0".into();
        let csv = String::from_utf8(write(&[order], &[])).unwrap();
        assert!(csv.contains("'=cmd|") && !csv.contains(",=cmd"), "{csv}");
    }
}
