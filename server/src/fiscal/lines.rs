//! What a fiscal receipt lists (docs/fiscal-receipts.md): the order's lines, each with the VAT
//! inside it computed the way Webkassa computes it, adding up to the amount paid to the tiyn.
//! Pure.
//!
//! Webkassa's collection: a position's `Tax` is the VAT inside its total,
//! `(Count × Price − Discount + Markup) × rate / (100 + rate)` (500 at 12 % is 53.57). Each
//! line's VAT is rounded to the tiyn, half away from zero, on its own: the receipt's total VAT is
//! the sum of its lines'.

/// A line of an order: what was sold, how many (in thousandths: 1.5 kg is 1,500), at what unit
/// price (tiyn), under which VAT (`None`: no VAT, a seller not registered for it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub name: String,
    pub quantity_milli: i64,
    pub price_minor: i64,
    pub vat_percent: Option<u32>,
    /// The national classifier's unit code (796 = piece).
    pub unit_code: u32,
    /// The cash register's section (1 when the seller has one).
    pub section: u32,
}

/// A receipt's position as a registrar takes it: the line, its total and the VAT inside it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub line: Line,
    /// Quantity × price, in tiyn.
    pub total_minor: i64,
    /// The VAT inside `total_minor`, in tiyn (0 without VAT).
    pub vat_minor: i64,
}

/// Why lines cannot make a receipt.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinesError {
    #[error("a receipt needs at least one line")]
    Empty,
    #[error("line `{0}`: its quantity and its price must be above zero")]
    NotPositive(String),
    #[error("line `{0}`: quantity × price is not a whole number of tiyn")]
    FractionalTotal(String),
    #[error("line `{0}`: quantity × price is more than any payment can be")]
    TooLarge(String),
    #[error("the lines add up to {lines} tiyn, the order is {paid}: they must be equal")]
    Mismatch { lines: i64, paid: i64 },
    #[error("a return of {asked} tiyn is more than the {left} tiyn left to return")]
    TooMuch { asked: i64, left: i64 },
}

/// The largest line total: 999 999 999 999.99 ₸, what an `Amount` can hold.
pub const MAX_TOTAL_MINOR: i64 = 99_999_999_999_999;

/// The VAT inside `total` at `percent`, rounded half away from zero. Pure.
pub fn vat_inside(total_minor: i64, percent: u32) -> i64 {
    let (numerator, denominator) = (i128::from(total_minor) * i128::from(percent), i128::from(100 + percent));
    let (quotient, remainder) = (numerator / denominator, numerator % denominator);
    let rounded = if remainder.abs() * 2 >= denominator { quotient + numerator.signum() } else { quotient };
    rounded as i64
}

fn position(line: Line) -> Result<Position, LinesError> {
    if line.quantity_milli <= 0 || line.price_minor <= 0 {
        return Err(LinesError::NotPositive(line.name));
    }
    let product = i128::from(line.quantity_milli) * i128::from(line.price_minor);
    if product % 1000 != 0 {
        return Err(LinesError::FractionalTotal(line.name));
    }
    // No payment is larger than an `Amount` holds (12 whole digits): beyond, a total could wrap.
    let total_minor = match i64::try_from(product / 1000) {
        Ok(total) if total <= MAX_TOTAL_MINOR => total,
        _ => return Err(LinesError::TooLarge(line.name)),
    };
    let vat_minor = line.vat_percent.map_or(0, |percent| vat_inside(total_minor, percent));
    Ok(Position { line, total_minor, vat_minor })
}

/// A sale's positions: the order's lines, or without them one line (its description, once, for
/// the amount paid) under `vat_percent`. The lines must add up to `paid_minor` exactly.
pub fn sale(lines: Vec<Line>, description: &str, paid_minor: i64, vat_percent: Option<u32>) -> Result<Vec<Position>, LinesError> {
    let lines = if lines.is_empty() {
        vec![Line { name: description.to_owned(), quantity_milli: 1000, price_minor: paid_minor, vat_percent, unit_code: 796, section: 1 }]
    } else {
        lines
    };
    let positions = lines.into_iter().map(position).collect::<Result<Vec<_>, _>>()?;
    // At most 100 lines of at most `MAX_TOTAL_MINOR` each: the sum fits an i64 with room.
    let total: i64 = positions.iter().map(|p| p.total_minor).sum();
    if total != paid_minor {
        return Err(LinesError::Mismatch { lines: total, paid: paid_minor });
    }
    Ok(positions)
}

