//! What one due receipt lists and, for a return, which receipt it is based on. Pure: the worker
//! reads the order and its earlier receipts, asks here, and sends what this says.
//!
//! A sale lists the order's lines (`orders.receipt_lines`); a capture of less than the order
//! lists its share of each line. A return is based on the sale's receipt and takes its amount
//! from what earlier returns left of each line, so that the returns of one sale never add up to
//! more than it, line by line.

use super::lines::{self, Line, Position};
use super::webkassa::ReturnBasis;
use crate::store::receipts::{ReceiptKind, ReceiptOrder, ReceiptRow};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub positions: Vec<Position>,
    pub return_basis: Option<ReturnBasis>,
}

/// The plan of `receipt`, given its order and the receipts of the order made before it.
pub fn plan(receipt: &ReceiptRow, order: &ReceiptOrder, earlier: &[ReceiptRow]) -> Result<Plan, String> {
    match receipt.kind {
        ReceiptKind::Sale => Ok(Plan { positions: sale_positions(order, receipt.amount_minor)?, return_basis: None }),
        ReceiptKind::Return => {
            let sale =
                earlier.iter().find(|r| r.kind == ReceiptKind::Sale).ok_or_else(|| "a return without its sale's receipt".to_owned())?;
            let issued = sale.issued.as_ref().ok_or_else(|| {
                format!(
                    "its sale's receipt rcpt_{} is {} ({}): ask for it again first",
                    sale.id,
                    sale.status,
                    sale.last_error.as_deref().unwrap_or("-")
                )
            })?;
            let sold = stored_positions(sale)?;
            let before: Vec<i64> = earlier.iter().filter(|r| r.kind == ReceiptKind::Return).map(|r| r.amount_minor).collect();
            let already = lines::returned(&sold, &before).map_err(|e| e.to_string())?;
            let positions = match &receipt.positions {
                Some(_) => stored_positions(receipt)?,
                None => lines::refund(&sold, &already, receipt.amount_minor).map_err(|e| e.to_string())?,
            };
            let return_basis = ReturnBasis {
                check_number: issued.check_number.clone(),
                date_time_utc: issued.utc_time.clone(),
                registration_number: issued.registration_number.clone(),
                total_minor: sale.amount_minor,
                offline: issued.offline,
            };
            Ok(Plan { positions, return_basis: Some(return_basis) })
        }
    }
}

/// The sale's positions for `paid_minor`: the order's lines, or their share of it when less was
/// captured than ordered.
fn sale_positions(order: &ReceiptOrder, paid_minor: i64) -> Result<Vec<Position>, String> {
    let lines: Vec<Line> = serde_json::from_str(&order.lines).map_err(|e| format!("the order's receipt lines cannot be read: {e}"))?;
    let ordered = i64::try_from(lines.iter().map(|l| i128::from(l.quantity_milli) * i128::from(l.price_minor) / 1000).sum::<i128>())
        .map_err(|_| "the order's receipt lines add up to more than any payment".to_owned())?;
    let whole = lines::sale(lines, &order.description, ordered, None).map_err(|e| e.to_string())?;
    if paid_minor == ordered {
        return Ok(whole);
    }
    lines::refund(&whole, &[], paid_minor).map_err(|e| format!("a sale of {paid_minor} tiyn of an order of {ordered}: {e}"))
}

