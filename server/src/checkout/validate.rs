//! Checkout request validation: every rule a merchant or payer can break, each with a message
//! that says how to fix it.

use epay_api_types::{Amount, AmountError, CheckoutRequest, DESCRIPTION_MAX_BYTES, ErrorCode, Language, PaymentMethod};

use crate::config::CheckoutSettings;
use crate::error::AppError;
use crate::text::is_direction_control;

/// A checkout request that passed every rule, normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidCheckout {
    pub amount: Amount,
    pub currency: String,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: Language,
    pub card_save: bool,
    pub method: PaymentMethod,
}

impl ValidCheckout {
    /// Identifies the request for Idempotency-Key reuse checks.
    pub fn fingerprint(&self) -> String {
        let canonical = [
            self.amount.minor().to_string(),
            self.currency.clone(),
            self.description.clone(),
            self.account_id.clone(),
            self.email.clone(),
            self.phone.clone(),
            self.language.tag().to_owned(),
            self.card_save.to_string(),
            self.method.js_name().to_owned(),
        ]
        .join("\u{1f}");
        crate::secrets::sha256_hex(canonical.as_bytes())
    }
}

pub const ACCOUNT_ID_MAX: usize = 64;
pub const EMAIL_MAX: usize = 254;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::unprocessable(ErrorCode::InvalidField, message)
}

/// What is paid for, as either door asks it (a payer's checkout, a merchant's order): the
/// fields one set of rules checks, borrowed from the request.
#[derive(Clone, Copy, Debug)]
pub struct Terms<'a> {
    pub amount: &'a str,
    pub currency: Option<&'a str>,
    pub description: Option<&'a str>,
    pub account_id: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub language: Option<Language>,
    pub card_save: Option<bool>,
    pub method: Option<PaymentMethod>,
}

impl<'a> From<&'a CheckoutRequest> for Terms<'a> {
    fn from(request: &'a CheckoutRequest) -> Terms<'a> {
        Terms {
            amount: &request.amount,
            currency: request.currency.as_deref(),
            description: request.description.as_deref(),
            account_id: request.account_id.as_deref(),
            email: request.email.as_deref(),
            phone: request.phone.as_deref(),
            language: request.language,
            card_save: request.card_save,
            method: request.method,
        }
    }
}

/// A payer's checkout request, by the rules of `terms`.
pub fn checkout(request: &CheckoutRequest, rules: &CheckoutSettings) -> Result<ValidCheckout, AppError> {
    terms(Terms::from(request), rules)
}

pub fn terms(request: Terms<'_>, rules: &CheckoutSettings) -> Result<ValidCheckout, AppError> {
    let amount = amount(request.amount, rules)?;

    let currency = match request.currency {
        None => rules.currencies[0].clone(),
        Some(c) => c.trim().to_ascii_uppercase(),
    };
    if !rules.currencies.contains(&currency) {
        return Err(invalid(format!("currency `{currency}` is not accepted here; use {}", rules.currencies.join(" or "))));
    }

    let description = request.description.unwrap_or("").trim().to_owned();
    if description.len() > DESCRIPTION_MAX_BYTES {
        return Err(invalid(format!(
            "description is {} bytes; ePay keeps at most {DESCRIPTION_MAX_BYTES} (Cyrillic letters take 2 bytes each)",
            description.len()
        )));
    }
    if description.chars().any(char::is_control) {
        return Err(invalid("description must not contain control characters or line breaks"));
    }
    if let Some(c) = description.chars().find(|c| is_direction_control(*c)) {
        return Err(invalid(format!(
            "description must not contain the invisible text-direction character U+{:04X}: it can make ePay's page and receipts show other text than was paid for",
            u32::from(c)
        )));
    }

    let account_id = request.account_id.unwrap_or("").trim().to_owned();
    if account_id.chars().count() > ACCOUNT_ID_MAX || account_id.chars().any(|c| c.is_control()) {
        return Err(invalid(format!("accountId must be at most {ACCOUNT_ID_MAX} printable characters")));
    }

    let email = request.email.unwrap_or("").trim().to_owned();
    if !email.is_empty() && !looks_like_email(&email) {
        return Err(invalid(format!("email `{email}` is not an e-mail address")));
    }

    let phone = match request.phone.map(str::trim).filter(|p| !p.is_empty()) {
        None => String::new(),
        Some(p) => {
            normalize_phone(p).ok_or_else(|| invalid(format!("phone `{p}` is not a phone number (10 to 15 digits, e.g. 77011234567)")))?
        }
    };

    Ok(ValidCheckout {
        amount,
        currency,
        description,
        account_id,
        email,
        phone,
        language: request.language.unwrap_or_default(),
        card_save: request.card_save.unwrap_or(false),
        method: request.method.unwrap_or_default(),
    })
}

