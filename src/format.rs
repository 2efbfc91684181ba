//! Money for people, formatted by the browser's `Intl.NumberFormat` ("1 500 ₸").

use epay_api_types::{Amount, Language};
use wasm_bindgen::JsValue;

use crate::dom;

/// `amount` in `currency` for `language`, whole amounts without decimals.
pub fn money(amount: Amount, currency: &str, language: Language) -> String {
    let options = js_sys::Object::new();
    dom::set(&options, "style", &"currency".into());
    dom::set(&options, "currency", &currency.into());
    dom::set(&options, "currencyDisplay", &"narrowSymbol".into());
    let fraction_digits = if amount.minor().is_multiple_of(100) { 0 } else { 2 };
    dom::set(&options, "minimumFractionDigits", &fraction_digits.into());
    dom::set(&options, "maximumFractionDigits", &fraction_digits.into());
    // Kazakh amounts use ru-KZ: CLDR gives kk and ru the same currency pattern ("2 500,50 ₸"),
    // and some browsers (Debian's Chromium) ship no Kazakh number data and print "₸ 2,500".
    let locale = match language {
        Language::En => "en",
        Language::Ru | Language::Kk => "ru-KZ",
    };
    let locales = js_sys::Array::of1(&locale.into());
    let formatter = js_sys::Intl::NumberFormat::new(&locales, &options);
    formatter.format().call1(&JsValue::NULL, &number(amount)).ok().and_then(|text| text.as_string()).unwrap_or_else(|| amount.text())
}

/// The amount as a primitive JS number (what ePay's payment object wants), parsed by the
/// browser from its exact decimal text: "1500.50" becomes 1500.5.
pub fn number(amount: Amount) -> JsValue {
    JsValue::from_f64(js_sys::Number::parse_float(&amount.text()))
}
