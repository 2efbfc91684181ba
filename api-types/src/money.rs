//! Exact money amounts: integer minor units (tiyn for KZT), parsed from decimal text.
//! No floating point anywhere: "1500.50" is 150050 minor units, always.

/// A positive amount in minor units (1/100 of the currency unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountError {
    /// Nothing was entered.
    Empty,
    /// Not a plain decimal number (letters, signs, exponents, several points...).
    NotANumber,
    /// More than two digits after the decimal point.
    TooManyDecimals,
    /// Zero or negative.
    NotPositive,
    /// More digits than any real payment (and than an i64 of minor units) can hold.
    TooLarge,
}

/// At most 12 whole digits: 999 999 999 999.99 still fits an i64 of minor units with room.
const MAX_WHOLE_DIGITS: usize = 12;

impl Amount {
    pub const fn from_minor(minor: u64) -> Self {
        Amount(minor)
    }

    pub const fn minor(self) -> u64 {
        self.0
    }

    /// Parses a decimal amount as the proxy accepts it: digits, optionally a point and one or
    /// two digits. No sign, no exponent, no grouping.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) {
            return Err(AmountError::NotANumber);
        }
        let fraction = fraction.unwrap_or("");
        if !all_digits(fraction) || (text.ends_with('.')) {
            return Err(AmountError::NotANumber);
        }
        if fraction.len() > 2 {
            return Err(AmountError::TooManyDecimals);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > MAX_WHOLE_DIGITS {
            return Err(AmountError::TooLarge);
        }
        let mut minor: u64 = 0;
        for digit in whole.bytes().chain(fraction.bytes()).chain(b"00"[fraction.len()..].iter().copied()) {
            minor = minor * 10 + u64::from(digit - b'0');
        }
        if minor == 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Amount(minor))
    }

    /// Parses what a payer types: also accepts a decimal comma and spaces used as thousands
    /// separators ("1 500,50"), and a leading minus only to report it as not positive.
    pub fn parse_typed(text: &str) -> Result<Amount, AmountError> {
        let cleaned: String =
            text.chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).map(|c| if c == ',' { '.' } else { c }).collect();
        match cleaned.strip_prefix('-') {
            Some(rest) if Amount::parse(rest).is_ok() => Err(AmountError::NotPositive),
            _ => Amount::parse(&cleaned),
        }
    }
}

impl Amount {
    /// The canonical text (`Display`), written without `core::fmt`: the widget's wasm has no
    /// other use for the formatting machinery (about 1 kB brotli of its budget).
    pub fn text(self) -> String {
        let (mut whole, minor) = (self.0 / 100, self.0 % 100);
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (whole % 10) as u8;
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        let mut text: String = digits[start..].iter().map(|&d| char::from(d)).collect();
        if minor != 0 {
            text.push('.');
            text.push(char::from(b'0' + (minor / 10) as u8));
            text.push(char::from(b'0' + (minor % 10) as u8));
        }
        text
    }
}

/// Canonical text: "1500" for whole amounts, "1500.50" otherwise. This is what the proxy
/// sends to ePay and the widget turns into a JS number for `halyk.p2p`.
impl core::fmt::Display for Amount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_and_fractional_amounts_exactly() {
        assert_eq!(Amount::parse("1500"), Ok(Amount(150_000)));
        assert_eq!(Amount::parse("1500.5"), Ok(Amount(150_050)));
        assert_eq!(Amount::parse("1500.05"), Ok(Amount(150_005)));
        assert_eq!(Amount::parse("0.01"), Ok(Amount(1)));
        assert_eq!(Amount::parse("00100"), Ok(Amount(10_000)));
        assert_eq!(Amount::parse("999999999999.99"), Ok(Amount(99_999_999_999_999)));
    }

    #[test]
    fn rejects_everything_that_is_not_a_plain_positive_decimal() {
        assert_eq!(Amount::parse(""), Err(AmountError::Empty));
        for text in ["abc", "1e3", "+1", "-1", "1.", ".5", "1.2.3", " 1", "1,5", "0x10", "١٢"] {
            assert_eq!(Amount::parse(text), Err(AmountError::NotANumber), "{text}");
        }
        assert_eq!(Amount::parse("1.001"), Err(AmountError::TooManyDecimals));
        assert_eq!(Amount::parse("0"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse("0.00"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse("1000000000000"), Err(AmountError::TooLarge));
    }

    #[test]
    fn typed_input_accepts_grouping_and_decimal_comma() {
        assert_eq!(Amount::parse_typed("1 500,50"), Ok(Amount(150_050)));
        assert_eq!(Amount::parse_typed("1\u{a0}500"), Ok(Amount(150_000)));
        assert_eq!(Amount::parse_typed("-5"), Err(AmountError::NotPositive));
        assert_eq!(Amount::parse_typed("-"), Err(AmountError::NotANumber));
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(Amount(150_000).to_string(), "1500");
        assert_eq!(Amount(150_050).to_string(), "1500.50");
        assert_eq!(Amount(1).to_string(), "0.01");
        assert_eq!(Amount(1).text(), "0.01");
        assert_eq!(Amount(10).to_string(), "0.10");
        assert_eq!(Amount(105).to_string(), "1.05");
        assert_eq!(Amount(99_999_999_999_999).to_string(), "999999999999.99");
        assert_eq!(Amount(u64::MAX).to_string(), "184467440737095516.15");
        for minor in (0..100_000).step_by(7).chain([u64::MAX, u64::MAX - 1, 100, 101]) {
            let (whole, cents) = (minor / 100, minor % 100);
            let expected = if cents == 0 { format!("{whole}") } else { format!("{whole}.{cents:02}") };
            assert_eq!(Amount(minor).text(), expected);
        }
    }
}
