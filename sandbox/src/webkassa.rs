//! An emulator of Webkassa's API v4 (fiscal receipts, issue 27), in the shapes of Webkassa's own
//! Postman collection (docs/fiscal-receipts.md, `docs/webkassa-samples/`), mounted at
//! `/sandbox/webkassa`: `POST /api/v4/Authorize`, `/api/v4/check` (sale and return),
//! `/api/v4/ZReport`, `/api/v4/Ticket/PrintFormat`, and `GET`/`POST /control` for the faults a
//! test asks for. One test cash register, `SANDBOX_CASHBOX`; its login and password are
//! `SANDBOX_LOGIN` and `SANDBOX_PASSWORD`; any non-empty `x-api-key` is taken.
//!
//! As strict as the collection allows: the VAT of each position must be the one inside its
//! total, the payments must add up to the positions, a return needs the sale's receipt as its
//! basis and never returns more than was sold. A shift opens with its first receipt and must be
//! closed within 24 hours (code 11). What the collection leaves open is a knob: whether a repeated
//! `ExternalCheckNumber` answers the first receipt or error 14 (`duplicateAsError`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Sandbox;

pub const SANDBOX_CASHBOX: &str = "SWK00000001";
pub const SANDBOX_REGISTRATION: &str = "600400000001";
pub const SANDBOX_LOGIN: &str = "integrator@sandbox.kz";
pub const SANDBOX_PASSWORD: &str = "sandbox";

/// Faults a test asks for (`POST /sandbox/webkassa/control` replaces them all).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct WebkassaControl {
    /// The next N receipt requests answer code 2 (token expired).
    pub expire_tokens: u32,
    /// The cash register is blocked (7), not activated (10) or offline over 72 hours (18).
    pub blocked: bool,
    pub not_activated: bool,
    pub offline_over_72_hours: bool,
    /// The open shift is treated as older than 24 hours (code 11) until it is closed.
    pub shift_over_24_hours: bool,
    /// A repeated `ExternalCheckNumber` answers error 14 instead of the first receipt.
    pub duplicate_as_error: bool,
    /// The next N receipts are issued, then their answers are lost (the client times out).
    pub issue_then_hang: u32,
}

#[derive(Clone, Debug)]
struct Issued {
    check_number: String,
    operation: i64,
    total_minor: i64,
    returned_minor: i64,
    date_time: String,
    shift: i64,
    order_in_shift: i64,
    /// The request as it came, without its token (`GET /sandbox/webkassa/receipts`).
    request: Value,
}

#[derive(Default)]
pub struct WebkassaState {
    tokens: Vec<String>,
    shift: i64,
    shift_open: bool,
    receipts_in_shift: i64,
    next_check: u64,
    /// Receipts by `ExternalCheckNumber`.
    receipts: HashMap<String, Issued>,
    /// Receipts by fiscal sign (for returns' basis).
    by_sign: HashMap<String, String>,
    pub control: WebkassaControl,
    /// Receipt requests answered (tests count what reached Webkassa).
    pub requests: u32,
}

pub struct Webkassa {
    pub state: Mutex<WebkassaState>,
}

impl Default for Webkassa {
    fn default() -> Webkassa {
        Webkassa { state: Mutex::new(WebkassaState { shift: 0, next_check: 100_000_000, ..WebkassaState::default() }) }
    }
}

fn errors(code: i64, text: &str) -> Response {
    Json(json!({"Errors": [{"Code": code, "Text": text}]})).into_response()
}

fn data(value: Value) -> Response {
    Json(json!({"Data": value})).into_response()
}

fn api_key_missing(headers: &HeaderMap) -> bool {
    headers.get("x-api-key").and_then(|v| v.to_str().ok()).is_none_or(|key| key.trim().is_empty())
}

