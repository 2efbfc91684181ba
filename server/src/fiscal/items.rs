//! What an order's receipt will list, fixed when the order is made (docs/fiscal-receipts.md):
//! the merchant's line items checked against the amount, or the order's one line. Pure; the
//! result is kept with the order (`orders.receipt_lines`) and the receipts' worker reads it.

use epay_api_types::{Amount, PaymentMethod, ReceiptItem};

use super::lines::{Line, sale};
use crate::config::fiscal::FiscalSettings;
use crate::text::is_direction_control;

/// The longest `name` kept (Webkassa's collection gives no limit; receipts print about 40
/// characters a line, and names wrap).
pub const NAME_MAX_CHARS: usize = 128;
/// Most lines on one receipt.
pub const MAX_ITEMS: usize = 100;
/// The national classifier's "piece".
pub const PIECE: u32 = 796;

/// The one line of an order without items and without a description.
pub const UNNAMED: &str = "Оплата заказа";
/// The currency receipts are issued in (a Kazakh cash register counts in tenge).
pub const TENGE: &str = "KZT";

/// What of a new order its receipt depends on.
pub struct Sale<'a> {
    pub method: PaymentMethod,
    pub currency: &'a str,
    pub description: &'a str,
    pub amount: Amount,
}

/// The receipt lines of a new order as JSON, or `None` when it owes no receipt: no registrar is
/// configured, the merchant pays the payer (`oct`: no sale), or it is not in tenge. `items` as
/// the merchant sent them (empty: one line, the description for the amount). Errors say what to
/// fix.
pub fn receipt_lines(settings: &FiscalSettings, order: &Sale<'_>, items: &[ReceiptItem]) -> Result<Option<String>, String> {
    let Sale { method, currency, description, amount } = *order;
    let lines = lines_of(items, settings.vat_percent)?;
    if !lines.is_empty() {
        // Checked whether or not receipts are issued: an order means the same everywhere.
        sale(lines.clone(), description, amount.minor() as i64, None).map_err(|e| format!("items: {e}"))?;
    }
    if !settings.enabled() || method == PaymentMethod::Oct || currency != TENGE {
        return Ok(None);
    }
    let lines = if lines.is_empty() {
        vec![Line {
            name: Some(description.trim()).filter(|d| !d.is_empty()).unwrap_or(UNNAMED).to_owned(),
            quantity_milli: 1000,
            price_minor: amount.minor() as i64,
            vat_percent: settings.vat_percent,
            unit_code: PIECE,
            section: 1,
        }]
    } else {
        lines
    };
    Ok(Some(serde_json::to_string(&lines).expect("lines serialize")))
}