/// A return's positions: all of the sale when `amount_minor` is what is left to return, else the
/// amount spread over the sale's lines in proportion to what is left of each (the largest
/// remainders take the odd tiyn), each line once, at its own VAT. What
/// earlier returns of the sale took of each line (`already`, line by line, as they were spread).
pub fn refund(sale: &[Position], already: &[i64], amount_minor: i64) -> Result<Vec<Position>, LinesError> {
    let shares = shares(sale, already, amount_minor)?;
    if shares.iter().zip(sale).all(|(share, p)| *share == p.total_minor) {
        return Ok(sale.to_vec());
    }
    Ok(sale
        .iter()
        .zip(shares)
        .filter(|(_, share)| *share > 0)
        .map(|(p, share)| Position {
            line: Line { quantity_milli: 1000, price_minor: share, ..p.line.clone() },
            total_minor: share,
            vat_minor: p.line.vat_percent.map_or(0, |percent| vat_inside(share, percent)),
        })
        .collect())
}

/// What a return of `amount_minor` takes of each of the sale's lines, after earlier returns took
/// `already` of each: the amount spread over what is left of each line.
pub fn shares(sale: &[Position], already: &[i64], amount_minor: i64) -> Result<Vec<i64>, LinesError> {
    if sale.is_empty() {
        return Err(LinesError::Empty);
    }
    let left: Vec<i64> = sale.iter().enumerate().map(|(i, p)| p.total_minor - already.get(i).copied().unwrap_or(0)).collect();
    let left_total: i64 = left.iter().sum();
    if amount_minor <= 0 || amount_minor > left_total {
        return Err(LinesError::TooMuch { asked: amount_minor, left: left_total });
    }
    Ok(spread(amount_minor, &left))
}

/// What the returns of `amounts` (in the order they were made) took of each of the sale's lines:
/// the `already` of the return after them. Pure, and the same every time it is asked.
pub fn returned(sale: &[Position], amounts: &[i64]) -> Result<Vec<i64>, LinesError> {
    let mut already = vec![0; sale.len()];
    for &amount in amounts {
        let these = shares(sale, &already, amount)?;
        for (taken, share) in already.iter_mut().zip(these) {
            *taken += share;
        }
    }
    Ok(already)
}