pub async fn authorize(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if api_key_missing(&headers) {
        return errors(3, "API-key отсутвует либо не найден");
    }
    if body["Login"] != SANDBOX_LOGIN || body["Password"] != SANDBOX_PASSWORD {
        return errors(1, "Неверный логин и/или пароль");
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    sandbox.webkassa.state.lock().expect("webkassa lock").tokens.push(token.clone());
    data(json!({"Token": token}))
}

/// What the proxy's state says before a receipt: a refusal, or nothing.
fn refusal(state: &mut WebkassaState, token: &str, cashbox: &str) -> Option<Response> {
    if !state.tokens.iter().any(|t| t == token) {
        return Some(errors(3, "Пользователь не авторизован"));
    }
    if state.control.expire_tokens > 0 {
        state.control.expire_tokens -= 1;
        state.tokens.retain(|t| t != token);
        return Some(errors(2, "Срок действия сессии истек"));
    }
    if cashbox != SANDBOX_CASHBOX {
        return Some(errors(6, "Касса не зарегистрирована в системе или не доступна пользователю"));
    }
    let control = &state.control;
    if control.blocked {
        return Some(errors(7, "Касса заблокирована"));
    }
    if control.not_activated {
        return Some(errors(10, "Касса не активирована"));
    }
    if control.offline_over_72_hours {
        return Some(errors(18, "Продолжительность работы в автономном режиме превышает 72 часа"));
    }
    None
}

/// Tenge in a JSON number as exact tiyn (at most two decimals).
fn tiyn(value: &Value) -> Option<i64> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    epay_api_types::Amount::parse(&text).ok().map(|a| a.minor() as i64).or_else(|| (text.trim() == "0").then_some(0))
}

/// The total of valid positions (their VAT the one inside each), or why not.
fn positions_total(body: &Value) -> Result<i64, String> {
    let positions = body["Positions"].as_array().filter(|p| !p.is_empty()).ok_or("Positions is required")?;
    let mut total = 0;
    for (i, p) in positions.iter().enumerate() {
        let count = p["Count"].as_f64().filter(|c| *c > 0.0).ok_or(format!("Positions[{i}].Count must be above zero"))?;
        let price = tiyn(&p["Price"]).filter(|p| *p > 0).ok_or(format!("Positions[{i}].Price must be above zero"))?;
        let line = (count * price as f64).round() as i64;
        let (tax_type, percent) = (p["TaxType"].as_i64().unwrap_or(-1), p["TaxPercent"].as_i64().unwrap_or(-1));
        let tax = tiyn(&p["Tax"]).ok_or(format!("Positions[{i}].Tax must be a sum"))?;
        let expected = match (tax_type, percent) {
            (0, 0) => 0,
            (100, percent) if percent > 0 => ((line as f64) * percent as f64 / (100.0 + percent as f64)).round() as i64,
            _ => return Err(format!("Positions[{i}]: TaxType 100 with TaxPercent, or TaxType 0 with TaxPercent 0")),
        };
        if (tax - expected).abs() > 1 {
            return Err(format!("Positions[{i}].Tax {tax} tiyn is not the VAT inside {line} tiyn at {percent} % ({expected})"));
        }
        if p["PositionName"].as_str().is_none_or(|n| n.trim().is_empty()) {
            return Err(format!("Positions[{i}].PositionName is required"));
        }
        total += line;
    }
    Ok(total)
}