fn amount(text: &str, rules: &CheckoutSettings) -> Result<Amount, AppError> {
    let amount = Amount::parse(text.trim()).map_err(|err| {
        let why = match err {
            AmountError::Empty => "amount is empty",
            AmountError::NotANumber => "amount must be a decimal number such as \"1500\" or \"1500.50\"",
            AmountError::TooManyDecimals => "amount has more than 2 decimal places",
            AmountError::NotPositive => "amount must be greater than zero",
            AmountError::TooLarge => "amount has too many digits",
        };
        AppError::unprocessable(ErrorCode::InvalidAmount, format!("{why} (got `{text}`)"))
    })?;
    if amount < rules.min_amount {
        return Err(AppError::unprocessable(
            ErrorCode::AmountTooSmall,
            format!("amount {amount} is below the minimum of {}", rules.min_amount),
        ));
    }
    if amount > rules.max_amount {
        return Err(AppError::unprocessable(
            ErrorCode::AmountTooLarge,
            format!("amount {amount} is above the maximum of {}", rules.max_amount),
        ));
    }
    Ok(amount)
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    email.len() <= EMAIL_MAX
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Digits only, as ePay's samples send it ("77777777777"); accepts +, spaces, dashes, brackets.
fn normalize_phone(phone: &str) -> Option<String> {
    let without_plus = phone.strip_prefix('+').unwrap_or(phone);
    let mut digits = String::new();
    for c in without_plus.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' => {}
            _ => return None,
        }
    }
    (10..=15).contains(&digits.len()).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CheckoutSettings {
        crate::config::Config::from_lookup(|name| match name {
            "CHECKOUT_MIN_AMOUNT" => Some("10".into()),
            "CHECKOUT_MAX_AMOUNT" => Some("500000".into()),
            _ => None,
        })
        .unwrap()
        .checkout
    }

    fn request(amount: &str) -> CheckoutRequest {
        CheckoutRequest { amount: amount.into(), ..Default::default() }
    }

    fn code(result: Result<ValidCheckout, AppError>) -> ErrorCode {
        result.unwrap_err().code
    }

    #[test]
    fn defaults_fill_in_what_the_payer_left_out() {
        let valid = checkout(&request("1500.5"), &config()).unwrap();
        assert_eq!(valid.amount, Amount::from_minor(150_050));
        assert_eq!(valid.currency, "KZT");
        assert_eq!(valid.language, Language::Ru);
        assert_eq!(valid.method, PaymentMethod::P2p);
        assert!(!valid.card_save);
    }

    #[test]
    fn amounts_outside_the_rules_are_refused_with_their_own_code() {
        let config = config();
        assert_eq!(code(checkout(&request("0"), &config)), ErrorCode::InvalidAmount);
        assert_eq!(code(checkout(&request("-5"), &config)), ErrorCode::InvalidAmount);
        assert_eq!(code(checkout(&request("10.001"), &config)), ErrorCode::InvalidAmount);
        assert_eq!(code(checkout(&request("1e5"), &config)), ErrorCode::InvalidAmount);
        assert_eq!(code(checkout(&request("9.99"), &config)), ErrorCode::AmountTooSmall);
        assert_eq!(code(checkout(&request("500000.01"), &config)), ErrorCode::AmountTooLarge);
        assert!(checkout(&request("500000"), &config).is_ok());
        assert!(checkout(&request("10"), &config).is_ok());
    }

    #[test]
    fn fields_are_checked_and_normalised() {
        let config = config();
        let long = CheckoutRequest { description: Some("я".repeat(63)), ..request("100") };
        assert_eq!(code(checkout(&long, &config)), ErrorCode::InvalidField);
        let fits = CheckoutRequest { description: Some("я".repeat(62)), ..request("100") };
        assert!(checkout(&fits, &config).is_ok());
        let usd = CheckoutRequest { currency: Some("usd".into()), ..request("100") };
        assert!(checkout(&usd, &config).unwrap_err().message.contains("KZT"));
        let email = CheckoutRequest { email: Some("not-an-email".into()), ..request("100") };
        assert_eq!(code(checkout(&email, &config)), ErrorCode::InvalidField);
        let phone = CheckoutRequest { phone: Some("+7 (701) 123-45-67".into()), ..request("100") };
        assert_eq!(checkout(&phone, &config).unwrap().phone, "77011234567");
        let bad_phone = CheckoutRequest { phone: Some("call me".into()), ..request("100") };
        assert_eq!(code(checkout(&bad_phone, &config)), ErrorCode::InvalidField);
    }

    #[test]
    fn descriptions_refuse_invisible_direction_controls() {
        let config = config();
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200E}',
            '\u{200F}', '\u{061C}',
        ] {
            let spoofed = CheckoutRequest { description: Some(format!("Order 42 {c}000 1")), ..request("100") };
            let err = checkout(&spoofed, &config).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidField);
            assert!(err.message.contains(&format!("U+{:04X}", u32::from(c))), "{}", err.message);
        }
        // Arabic and Hebrew text is fine; only the invisible controls are refused.
        let rtl = CheckoutRequest { description: Some("طلب 42 הזמנה".into()), ..request("100") };
        assert!(checkout(&rtl, &config).is_ok());
    }

    #[test]
    fn fingerprint_changes_with_any_field() {
        let config = config();
        let a = checkout(&request("100"), &config).unwrap();
        let b = checkout(&CheckoutRequest { description: Some("x".into()), ..request("100") }, &config).unwrap();
        assert_eq!(a.fingerprint(), checkout(&request("100.00"), &config).unwrap().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
