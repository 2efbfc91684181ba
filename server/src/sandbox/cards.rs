//! Test cards the sandbox payment page accepts, and what each one does.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardOutcome {
    /// Paid; postLink delivered.
    Approve,
    /// Declined by the issuer with this reasonCode.
    Decline { reason_code: i64, reason: &'static str },
    /// Paid, but the postLink is never sent (what reconciliation exists for).
    ApproveWithoutNotification,
}

pub struct TestCard {
    pub number: &'static str,
    pub outcome: CardOutcome,
    pub what: &'static str,
}

pub const TEST_CARDS: &[TestCard] = &[
    TestCard { number: "4111111111111111", outcome: CardOutcome::Approve, what: "approved" },
    TestCard {
        number: "4000000000009995",
        outcome: CardOutcome::Decline { reason_code: 484, reason: "Недостаточно средств на карте" },
        what: "declined: insufficient funds (484)",
    },
    TestCard {
        number: "4000000000000119",
        outcome: CardOutcome::Decline { reason_code: 476, reason: "Повторите попытку позже" },
        what: "declined: retry later (476)",
    },
    TestCard {
        number: "5555555555554444",
        outcome: CardOutcome::ApproveWithoutNotification,
        what: "approved, but no postLink is ever sent",
    },
];

/// The card for a typed number (spaces and dashes ignored).
pub fn find(typed: &str) -> Option<&'static TestCard> {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    TEST_CARDS.iter().find(|card| card.number == digits)
}

/// ePay's mask: first six digits, "...", last four ("440043...2222").
pub fn mask(number: &str) -> String {
    format!("{}...{}", &number[..6], &number[number.len() - 4..])
}

/// Groups of four for display.
pub fn spaced(number: &str) -> String {
    number.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cards_however_typed_and_masks_like_epay() {
        assert_eq!(find("4111 1111-1111 1111").unwrap().outcome, CardOutcome::Approve);
        assert!(find("1234").is_none());
        assert_eq!(mask("4000000000009995"), "400000...9995");
        assert_eq!(spaced("4111111111111111"), "4111 1111 1111 1111");
    }
}
