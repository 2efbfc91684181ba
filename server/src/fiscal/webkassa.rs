//! Webkassa's API v4, as its own Postman collection "Интеграторы_v4-2.0.3" prints it (the
//! public repository `VitalyKravtsov2016/OposWebkassa`, `doc/Webkassa/2.0.3/postman-collection.json`,
//! commit c0f7e0d2; the samples in `docs/webkassa-samples/`, docs/fiscal-receipts.md). Pure: the
//! bodies the proxy sends and what it reads of the answers; the HTTP calls come with the
//! receipts' worker.
//!
//! Every call is a `POST` with the integrator's `x-api-key` header and the session's `Token` in
//! the JSON body. Amounts are tenge as JSON numbers; VAT is inside the price (`fiscal::lines`).

use epay_api_types::Amount;
use serde_json::{Value, json};

use super::lines::Position;

/// Webkassa's test host (the only one the collection names; production is agreed with Webkassa).
pub const TEST_HOST: &str = "https://devkkm.webkassa.kz";

/// `OperationType`: the collection's 2 (sale) and 3 (return of a sale).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Sale,
    SaleReturn,
}

impl Operation {
    fn code(self) -> i64 {
        match self {
            Operation::Sale => 2,
            Operation::SaleReturn => 3,
        }
    }
}

/// The receipt a return is based on: its details as the sale's receipt printed them
/// (`ReturnBasisDetails`, mandatory on OFD protocol 2.0.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnBasis {
    pub check_number: String,
    /// ISO 8601 in UTC, as the collection sends it ("2025-09-05T06:22:21.567Z").
    pub date_time_utc: String,
    pub registration_number: String,
    pub total_minor: i64,
    pub offline: bool,
}

/// One receipt to issue: what it lists and who bought (what every registrar is given).
#[derive(Clone, Debug)]
pub struct Receipt<'a> {
    pub positions: &'a [Position],
    /// The idempotency key ("позволяет обеспечивать идемпотентность при сбоях в связи"): the
    /// same receipt is always sent under the same number.
    pub external_number: &'a str,
    pub order_number: &'a str,
    pub customer_email: Option<&'a str>,
    pub customer_phone: Option<&'a str>,
    /// A return's sale receipt; `None` for a sale.
    pub return_basis: Option<&'a ReturnBasis>,
}

impl Receipt<'_> {
    /// A return when it has a sale to return against, a sale otherwise.
    fn operation(&self) -> Operation {
        if self.return_basis.is_some() { Operation::SaleReturn } else { Operation::Sale }
    }
}

fn tenge(minor: i64) -> Value {
    crate::epay::amount_number(Amount::from_minor(minor.max(0) as u64))
}

/// A quantity in thousandths as the collection's `Count` (1, 10, 1.5).
fn count(milli: i64) -> Value {
    if milli % 1000 == 0 { json!(milli / 1000) } else { json!(milli as f64 / 1000.0) }
}

pub fn authorize_body(login: &str, password: &str) -> Value {
    json!({"Login": login, "Password": password})
}

/// `POST /api/v4/check` (the collection spells it in lower case): a sale paid by card, or its
/// return with the sale's receipt as its basis. `RoundType` 2 as every example.
pub fn check_body(token: &str, cashbox: &str, receipt: &Receipt<'_>) -> Value {
    let positions: Vec<Value> = receipt
        .positions
        .iter()
        .map(|p| {
            let (tax_type, percent) = match p.line.vat_percent {
                Some(percent) => (100, percent),
                None => (0, 0),
            };
            json!({
                "Count": count(p.line.quantity_milli),
                "Price": tenge(p.line.price_minor),
                "TaxPercent": percent,
                "Tax": tenge(p.vat_minor),
                "TaxType": tax_type,
                "PositionName": p.line.name,
                "SectionCode": p.line.section.to_string(),
                "UnitCode": p.line.unit_code,
            })
        })
        .collect();
    let total: i64 = receipt.positions.iter().map(|p| p.total_minor).sum();
    let mut body = json!({
        "Token": token,
        "CashboxUniqueNumber": cashbox,
        "OperationType": receipt.operation().code(),
        "Positions": positions,
        "Payments": [{"Sum": tenge(total), "PaymentType": 1}],
        "RoundType": 2,
        "ExternalCheckNumber": receipt.external_number,
        "ExternalOrderNumber": receipt.order_number,
    });
    if let Some(email) = receipt.customer_email.filter(|e| !e.trim().is_empty()) {
        body["CustomerEmail"] = json!(email);
    }
    if let Some(phone) = receipt.customer_phone.filter(|p| !p.trim().is_empty()) {
        body["CustomerPhone"] = json!(phone);
    }
    if let Some(basis) = receipt.return_basis {
        body["ReturnBasisDetails"] = json!({
            "CheckNumber": basis.check_number,
            "DateTime": basis.date_time_utc,
            "RegistrationNumber": basis.registration_number,
            "Total": tenge(basis.total_minor),
            "IsOffline": basis.offline,
        });
    }
    body
}

