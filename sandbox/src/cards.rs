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
    /// One of ePay's own published test cards (docs/epay-contract.md), not the sandbox's.
    pub published: bool,
}

pub const TEST_CARDS: &[TestCard] = &[
    TestCard { number: "4111111111111111", outcome: CardOutcome::Approve, what: "approved", published: false },
    TestCard {
        number: "4000000000009995",
        outcome: CardOutcome::Decline { reason_code: 484, reason: "Недостаточно средств на карте" },
        what: "declined: insufficient funds (484)",
        published: false,
    },
    TestCard {
        number: "4000000000000119",
        outcome: CardOutcome::Decline { reason_code: 476, reason: "Повторите попытку позже" },
        what: "declined: retry later (476)",
        published: false,
    },
    TestCard {
        number: "5555555555554444",
        outcome: CardOutcome::ApproveWithoutNotification,
        what: "approved, but no postLink is ever sent",
        published: false,
    },
    TestCard { number: "4405639704015096", outcome: CardOutcome::Approve, what: "ePay test card: working", published: true },
    TestCard { number: "5522042705066736", outcome: CardOutcome::Approve, what: "ePay test card: working", published: true },
    TestCard { number: "377514500004820", outcome: CardOutcome::Approve, what: "ePay test card: working", published: true },
    TestCard {
        number: "4000000000000341",
        outcome: CardOutcome::Approve,
        what: "approved; saved, its 2nd payment by cardId is declined",
        published: false,
    },
    TestCard {
        number: "4000000000000002",
        outcome: CardOutcome::Approve,
        what: "approved; saved, every payment by cardId is declined",
        published: false,
    },
    TestCard {
        number: "4000000000000069",
        outcome: CardOutcome::Approve,
        what: "approved; saved, it expires after one payment by cardId",
        published: false,
    },
    TestCard { number: "4003032704547597", outcome: BLOCKED, what: "ePay test card: blocked", published: true },
    TestCard { number: "5578342710750560", outcome: BLOCKED, what: "ePay test card: blocked", published: true },
];

/// Test cards that pay on the payment page but behave differently when charged later by their
/// `cardId` (a card saved with `cardSave: true`): for subscriptions' tests.
pub struct SavedCardBehaviour {
    pub number: &'static str,
    /// The outcome of its `nth` payment by `cardId` (from 1).
    pub charge: fn(nth: u32) -> CardOutcome,
}

/// The sandbox's own codes for a saved card's refusals (ePay publishes none for these).
pub const EXPIRED: CardOutcome = CardOutcome::Decline { reason_code: 454, reason: "Истек срок действия карты" };
pub const DEACTIVATED: CardOutcome = CardOutcome::Decline { reason_code: 455, reason: "Карта деактивирована" };
const NO_FUNDS: CardOutcome = CardOutcome::Decline { reason_code: 484, reason: "Недостаточно средств на карте" };

pub const SAVED_CARD_BEHAVIOURS: &[SavedCardBehaviour] = &[
    SavedCardBehaviour { number: "4000000000000341", charge: |nth| if nth == 2 { NO_FUNDS } else { CardOutcome::Approve } },
    SavedCardBehaviour { number: "4000000000000002", charge: |_| NO_FUNDS },
    SavedCardBehaviour { number: "4000000000000069", charge: |nth| if nth == 1 { CardOutcome::Approve } else { EXPIRED } },
];

/// What the `nth` payment by `cardId` with the saved card `number` does.
pub fn saved_charge(number: &str, nth: u32) -> CardOutcome {
    match SAVED_CARD_BEHAVIOURS.iter().find(|b| b.number == number) {
        Some(behaviour) => (behaviour.charge)(nth),
        // Any other card pays as it paid on the page (a blocked card never got saved).
        None => find(number).map_or(CardOutcome::Approve, |card| match card.outcome {
            CardOutcome::ApproveWithoutNotification => CardOutcome::Approve,
            outcome => outcome,
        }),
    }
}

/// How the sandbox declines ePay's published blocked cards (ePay's own code is not published).
const BLOCKED: CardOutcome = CardOutcome::Decline { reason_code: 478, reason: "Карта заблокирована" };

/// A receiving card for transfers: any number of 16 digits that passes the Luhn check (the
/// sandbox pays nobody).
pub fn valid_receiver(typed: &str) -> Option<String> {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    let junk = typed.chars().any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-'));
    (digits.len() == 16 && !junk && luhn(&digits)).then_some(digits)
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The card for a typed number (spaces and dashes ignored).
pub fn find(typed: &str) -> Option<&'static TestCard> {
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    TEST_CARDS.iter().find(|card| card.number == digits)
}

/// ePay's mask: first six digits, "...", last four ("440043...2222"); 15-digit cards too.
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
        assert_eq!(find("4405 6397 0401 5096").unwrap().outcome, CardOutcome::Approve);
        assert!(matches!(find("4003032704547597").unwrap().outcome, CardOutcome::Decline { .. }));
        assert_eq!(mask("377514500004820"), "377514...4820");
    }

    #[test]
    fn a_receiving_card_must_look_real() {
        assert_eq!(valid_receiver("4400 4301 2345 6788").as_deref(), None, "fails Luhn");
        assert_eq!(valid_receiver("4400 4300 0000 0007").as_deref(), Some("4400430000000007"));
        assert_eq!(valid_receiver("4400430000000007x"), None);
        assert_eq!(valid_receiver("1234"), None);
    }
}