/// `amount` split over `weights` in proportion, every part whole, adding up to `amount` exactly
/// (largest remainders first, earlier lines on ties). Pure.
pub fn spread(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    if total == 0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<(i64, i128)> = weights
        .iter()
        .map(|&w| {
            let product = i128::from(amount) * i128::from(w.max(0));
            ((product / total) as i64, product % total)
        })
        .collect();
    let mut parts: Vec<i64> = exact.iter().map(|(floor, _)| *floor).collect();
    let mut short = amount - parts.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1).then(a.cmp(&b)));
    for i in order {
        if short == 0 {
            break;
        }
        parts[i] += 1;
        short -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, quantity_milli: i64, price_minor: i64, vat: Option<u32>) -> Line {
        Line { name: name.into(), quantity_milli, price_minor, vat_percent: vat, unit_code: 796, section: 1 }
    }

    #[test]
    fn vat_is_computed_inside_the_total_as_webkassa_does() {
        assert_eq!(vat_inside(50_000, 12), 5_357, "the collection's example: 500 at 12 % is 53.57");
        assert_eq!(vat_inside(100_000, 16), 13_793, "1 000 ₸ at 16 %: 137.93");
        assert_eq!(vat_inside(1, 16), 0);
        assert_eq!(vat_inside(4, 16), 1, "0.552 rounds up");
        assert_eq!(vat_inside(29, 16), 4, "4.0 exactly");
        assert_eq!(vat_inside(0, 16), 0);
    }

    #[test]
    fn without_lines_the_order_is_one_line_of_its_description() {
        let positions = sale(vec![], "Чайный набор", 150_050, Some(16)).unwrap();
        assert_eq!(positions.len(), 1);
        assert_eq!((positions[0].line.name.as_str(), positions[0].total_minor, positions[0].vat_minor), ("Чайный набор", 150_050, 20_697));
        let none = sale(vec![], "Услуга", 100, None).unwrap();
        assert_eq!(none[0].vat_minor, 0);
    }

    #[test]
    fn lines_with_awkward_quantities_and_prices_add_up_to_the_amount_paid_exactly() {
        let lines = vec![
            line("Чай, 1.5 кг", 1_500, 99_999, Some(16)), // 1.5 × 999.99 = 1 499.985: not whole
        ];
        assert_eq!(sale(lines, "", 0, None), Err(LinesError::FractionalTotal("Чай, 1.5 кг".into())));
        let lines =
            vec![line("Чай, 0.250 кг", 250, 12_000, Some(16)), line("Пиала", 3_000, 33_333, Some(16)), line("Доставка", 1_000, 1, None)];
        let positions = sale(lines, "", 3_000 + 99_999 + 1, Some(16)).unwrap();
        let totals: Vec<i64> = positions.iter().map(|p| p.total_minor).collect();
        assert_eq!(totals, vec![3_000, 99_999, 1]);
        assert_eq!(positions.iter().map(|p| p.vat_minor).collect::<Vec<_>>(), vec![414, 13_793, 0]);
        assert!(matches!(sale(vec![line("x", 1_000, 100, None)], "", 101, None), Err(LinesError::Mismatch { lines: 100, paid: 101 })));
        assert!(matches!(sale(vec![line("x", 0, 100, None)], "", 0, None), Err(LinesError::NotPositive(_))));
        // 500 000 × 368 934 881 474.20 ₸ would wrap an i64 to 4 483.84 ₸: refused, not wrapped.
        let huge = line("x", 500_000_000, 36_893_488_147_420, None);
        assert_eq!(sale(vec![huge], "", 448_384, None), Err(LinesError::TooLarge("x".into())));
    }

    #[test]
    fn a_partial_return_spreads_its_amount_over_the_lines_and_never_exceeds_what_is_left() {
        let sold = sale(
            vec![line("A", 1_000, 10_001, Some(16)), line("B", 2_000, 5_000, Some(12)), line("C", 1_000, 333, None)],
            "",
            20_334,
            None,
        )
        .unwrap();
        let back = refund(&sold, &[], 10_000).unwrap();
        let parts: Vec<i64> = back.iter().map(|p| p.total_minor).collect();
        assert_eq!(parts.iter().sum::<i64>(), 10_000, "the return's lines add up to the amount returned");
        assert_eq!(parts, vec![4_918, 4_918, 164]);
        assert_eq!(back[1].vat_minor, vat_inside(4_918, 12), "each part at its own line's VAT");
        assert_eq!(refund(&sold, &[], 20_334).unwrap(), sold, "the whole: the sale's own lines");
        assert!(matches!(refund(&sold, &[4_918, 4_918, 164], 10_335), Err(LinesError::TooMuch { asked: 10_335, left: 10_334 })));
        assert_eq!(refund(&sold, &[4_918, 4_918, 164], 10_334).unwrap().iter().map(|p| p.total_minor).sum::<i64>(), 10_334);
        assert_eq!(returned(&sold, &[10_000]).unwrap(), vec![4_918, 4_918, 164]);
        assert_eq!(returned(&sold, &[10_000, 10_334]).unwrap(), vec![10_001, 10_000, 333], "two returns take the whole sale");
        assert!(returned(&sold, &[10_000, 10_335]).is_err());
    }

    #[test]
    fn spreading_is_exact_and_fair_to_the_earlier_line_on_a_tie() {
        assert_eq!(spread(1, &[1, 1]), vec![1, 0]);
        assert_eq!(spread(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(spread(7, &[0, 5]), vec![0, 7]);
        assert_eq!(spread(5, &[0, 0]), vec![0, 0]);
        for amount in [1, 99, 1_000, 123_457] {
            assert_eq!(spread(amount, &[333, 1, 77_777, 12]).iter().sum::<i64>(), amount);
        }
    }
}