/// `POST /api/v4/ZReport`: closes the cash register's shift (the collection's request spells
/// `cashboxUniqueNumber` in lower camel case).
pub fn zreport_body(token: &str, cashbox: &str) -> Value {
    json!({"Token": token, "cashboxUniqueNumber": cashbox})
}

/// `POST /api/v4/Ticket/PrintFormat`: a receipt looked up by its `ExternalCheckNumber` (after a
/// lost answer, before ever sending the receipt again).
pub fn print_format_body(token: &str, cashbox: &str, external_number: &str) -> Value {
    json!({"Token": token, "ExternalCheckNumber": external_number, "CashboxUniqueNumber": cashbox, "PaperKind": 0})
}

/// A receipt Webkassa issued, as its answer says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The fiscal sign (`CheckNumber`, "ФБ/ФП").
    pub check_number: String,
    /// Local time as Webkassa prints it ("14.09.2025 16:55:37").
    pub date_time: String,
    /// The same in UTC, ISO 8601 as a return's basis sends it ("2025-09-14T11:55:37.000Z").
    pub utc_time: String,
    pub registration_number: String,
    /// The OFD's link for the buyer (also the QR's content).
    pub ticket_url: String,
    pub offline: bool,
    pub shift_number: Option<i64>,
}

/// An answer that says no, or that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `{"Errors": [{"Code", "Text"}]}`.
    Errors(Vec<(i64, String)>),
    Malformed(String),
}

fn envelope(body: &str) -> Result<Value, Refusal> {
    let value: Value = serde_json::from_str(body).map_err(|e| Refusal::Malformed(format!("not JSON ({e})")))?;
    if let Some(errors) = value.get("Errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
        return Err(Refusal::Errors(
            errors.iter().map(|e| (e["Code"].as_i64().unwrap_or(-1), e["Text"].as_str().unwrap_or_default().to_owned())).collect(),
        ));
    }
    value.get("Data").cloned().ok_or_else(|| Refusal::Malformed("neither Data nor Errors".into()))
}

/// The errors of an answer that says no (`{"Errors": [{"Code", "Text"}]}`), if it does.
pub fn errors_of(body: &str) -> Option<Vec<(i64, String)>> {
    match envelope(body) {
        Err(Refusal::Errors(errors)) => Some(errors),
        _ => None,
    }
}

/// The session token of an `Authorize` answer.
pub fn read_token(body: &str) -> Result<String, Refusal> {
    envelope(body)?["Token"].as_str().filter(|t| !t.is_empty()).map(str::to_owned).ok_or_else(|| Refusal::Malformed("no Data.Token".into()))
}

/// The receipt of a `check` answer.
pub fn read_check(body: &str) -> Result<Issued, Refusal> {
    let data = envelope(body)?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let date_time = text(&data["DateTime"]).unwrap_or_default();
    let utc_time =
        text(&data["DateTimeUTC"]).and_then(|with_offset| utc_of(&with_offset)).or_else(|| utc_of(&date_time)).unwrap_or_default();
    let issued = Issued {
        check_number: text(&data["CheckNumber"]).ok_or_else(|| Refusal::Malformed("no Data.CheckNumber".into()))?,
        date_time,
        utc_time,
        registration_number: text(&data["Cashbox"]["RegistrationNumber"]).unwrap_or_default(),
        ticket_url: text(&data["TicketUrl"]).ok_or_else(|| Refusal::Malformed("no Data.TicketUrl".into()))?,
        offline: data["OfflineMode"].as_bool().unwrap_or(false),
        shift_number: data["ShiftNumber"].as_i64(),
    };
    Ok(issued)
}

/// "14.09.2025 16:55:37 +05:00" (an answer's `DateTimeUTC`), or without its offset local time in
/// Kazakhstan (UTC+5, the `DateTime` and the printed "Время:" line), as ISO 8601 in UTC. Pure.
pub fn utc_of(text: &str) -> Option<String> {
    use time::macros::format_description;
    let text = text.trim();
    let local =
        time::PrimitiveDateTime::parse(text.get(..19)?, format_description!("[day].[month].[year] [hour]:[minute]:[second]")).ok()?;
    let offset = match text.get(19..).map(str::trim).filter(|rest| !rest.is_empty()) {
        Some(rest) => time::UtcOffset::parse(rest, format_description!("[offset_hour sign:mandatory]:[offset_minute]")).ok()?,
        None => time::UtcOffset::from_whole_seconds(crate::config::fiscal::KAZAKHSTAN_UTC_OFFSET_MINUTES * 60).ok()?,
    };
    let utc = local.assume_offset(offset).to_offset(time::UtcOffset::UTC);
    utc.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z")).ok()
}

