//! The outcome of an order, on the page ePay sends the payer back to (or after the overlay
//! closes). It asks the proxy, never the URL: "paid" appears only when the proxy says so.
//! While the order is pending it asks again with growing pauses, then says what happens next.
//! What each answer means is `logic::outcome`.

use epay_api_types::{Language, OrderView, PaymentMethod};

use crate::api;
use crate::logic::failure::Failure;
use crate::logic::outcome::{self, Outcome};
use crate::{dom, format, i18n};

/// Pauses between questions, in units of the base interval (1 s by default): about two
/// minutes in all, enough for a late postLink and the proxy's confirmation.
const BACKOFF: [i32; 10] = [0, 1, 2, 3, 5, 8, 13, 20, 30, 30];

/// Asks until the order is final or the pauses run out, telling `heard` each answer of the
/// proxy and `show` what it means; stops early when `show` returns false (the widget is gone).
/// Three questions in a row without an answer say the service is out of reach, not that the
/// bank is slow; asking goes on, and an answer puts that right.
/// `method` is the page's, for a proxy that does not say the order's.
pub async fn follow(
    proxy: &str,
    order: &(String, String),
    language: Language,
    method: PaymentMethod,
    base_ms: i32,
    heard: impl Fn(&OrderView),
    show: impl Fn(Outcome) -> bool,
) {
    let texts = i18n::texts(language);
    let (invoice_id, key) = order;
    // Questions in a row that reached nothing.
    let mut unanswered: u32 = 0;
    // An outcome shown while its receipt is on its way: asking goes on for the receipt's link.
    let (mut shown, mut receipt_due) = (false, false);
    for pause in BACKOFF {
        dom::sleep(pause * base_ms).await;
        let answer = match api::order(proxy, invoice_id, key).await {
            Ok(view) => {
                unanswered = 0;
                heard(&view);
                receipt_due = view.receipt_due;
                outcome::from_view(view, texts, method, |amount, currency| format::money(amount, currency, language))
            }
            Err(Failure::Refused { status: 404, .. }) => Some(Outcome::NotFound),
            Err(Failure::Network) => {
                unanswered += 1;
                None
            }
            Err(_) => None,
        };
        match answer {
            Some(done) => {
                if !show(done) || !receipt_due {
                    return;
                }
                shown = true;
            }
            None if shown => {}
            None if !show(outcome::waiting(unanswered, false)) => return,
            None => {}
        }
    }
    if !shown {
        show(outcome::waiting(unanswered, true));
    }
}