pub async fn check(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if api_key_missing(&headers) {
        return errors(3, "API-key отсутвует либо не найден");
    }
    let (issued, hang) = {
        let mut state = sandbox.webkassa.state.lock().expect("webkassa lock");
        state.requests += 1;
        let state = &mut *state;
        if let Some(refused) =
            refusal(state, body["Token"].as_str().unwrap_or_default(), body["CashboxUniqueNumber"].as_str().unwrap_or_default())
        {
            return refused;
        }
        if state.shift_open && state.control.shift_over_24_hours {
            return errors(11, "Продолжительность смены превышает 24 часа");
        }
        let external = body["ExternalCheckNumber"].as_str().unwrap_or_default().to_owned();
        if external.is_empty() {
            return errors(9, "ExternalCheckNumber: поле обязательно");
        }
        if let Some(first) = state.receipts.get(&external) {
            if state.control.duplicate_as_error {
                return errors(14, "Дублирующийся код системы-источника");
            }
            return data(receipt_json(first, &external));
        }
        let operation = body["OperationType"].as_i64().unwrap_or(-1);
        if !matches!(operation, 2 | 3) {
            return errors(9, "OperationType: 2 (продажа) или 3 (возврат продажи)");
        }
        let total = match positions_total(&body) {
            Ok(total) => total,
            Err(message) => return errors(9, &message),
        };
        let paid: i64 = body["Payments"].as_array().into_iter().flatten().filter_map(|p| tiyn(&p["Sum"])).sum();
        if paid != total {
            return errors(9, &format!("Payments add up to {paid} tiyn, the positions to {total}"));
        }
        if operation == 3 {
            let basis = &body["ReturnBasisDetails"];
            let Some(sale_external) = basis["CheckNumber"].as_str().and_then(|sign| state.by_sign.get(sign)).cloned() else {
                return errors(9, "ReturnBasisDetails: чек-основание не найден");
            };
            let sale = state.receipts.get_mut(&sale_external).expect("indexed");
            if basis["RegistrationNumber"] != SANDBOX_REGISTRATION || tiyn(&basis["Total"]) != Some(sale.total_minor) {
                return errors(9, "ReturnBasisDetails: RegistrationNumber или Total не совпадают с чеком-основанием");
            }
            if basis["DateTime"].as_str().and_then(|t| t.get(..19)) != Some(utc_of_local(&sale.date_time).as_str()) {
                return errors(9, "ReturnBasisDetails: DateTime не совпадает с чеком-основанием");
            }
            if sale.returned_minor + total > sale.total_minor {
                return errors(9, "Сумма возврата превышает сумму чека-основания");
            }
            sale.returned_minor += total;
        }
        if !state.shift_open {
            state.shift += 1;
            state.shift_open = true;
            state.receipts_in_shift = 0;
        }
        state.receipts_in_shift += 1;
        state.next_check += 1;
        let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+5));
        let issued = Issued {
            check_number: state.next_check.to_string(),
            operation,
            total_minor: total,
            returned_minor: 0,
            date_time: now.format(time::macros::format_description!("[day].[month].[year] [hour]:[minute]:[second]")).unwrap_or_default(),
            shift: state.shift,
            order_in_shift: state.receipts_in_shift,
            request: {
                let mut request = body.clone();
                request["Token"] = json!("{TOKEN}");
                request
            },
        };
        state.by_sign.insert(issued.check_number.clone(), external.clone());
        state.receipts.insert(external.clone(), issued.clone());
        let hang = state.control.issue_then_hang > 0;
        state.control.issue_then_hang = state.control.issue_then_hang.saturating_sub(1);
        (receipt_json(&issued, &external), hang)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(600)).await;
    }
    data(issued)
}

/// A receipt in the shape of the collection's answer (`docs/webkassa-samples/check.200.json`).
fn receipt_json(r: &Issued, external: &str) -> Value {
    let total = format!("{}.{:02}", r.total_minor / 100, r.total_minor % 100);
    let ticket_url = format!("http://ctest.wofd.kz/consumer?i={}&f={SANDBOX_REGISTRATION}&s={total}&t=sandbox", r.check_number);
    let kind = if r.operation == 3 { "ВОЗВРАТ ПРОДАЖИ" } else { "ПРОДАЖА" };
    json!({
        "CheckNumber": r.check_number,
        "DateTime": r.date_time,
        "DateTimeUTC": format!("{} +05:00", r.date_time),
        "OfflineMode": false,
        "CashboxOfflineMode": false,
        "Cashbox": {
            "UniqueNumber": SANDBOX_CASHBOX,
            "RegistrationNumber": SANDBOX_REGISTRATION,
            "IdentityNumber": "1",
            "Address": "Sandbox",
            "AddressKz": "Sandbox",
            "Ofd": {"Name": "ОФД (sandbox)", "NameKz": "ФДО (sandbox)", "NameEn": "OFD (sandbox)", "Host": "ctest.wofd.kz/consumer", "Code": 4}
        },
        "Organization": {"TaxPayerName": "Sandbox shop", "TaxPayerIN": "000000000000"},
        "CheckOrderNumber": r.order_in_shift,
        "ShiftNumber": r.shift,
        "EmployeeName": "Sandbox",
        "TicketUrl": ticket_url,
        "TicketPrintUrl": format!("https://devkkm.webkassa.kz/spa-ui/ticket?chb={SANDBOX_CASHBOX}&sh={}&extnum={external}", r.shift),
        "TicketPrintFormat": [
            {"Order": 1, "Type": 0, "Value": kind, "Style": 1},
            {"Order": 2, "Type": 0, "Value": format!("ФБ/ФП: {}", r.check_number), "Style": 0},
            {"Order": 3, "Type": 0, "Value": format!("Уақыты/Время: {}", r.date_time), "Style": 0},
            {"Order": 4, "Type": 2, "Value": ticket_url, "Style": 0}
        ]
    })
}