fn stored_positions(receipt: &ReceiptRow) -> Result<Vec<Position>, String> {
    let text = receipt.positions.as_deref().ok_or_else(|| format!("receipt {} has no positions", receipt.id))?;
    serde_json::from_str(text).map_err(|e| format!("receipt {}'s positions cannot be read: {e}", receipt.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::receipts::IssuedReceipt;

    fn order(lines: &[Line]) -> ReceiptOrder {
        ReceiptOrder {
            invoice_id: "000001".into(),
            description: "Чай".into(),
            email: String::new(),
            phone: String::new(),
            lines: serde_json::to_string(lines).unwrap(),
        }
    }

    fn line(name: &str, quantity_milli: i64, price_minor: i64, vat: Option<u32>) -> Line {
        Line { name: name.into(), quantity_milli, price_minor, vat_percent: vat, unit_code: 796, section: 1 }
    }

    fn receipt(id: i64, kind: ReceiptKind, amount_minor: i64) -> ReceiptRow {
        ReceiptRow {
            id,
            order_id: 1,
            invoice_id: "000001".into(),
            operation_id: None,
            kind,
            external_number: format!("ext-{id}"),
            amount_minor,
            positions: None,
            status: "due".into(),
            attempts: 0,
            next_attempt_ms: None,
            sent_ms: None,
            last_error: None,
            issued: None,
            created_ms: 0,
        }
    }

    fn issued(mut sale: ReceiptRow, positions: &[Position]) -> ReceiptRow {
        sale.positions = Some(serde_json::to_string(positions).unwrap());
        sale.status = "issued".into();
        sale.issued = Some(IssuedReceipt {
            check_number: "367645207".into(),
            ticket_url: "http://ofd/?i=367645207".into(),
            registration_number: "600400000001".into(),
            local_time: "07.12.2026 13:00:00".into(),
            utc_time: "2026-12-07T08:00:00.000Z".into(),
            offline: false,
            shift_number: Some(1),
            issued_ms: 1,
        });
        sale
    }

    #[test]
    fn a_sale_lists_the_lines_and_a_partial_capture_their_share() {
        let lines = [line("Чай", 2_000, 75_000, Some(16)), line("Доставка", 1_000, 50_001, None)];
        let whole = plan(&receipt(1, ReceiptKind::Sale, 200_001), &order(&lines), &[]).unwrap();
        assert_eq!(whole.positions.iter().map(|p| (p.total_minor, p.vat_minor)).collect::<Vec<_>>(), [(150_000, 20_690), (50_001, 0)]);
        assert_eq!(whole.return_basis, None);
        let part = plan(&receipt(1, ReceiptKind::Sale, 100_000), &order(&lines), &[]).unwrap();
        assert_eq!(part.positions.iter().map(|p| p.total_minor).sum::<i64>(), 100_000);
        assert!(plan(&receipt(1, ReceiptKind::Sale, 200_002), &order(&lines), &[]).is_err(), "never more than ordered");
    }

    #[test]
    fn returns_are_based_on_the_sale_and_take_what_earlier_returns_left() {
        let lines = [line("A", 1_000, 10_001, Some(16)), line("B", 2_000, 5_000, Some(12)), line("C", 1_000, 333, None)];
        let order = order(&lines);
        let sale_plan = plan(&receipt(1, ReceiptKind::Sale, 20_334), &order, &[]).unwrap();
        let sale = issued(receipt(1, ReceiptKind::Sale, 20_334), &sale_plan.positions);

        assert!(
            plan(&receipt(2, ReceiptKind::Return, 10_000), &order, &[receipt(1, ReceiptKind::Sale, 20_334)]).is_err(),
            "the sale first"
        );
        let first = plan(&receipt(2, ReceiptKind::Return, 10_000), &order, std::slice::from_ref(&sale)).unwrap();
        assert_eq!(first.positions.iter().map(|p| p.total_minor).collect::<Vec<_>>(), [4_918, 4_918, 164]);
        let basis = first.return_basis.unwrap();
        assert_eq!(
            (basis.check_number.as_str(), basis.total_minor, basis.date_time_utc.as_str()),
            ("367645207", 20_334, "2026-12-07T08:00:00.000Z")
        );

        let earlier = [sale.clone(), receipt(2, ReceiptKind::Return, 10_000)];
        let rest = plan(&receipt(3, ReceiptKind::Return, 10_334), &order, &earlier).unwrap();
        assert_eq!(rest.positions.iter().map(|p| p.total_minor).collect::<Vec<_>>(), [5_083, 5_082, 169]);
        assert!(plan(&receipt(3, ReceiptKind::Return, 10_335), &order, &earlier).is_err(), "never more than was sold");
    }
}
