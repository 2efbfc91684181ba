//! The widget's options, read from its host element's `data-*` attributes:
//!
//! ```html
//! <div data-epay-checkout data-proxy="https://pay.shop.kz" data-amount="1500"
//!      data-description="Order 42" data-lang="kk" data-method="p2p"></div>
//! ```

use epay_api_types::{Amount, Language, PaymentMethod};
use web_sys::Element;

use crate::dom;

#[derive(Clone)]
pub struct Options {
    /// Base URL of the token proxy; empty means the page's own origin.
    pub proxy: String,
    /// An amount the host page fixed; `None` lets the payer type one.
    pub amount: Option<Amount>,
    /// A description the host page fixed; `None` lets the payer add one.
    pub description: Option<String>,
    pub language: Language,
    pub method: PaymentMethod,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub card_save: bool,
    /// Order reference and key: a merchant order to pay (`data-order`), or a return from
    /// ePay (outcome view).
    pub order: Option<(String, String)>,
    /// The order came from `data-order`, not from the URL: the merchant's own order.
    pub order_on_page: bool,
    /// The page is ePay's back link for this order (`?order=` names it).
    pub returning: bool,
    /// Base pause between status questions in the outcome view (`data-poll-ms`).
    pub poll_base_ms: i32,
}

impl Options {
    /// `data-*` first, then the page URL (`?lang=`, and `?order=` with `#key=` on return from
    /// ePay; `?key=` from older back links), then `<html lang>`. The key travels in the
    /// fragment so it stays out of server logs, proxies and analytics.
    pub fn from_element(host: &Element) -> Options {
        let data = |name: &str| host.get_attribute(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let param = dom::query_param;
        let language = data("data-lang")
            .or_else(|| param("lang"))
            .or_else(|| dom::document().document_element().map(|html| html.get_attribute("lang").unwrap_or_default()))
            .and_then(|tag| Language::from_tag(&tag))
            .unwrap_or_default();
        let key = data("data-order-key").or_else(|| dom::fragment_param("key")).or_else(|| param("key"));
        let on_page = data("data-order");
        let returning = param("order");
        let order_on_page = on_page.is_some();
        let returning = returning.is_some() && (on_page.is_none() || on_page == returning);
        let order = match (on_page.or_else(|| param("order")), key) {
            (Some(order), Some(key)) => Some((order, key)),
            _ => None,
        };
        Options {
            proxy: data("data-proxy").map(|p| p.trim_end_matches('/').to_owned()).unwrap_or_default(),
            // A merchant order's amount is the proxy's: the page's is ignored.
            amount: data("data-amount").filter(|_| !order_on_page).and_then(|a| Amount::parse(&a).ok()),
            description: data("data-description"),
            language,
            method: data("data-method").and_then(|m| PaymentMethod::from_name(&m)).unwrap_or_default(),
            account_id: data("data-account-id").unwrap_or_default(),
            email: data("data-email").unwrap_or_default(),
            phone: data("data-phone").unwrap_or_default(),
            card_save: data("data-card-save").is_some_and(|v| v == "true"),
            order,
            order_on_page,
            returning,
            poll_base_ms: data("data-poll-ms").and_then(|ms| ms.parse().ok()).filter(|ms| *ms > 0).unwrap_or(1000),
        }
    }
}