pub async fn zreport(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if api_key_missing(&headers) {
        return errors(3, "API-key отсутвует либо не найден");
    }
    let mut state = sandbox.webkassa.state.lock().expect("webkassa lock");
    let cashbox = body["cashboxUniqueNumber"].as_str().or(body["CashboxUniqueNumber"].as_str()).unwrap_or_default();
    if let Some(refused) = refusal(&mut state, body["Token"].as_str().unwrap_or_default(), cashbox) {
        return refused;
    }
    if !state.shift_open {
        return errors(13, "Не найдена открытая смена");
    }
    state.shift_open = false;
    state.control.shift_over_24_hours = false;
    data(json!({"ShiftNumber": state.shift, "DocumentCount": state.receipts_in_shift, "CashboxSN": SANDBOX_CASHBOX, "OfflineMode": false}))
}

pub async fn print_format(State(sandbox): State<Arc<Sandbox>>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if api_key_missing(&headers) {
        return errors(3, "API-key отсутвует либо не найден");
    }
    let mut state = sandbox.webkassa.state.lock().expect("webkassa lock");
    if let Some(refused) =
        refusal(&mut state, body["Token"].as_str().unwrap_or_default(), body["CashboxUniqueNumber"].as_str().unwrap_or_default())
    {
        return refused;
    }
    let external = body["ExternalCheckNumber"].as_str().unwrap_or_default();
    let Some(receipt) = state.receipts.get(external) else { return errors(19, "Не найден чек с таким номером") };
    let lines = receipt_json(receipt, external)["TicketPrintFormat"].clone();
    data(json!({"Lines": lines}))
}

/// "07.12.2026 13:00:00" in Almaty as "2026-12-07T08:00:00" (UTC).
fn utc_of_local(local: &str) -> String {
    let format = time::macros::format_description!("[day].[month].[year] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(local, format)
        .map(|at| at.assume_offset(time::macros::offset!(+5)).to_offset(time::UtcOffset::UTC))
        .ok()
        .and_then(|at| at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]")).ok())
        .unwrap_or_default()
}

/// Every receipt issued, oldest first, with the request that issued it (its token hidden).
pub async fn list_receipts(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    let state = sandbox.webkassa.state.lock().expect("webkassa lock");
    let mut issued: Vec<(&String, &Issued)> = state.receipts.iter().collect();
    issued.sort_by(|a, b| a.1.check_number.cmp(&b.1.check_number));
    Json(Value::Array(
        issued
            .into_iter()
            .map(|(external, r)| {
                json!({"externalCheckNumber": external, "checkNumber": r.check_number, "operationType": r.operation, "totalMinor": r.total_minor, "shift": r.shift, "request": r.request})
            })
            .collect(),
    ))
}

pub async fn show_control(State(sandbox): State<Arc<Sandbox>>) -> Json<Value> {
    let state = sandbox.webkassa.state.lock().expect("webkassa lock");
    Json(
        json!({"control": state.control, "requests": state.requests, "receipts": state.receipts.len(), "shift": state.shift, "shiftOpen": state.shift_open}),
    )
}

pub async fn replace_control(State(sandbox): State<Arc<Sandbox>>, Json(control): Json<WebkassaControl>) -> Json<WebkassaControl> {
    sandbox.webkassa.state.lock().expect("webkassa lock").control = control.clone();
    Json(control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_must_carry_the_vat_inside_them_and_name_what_they_are() {
        let ok = json!({"Positions": [{"Count": 1, "Price": 500, "TaxPercent": 12, "Tax": 53.57, "TaxType": 100, "PositionName": "Соль"}]});
        assert_eq!(positions_total(&ok), Ok(50_000));
        let wrong_tax =
            json!({"Positions": [{"Count": 1, "Price": 1000, "TaxPercent": 12, "Tax": 53.57, "TaxType": 100, "PositionName": "x"}]});
        assert!(positions_total(&wrong_tax).unwrap_err().contains("not the VAT"), "the collection's copy-paste slip is refused");
        let none = json!({"Positions": [{"Count": 1.5, "Price": 100, "TaxPercent": 0, "Tax": 0, "TaxType": 0, "PositionName": "x"}]});
        assert_eq!(positions_total(&none), Ok(15_000));
        assert!(positions_total(&json!({"Positions": []})).is_err());
    }
}
