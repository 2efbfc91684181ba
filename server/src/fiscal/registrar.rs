//! A registrar of fiscal receipts, as the receipts' worker needs one: issue a receipt under its
//! external number, look one up by that number, close the shift. Webkassa is the first
//! (`webkassa_client.rs`); another (TipTopPay Kassir, ReKassa, Kassa24) implements the same three
//! and says what each of its answers means in these words.

use std::future::Future;
use std::pin::Pin;

use super::webkassa::{Issued, Receipt};

/// What came of a request to a registrar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer<T> {
    Done(T),
    /// The request never reached the registrar (connection refused, or a token could not be
    /// had): sending it again is safe.
    NotSent(String),
    /// It may have arrived and not been answered (a timeout, a reset, a 5xx): a receipt is
    /// looked up before it is ever sent again.
    Unknown(String),
    /// A person must act on the cash register (`code`: `cash_register_blocked`,
    /// `cash_register_not_activated`, `offline_over_72_hours`, `wrong_credentials`,
    /// `cash_register_not_found`); nothing was issued.
    Alert {
        code: &'static str,
        text: String,
    },
    /// Refused as it is (a validation error): sending it again changes nothing.
    Refused(String),
}

impl<T> Answer<T> {
    /// A non-`Done` answer as an answer of another type (`Done` is the caller's to handle).
    pub fn map_never<U>(self) -> Answer<U> {
        match self {
            Answer::Done(_) => unreachable!("Done is handled by the caller"),
            Answer::NotSent(why) => Answer::NotSent(why),
            Answer::Unknown(why) => Answer::Unknown(why),
            Answer::Alert { code, text } => Answer::Alert { code, text },
            Answer::Refused(why) => Answer::Refused(why),
        }
    }

    /// What a person reads of an answer that issued nothing, and the alert it raises, if any.
    pub fn describe(self) -> (String, Option<&'static str>) {
        match self {
            Answer::Done(_) => ("done".into(), None),
            Answer::NotSent(why) => (format!("the registrar was not reached: {why}"), None),
            Answer::Unknown(why) => (format!("no answer (it is looked up before it is sent again): {why}"), None),
            Answer::Alert { code, text } => (format!("{code}: {text}"), Some(code)),
            Answer::Refused(why) => (why, None),
        }
    }
}

/// What a look-up found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    Issued(Issued),
    /// The registrar has no receipt under that number: it was never issued.
    Nothing,
}

pub type Pending<'a, T> = Pin<Box<dyn Future<Output = Answer<T>> + Send + 'a>>;

pub trait Registrar: Send + Sync {
    /// The cash register receipts go to (how the console and the shift's record name it).
    fn cashbox(&self) -> &str;
    /// Issues a sale (no `return_basis`) or a return. A registrar that says "issued already"
    /// for a repeated external number answers `Done` with that receipt (after its own look-up).
    fn issue<'a>(&'a self, receipt: &'a Receipt<'a>) -> Pending<'a, Issued>;
    fn look_up<'a>(&'a self, external_number: &'a str) -> Pending<'a, Found>;
    /// Closes the shift (a Z-report).
    fn close_shift(&self) -> Pending<'_, ()>;
}
