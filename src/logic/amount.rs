//! A typed amount against the proxy's limits.

use epay_api_types::{Amount, AmountError};

use crate::i18n::Texts;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmountProblem {
    Empty,
    NotANumber,
    TooManyDecimals,
    NotPositive,
    BelowMin(Amount),
    AboveMax(Amount),
}

/// The amount the payer typed ("1 500,50" too), within `limits` (min, max) once they are known.
pub fn check(typed: &str, limits: Option<(Amount, Amount)>) -> Result<Amount, AmountProblem> {
    let amount = Amount::parse_typed(typed).map_err(|err| match err {
        AmountError::Empty => AmountProblem::Empty,
        AmountError::NotANumber | AmountError::TooLarge => AmountProblem::NotANumber,
        AmountError::TooManyDecimals => AmountProblem::TooManyDecimals,
        AmountError::NotPositive => AmountProblem::NotPositive,
    })?;
    match limits {
        Some((min, _)) if amount < min => Err(AmountProblem::BelowMin(min)),
        Some((_, max)) if amount > max => Err(AmountProblem::AboveMax(max)),
        _ => Ok(amount),
    }
}

/// What the payer reads; `money` formats a limit in their language.
pub fn message(texts: &Texts, problem: AmountProblem, money: impl Fn(Amount) -> String) -> String {
    match problem {
        AmountProblem::Empty => texts.amount_empty.to_owned(),
        AmountProblem::NotANumber => texts.amount_not_a_number.to_owned(),
        AmountProblem::TooManyDecimals => texts.amount_decimals.to_owned(),
        AmountProblem::NotPositive => texts.amount_not_positive.to_owned(),
        AmountProblem::BelowMin(min) => String::from(texts.amount_min) + &money(min),
        AmountProblem::AboveMax(max) => String::from(texts.amount_max) + &money(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use epay_api_types::Language;

    const LIMITS: Option<(Amount, Amount)> = Some((Amount::from_minor(10_000), Amount::from_minor(50_000_000)));

    #[test]
    fn typed_amounts_are_read_like_a_payer_writes_them() {
        assert_eq!(check("1 500,50", LIMITS), Ok(Amount::from_minor(150_050)));
        assert_eq!(check("1500.5", None), Ok(Amount::from_minor(150_050)));
        assert_eq!(check("", LIMITS), Err(AmountProblem::Empty));
        assert_eq!(check("abc", LIMITS), Err(AmountProblem::NotANumber));
        assert_eq!(check("10.555", LIMITS), Err(AmountProblem::TooManyDecimals));
        assert_eq!(check("-5", LIMITS), Err(AmountProblem::NotPositive));
        assert_eq!(check("50", LIMITS), Err(AmountProblem::BelowMin(Amount::from_minor(10_000))));
        assert_eq!(check("600000", LIMITS), Err(AmountProblem::AboveMax(Amount::from_minor(50_000_000))));
        assert_eq!(check("50", None), Ok(Amount::from_minor(5_000)), "no limits before the config arrives");
    }

    #[test]
    fn every_problem_has_a_message_in_every_language() {
        for language in [Language::Ru, Language::Kk, Language::En] {
            let texts = crate::i18n::texts(language);
            let money = |a: Amount| a.to_string();
            assert_eq!(message(texts, AmountProblem::BelowMin(Amount::from_minor(10_000)), money), String::from(texts.amount_min) + "100");
            for problem in [AmountProblem::Empty, AmountProblem::NotANumber, AmountProblem::TooManyDecimals, AmountProblem::NotPositive] {
                assert!(!message(texts, problem, money).is_empty());
            }
        }
        assert_eq!(
            message(crate::i18n::texts(Language::Ru), AmountProblem::TooManyDecimals, |a| a.to_string()),
            "Не больше двух знаков после запятой"
        );
    }
}