/// What a `PrintFormat` answer says of a receipt looked up by its external number: its fiscal
/// sign (the "ФБ/ФП:" line), its time (the "Время:" line), its OFD link (the QR line, `Type`
/// 2) and the register's number (the link's `f`). The collection prints no other way to learn
/// them after a lost answer; whether it was issued offline is not printed (taken as online).
pub fn read_lookup(body: &str) -> Result<Issued, Refusal> {
    let data = envelope(body)?;
    let lines = data["Lines"].as_array().cloned().unwrap_or_default();
    let sign = lines
        .iter()
        .filter_map(|line| line["Value"].as_str())
        .find_map(|value| value.trim().strip_prefix("ФБ/ФП:").map(|rest| rest.trim().to_owned()))
        .ok_or_else(|| Refusal::Malformed("no ФБ/ФП line".into()))?;
    let qr = lines
        .iter()
        .find(|line| line["Type"].as_i64() == Some(2))
        .and_then(|line| line["Value"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| Refusal::Malformed("no QR line".into()))?;
    let date_time = lines
        .iter()
        .filter_map(|line| line["Value"].as_str())
        .find_map(|value| value.split_once("Время:").map(|(_, rest)| rest.trim().to_owned()))
        .unwrap_or_default();
    let registration_number = url::Url::parse(&qr)
        .ok()
        .and_then(|url| url.query_pairs().find(|(key, _)| key == "f").map(|(_, value)| value.into_owned()))
        .unwrap_or_default();
    // A return is based on the sale's time and register: a receipt found without them cannot be
    // recorded (it is looked up again).
    let utc_time = utc_of(&date_time).ok_or_else(|| Refusal::Malformed("no readable Время line".into()))?;
    if registration_number.is_empty() {
        return Err(Refusal::Malformed("no register number (`f`) in the QR link".into()));
    }
    Ok(Issued { check_number: sign, utc_time, date_time, registration_number, ticket_url: qr, offline: false, shift_number: None })
}

/// What the proxy does about an error code (the `ApiErrorCode` enum of the public client
/// `OposWebkassa/src/OposWebkassa/units/WebkassaClient.pas`; the collection prints only code 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// 2 token expired, 3 not authorised: authorise again, then send the same receipt.
    Reauthorize,
    /// 11 shift over 24 hours: close the shift (Z-report), then send the same receipt.
    CloseShift,
    /// 14 duplicate external number: it was issued already; look it up.
    LookUp,
    /// A person must act: 1 wrong login, 5/6 no cash register, 7 blocked, 10 not activated,
    /// 18 offline over 72 hours. Receipts wait meanwhile.
    Alert(&'static str),
    /// 9 validation: the receipt is refused as it is; a person looks.
    Refused,
    /// Any other code: Webkassa issued nothing; tried again later.
    TryLater,
}

pub fn next_for(code: i64) -> Next {
    match code {
        2 | 3 => Next::Reauthorize,
        11 => Next::CloseShift,
        14 => Next::LookUp,
        1 => Next::Alert("wrong_credentials"),
        5 | 6 => Next::Alert("cash_register_not_found"),
        7 => Next::Alert("cash_register_blocked"),
        10 => Next::Alert("cash_register_not_activated"),
        18 => Next::Alert("offline_over_72_hours"),
        9 => Next::Refused,
        _ => Next::TryLater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fiscal::lines::{Line, sale};

    fn sample(name: &str) -> Value {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/webkassa-samples").join(name);
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn keys(v: &Value) -> std::collections::BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    fn kinds(v: &Value) -> Vec<(String, &'static str)> {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let kind = match v {
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                    Value::Null => "null",
                };
                (k.clone(), kind)
            })
            .collect()
    }

    fn salt() -> Vec<Position> {
        let line =
            Line { name: "Соль".into(), quantity_milli: 1000, price_minor: 50_000, vat_percent: Some(12), unit_code: 796, section: 1 };
        sale(vec![line], "", 50_000, None).unwrap()
    }

    /// The collection's card sale, sent by the proxy: the same values, with the keys the
    /// collection prints (the marking codes, GTIN and NTIN, are not sent: no goods of the shop
    /// carry them yet; the section and the order number are optional fields of the collection).
    #[test]
    fn a_sale_is_the_collections_card_sale() {
        let positions = salt();
        let receipt = Receipt {
            positions: &positions,
            external_number: "e2c99643-82cb-4622-9131-c0a16395d1ec",
            order_number: "000000123456",
            customer_email: None,
            customer_phone: Some(""),
            return_basis: None,
        };
        let body = check_body("{TOKEN}", "{CASHBOX}", &receipt);
        let expected = sample("check-sale-card.request.json");
        let mut expected_keys = keys(&expected);
        expected_keys.insert("ExternalOrderNumber".into());
        assert_eq!(keys(&body), expected_keys);
        for field in ["Token", "CashboxUniqueNumber", "OperationType", "Payments", "RoundType", "ExternalCheckNumber"] {
            assert_eq!(body[field], expected[field], "{field}");
        }
        let (sent, printed) = (&body["Positions"][0], &expected["Positions"][0]);
        for field in ["Count", "Price", "TaxPercent", "Tax", "TaxType", "PositionName", "UnitCode"] {
            assert_eq!(sent[field], printed[field], "{field}");
        }
        assert_eq!(sent["SectionCode"], "1", "a string, as the collection's optional field");
    }

    #[test]
    fn a_return_carries_its_basis_as_the_collection_prints_it() {
        let positions = salt();
        let basis = ReturnBasis {
            check_number: "143425020642".into(),
            date_time_utc: "2025-09-05T06:22:21.567Z".into(),
            registration_number: "{RNM}".into(),
            total_minor: 500_000,
            offline: false,
        };
        let receipt = Receipt {
            positions: &positions,
            external_number: "r-1",
            order_number: "1",
            customer_email: Some("buyer@shop.kz"),
            customer_phone: None,
            return_basis: Some(&basis),
        };
        let body = check_body("{TOKEN}", "{CASHBOX}", &receipt);
        let expected = sample("check-return.request.json");
        assert_eq!(body["OperationType"], 3);
        assert_eq!(body["ReturnBasisDetails"], expected["ReturnBasisDetails"]);
        assert_eq!(kinds(&body["ReturnBasisDetails"]), kinds(&expected["ReturnBasisDetails"]));
        assert_eq!(body["CustomerEmail"], "buyer@shop.kz");
        assert_eq!(count(1_500), json!(1.5));
    }

    #[test]
    fn the_other_requests_have_the_collections_keys() {
        assert_eq!(keys(&authorize_body("a", "b")), keys(&sample("authorize.request.json")));
        assert_eq!(keys(&zreport_body("t", "c")), keys(&sample("zreport.request.json")));
        assert_eq!(keys(&print_format_body("t", "c", "x")), keys(&sample("print-format.request.json")));
    }

    #[test]
    fn answers_are_read_as_the_collection_prints_them() {
        assert_eq!(read_token(&sample("authorize.200.json").to_string()).unwrap(), "0123456789abcdef0123456789abcdef");
        let issued = read_check(&sample("check.200.json").to_string()).unwrap();
        assert_eq!(issued.check_number, "367645207");
        assert_eq!((issued.date_time.as_str(), issued.registration_number.as_str()), ("14.09.2025 16:55:37", "{RNM}"));
        assert!(issued.ticket_url.starts_with("http://cabinet.wofd.kz/consumer?i=367645207"));
        assert_eq!((issued.offline, issued.shift_number), (false, Some(154)));
        assert_eq!(issued.utc_time, "2025-09-14T11:55:37.000Z");
        let found = read_lookup(&sample("print-format.200.json").to_string()).unwrap();
        assert_eq!(found.check_number, "1445261360149");
        assert!(found.ticket_url.contains("i=1445261360149"));
        assert_eq!((found.date_time.as_str(), found.utc_time.as_str()), ("14.11.2024 12:13:23", "2024-11-14T07:13:23.000Z"));
        assert_eq!(found.registration_number, "{RNM}");
        let refusal = read_check(&sample("error.json").to_string()).unwrap_err();
        assert_eq!(refusal, Refusal::Errors(vec![(6, "Касса не зарегистрирована в системе или не доступна пользователю".into())]));
        assert!(matches!(read_check("<html>"), Err(Refusal::Malformed(_))));
        assert!(matches!(read_check(r#"{"Data": {}}"#), Err(Refusal::Malformed(_))));
    }

    #[test]
    fn each_error_code_says_what_to_do() {
        assert_eq!(next_for(2), Next::Reauthorize);
        assert_eq!(next_for(11), Next::CloseShift);
        assert_eq!(next_for(14), Next::LookUp);
        assert_eq!(next_for(7), Next::Alert("cash_register_blocked"));
        assert_eq!(next_for(10), Next::Alert("cash_register_not_activated"));
        assert_eq!(next_for(18), Next::Alert("offline_over_72_hours"));
        assert_eq!(next_for(9), Next::Refused);
        assert_eq!(next_for(12), Next::TryLater);
        assert_eq!(next_for(-1), Next::TryLater, "an error without a code");
    }
}