/// The merchant's items as lines, each checked; `default_vat` for those that name no rate.
fn lines_of(items: &[ReceiptItem], default_vat: Option<u32>) -> Result<Vec<Line>, String> {
    if items.len() > MAX_ITEMS {
        return Err(format!("items: {} lines; a receipt takes at most {MAX_ITEMS}", items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let at = |what: String| format!("items[{index}]: {what}");
            let name = item.name.trim();
            if name.is_empty() || name.chars().count() > NAME_MAX_CHARS || name.chars().any(|c| c.is_control() || is_direction_control(c)) {
                return Err(at(format!("name must be 1 to {NAME_MAX_CHARS} characters without control or text-direction characters")));
            }
            let quantity_milli = match item.quantity.as_deref() {
                None => 1000,
                Some(text) => {
                    quantity(text).ok_or_else(|| at(format!("quantity `{text}` is not a number above 0 with at most 3 decimals")))?
                }
            };
            let price = Amount::parse(&item.price)
                .map_err(|_| at(format!("price `{}` is not an amount such as \"750\" or \"99.90\"", item.price)))?;
            let vat_percent = match item.vat.as_deref().map(str::trim) {
                None => default_vat,
                Some("none") => None,
                Some(text) => Some(
                    text.parse::<u32>()
                        .ok()
                        .filter(|rate| *rate < 100)
                        .ok_or_else(|| at(format!("vat `{text}` is not a whole percentage below 100 or \"none\"")))?,
                ),
            };
            let unit_code = item.unit_code.unwrap_or(PIECE);
            if !(1..=9999).contains(&unit_code) {
                return Err(at(format!("unitCode {unit_code} is not a unit of the national classifier (1 to 9999; 796 is a piece)")));
            }
            let section = item.section.unwrap_or(1);
            if !(1..=99).contains(&section) {
                return Err(at(format!("section {section} is not a cash register's section (1 to 99)")));
            }
            Ok(Line { name: name.to_owned(), quantity_milli, price_minor: price.minor() as i64, vat_percent, unit_code, section })
        })
        .collect()
}

/// "1", "1.5", "0.125" as thousandths; at most 3 decimals, above 0, below a million.
fn quantity(text: &str) -> Option<i64> {
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 6 || fraction.len() > 3 || !digits(whole) || !digits(fraction) || text.trim().ends_with('.') {
        return None;
    }
    let milli = whole.parse::<i64>().ok()? * 1000 + format!("{fraction:0<3}").parse::<i64>().ok()?;
    (milli > 0).then_some(milli)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fiscal::WebkassaSettings;

    fn on(vat: Option<u32>) -> FiscalSettings {
        FiscalSettings {
            webkassa: Some(WebkassaSettings {
                url: "http://127.0.0.1:1/".parse().unwrap(),
                api_key: "k".to_owned().into(),
                login: "l".into(),
                password: "p".to_owned().into(),
                cashbox: "c".into(),
                timeout: std::time::Duration::from_secs(1),
            }),
            vat_percent: vat,
            zreport_at_minute: 0,
        }
    }

    fn item(name: &str, quantity: Option<&str>, price: &str, vat: Option<&str>) -> ReceiptItem {
        ReceiptItem {
            name: name.into(),
            quantity: quantity.map(Into::into),
            price: price.into(),
            vat: vat.map(Into::into),
            unit_code: None,
            section: None,
        }
    }

    fn lines(json: Option<String>) -> Vec<Line> {
        serde_json::from_str(&json.expect("receipt lines")).unwrap()
    }

    #[test]
    fn without_items_the_order_is_one_line_at_the_configured_rate() {
        let got = lines(
            receipt_lines(
                &on(Some(16)),
                &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "Чай", amount: Amount::from_minor(499_000) },
                &[],
            )
            .unwrap(),
        );
        assert_eq!(
            got,
            [Line { name: "Чай".into(), quantity_milli: 1000, price_minor: 499_000, vat_percent: Some(16), unit_code: 796, section: 1 }]
        );
    }

    #[test]
    fn items_take_their_own_rate_the_configured_one_or_none_and_must_add_up() {
        let items = [
            item("Чай", Some("2"), "750", None),
            item("Доставка", None, "500.01", Some("none")),
            item("Мёд", Some("0.5"), "999.98", Some("12")),
        ];
        let got = lines(
            receipt_lines(
                &on(Some(16)),
                &Sale {
                    method: PaymentMethod::Pay,
                    currency: "KZT",
                    description: "x",
                    amount: Amount::from_minor(150_000 + 50_001 + 49_999),
                },
                &items,
            )
            .unwrap(),
        );
        assert_eq!(got.iter().map(|l| l.vat_percent).collect::<Vec<_>>(), [Some(16), None, Some(12)]);
        assert_eq!(got.iter().map(|l| l.quantity_milli).collect::<Vec<_>>(), [2000, 1000, 500]);
        let short = receipt_lines(
            &on(Some(16)),
            &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "x", amount: Amount::from_minor(250_001) },
            &items,
        )
        .unwrap_err();
        assert!(short.contains("250000 tiyn, the order is 250001"), "{short}");
    }

    #[test]
    fn nothing_is_owed_without_a_registrar_or_for_a_payout_but_items_are_still_checked() {
        let off = FiscalSettings::default();
        assert_eq!(
            receipt_lines(
                &off,
                &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "x", amount: Amount::from_minor(100) },
                &[]
            ),
            Ok(None)
        );
        assert_eq!(
            receipt_lines(
                &on(Some(16)),
                &Sale { method: PaymentMethod::Oct, currency: "KZT", description: "x", amount: Amount::from_minor(100) },
                &[]
            ),
            Ok(None)
        );
        assert!(
            receipt_lines(
                &off,
                &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "x", amount: Amount::from_minor(100) },
                &[item("a", None, "2", None)]
            )
            .is_err()
        );
    }

    #[test]
    fn an_order_without_a_description_has_a_named_line_and_other_currencies_owe_none() {
        let unnamed = Sale { method: PaymentMethod::P2p, currency: "KZT", description: " ", amount: Amount::from_minor(100) };
        assert_eq!(lines(receipt_lines(&on(Some(16)), &unnamed, &[]).unwrap())[0].name, UNNAMED);
        let dollars = Sale { currency: "USD", ..unnamed };
        assert_eq!(receipt_lines(&on(Some(16)), &dollars, &[]), Ok(None));
    }

    #[test]
    fn careless_items_are_refused_with_the_line_named() {
        let bad = [
            (item("", None, "1", None), "items[0]: name"),
            (item("a", Some("1.2345"), "1", None), "quantity `1.2345`"),
            (item("a", Some("0"), "1", None), "quantity `0`"),
            (item("a", Some("-1"), "1", None), "quantity `-1`"),
            (item("a", None, "1.001", None), "price `1.001`"),
            (item("a", None, "1", Some("120")), "vat `120`"),
            (item("a", None, "1", Some("12%")), "vat `12%`"),
            (item("a\u{202E}b", None, "1", None), "items[0]: name"),
            (ReceiptItem { unit_code: Some(0), ..item("a", None, "1", None) }, "unitCode 0"),
            (ReceiptItem { section: Some(100), ..item("a", None, "1", None) }, "section 100"),
            (item("a", Some("500000"), "368934881474.20", None), "more than any payment"),
        ];
        for (item, expected) in bad {
            let err = receipt_lines(
                &on(Some(16)),
                &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "x", amount: Amount::from_minor(100) },
                &[item],
            )
            .unwrap_err();
            assert!(err.contains(expected), "{err} should name {expected}");
        }
        let too_many = vec![item("a", None, "1", None); MAX_ITEMS + 1];
        assert!(
            receipt_lines(
                &on(None),
                &Sale { method: PaymentMethod::Pay, currency: "KZT", description: "x", amount: Amount::from_minor(10_100) },
                &too_many
            )
            .unwrap_err()
            .contains("at most")
        );
    }

    #[test]
    fn quantities_read_to_the_thousandth() {
        assert_eq!(quantity("1"), Some(1000));
        assert_eq!(quantity("1.5"), Some(1500));
        assert_eq!(quantity("0.125"), Some(125));
        assert_eq!(quantity("1."), None);
        assert_eq!(quantity(".5"), None);
        assert_eq!(quantity("1e3"), None);
    }
}
