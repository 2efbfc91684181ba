//! What ePay's status API shows about an operation, measured against the transaction as the
//! status API showed it just before the operation's request (its `Ledger`). Pure. Nothing is
//! taken on hope (docs/epay-contract.md, "Operations"; docs/reliability.md, "Operations"):
//!
//! - before a request, ePay's ledger must be what the proxy recorded (a charge holding what
//!   was charged less what the proxy refunded; a hold still `AUTH`), or a person looks first;
//! - a refund of X is done when the charge then holds exactly its ledger less X, whatever the
//!   `statusName` (ePay labels a partly refunded charge `REFUND` too); what a charge holds is
//!   `amount + amountBonus`, so orders paid partly with Halyk bonuses count right; a charge
//!   that holds less than that (a refund in ePay's cabinet, a late duplicate) is shown to a
//!   person with both figures, never taken silently;
//! - a capture is done at `CHARGE`, a cancel at `CANCEL` (or `CANCEL_OLD`); both not done
//!   while the transaction is still `AUTH`;
//! - an operation whose request may have reached ePay is looked up for the settle window; if
//!   ePay still shows no trace, with two answers spaced apart, a person decides whether to send
//!   it again. A worker never sends it again on a guess.

use super::rules::money;
use crate::epay::{OperationKind, ResultCode, StatusAnswer, TransactionInfo, TransactionStatus};
use crate::store::operations::{OperationRow, OperationStatus};
use crate::store::orders::OrderRow;

pub use crate::store::operations::Ledger;

impl Ledger {
    /// The transaction in `answer`, when ePay found one with an amount and a status.
    pub fn of(answer: &StatusAnswer) -> Option<Ledger> {
        let t: &TransactionInfo = answer.transaction.as_ref().filter(|_| answer.result == ResultCode::Found)?;
        Some(Ledger {
            amount_minor: t.amount?.minor() as i64,
            bonus_minor: t.amount_bonus.map_or(0, |b| b.minor() as i64),
            org_minor: t.org_amount.map(|a| a.minor() as i64),
            status: t.status.as_ref()?.name().to_owned(),
        })
    }

    /// What the proxy's records say the transaction holds before `op` on `order`: the charge
    /// less the refunds the proxy recorded, or a hold. For operations stored before ledgers were
    /// recorded.
    pub fn recorded(op: &OperationRow, order: &OrderRow) -> Ledger {
        let status = match op.kind {
            OperationKind::Refund => "CHARGE",
            OperationKind::Capture | OperationKind::Cancel => "AUTH",
        };
        let charged = order.captured_minor.unwrap_or(order.amount_minor);
        Ledger { amount_minor: charged - order.refunded_minor, bonus_minor: 0, org_minor: None, status: status.to_owned() }
    }

    fn describe(&self) -> String {
        format!("{} holding {}", self.status, money(self.held()))
    }
}

/// Whether `op` may be sent, given what the status API shows just before (`answer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ready {
    /// ePay's ledger is what the proxy recorded: send, measured against this.
    Send(Ledger),
    /// ePay's ledger is not what the proxy recorded: a person looks first (the text has both).
    Disagrees(String),
    /// No usable answer (not found, in progress, an error): nothing is sent; try again later.
    NoAnswer(String),
}

/// Pure: compares what the status API shows before `op` with the proxy's records of `order`.
pub fn ready(op: &OperationRow, order: &OrderRow, answer: &StatusAnswer) -> Ready {
    let Some(ledger) = Ledger::of(answer) else { return Ready::NoAnswer(answer.said()) };
    let expected = Ledger::recorded(op, order);
    let agrees = match op.kind {
        // A partly refunded charge may be labelled REFUND: the amount decides.
        OperationKind::Refund => matches!(ledger.status.as_str(), "CHARGE" | "REFUND") && ledger.held() == expected.held(),
        OperationKind::Capture | OperationKind::Cancel => ledger.status == "AUTH",
    };
    if agrees {
        Ready::Send(ledger)
    } else {
        Ready::Disagrees(format!(
            "before the {}, ePay shows {} where the proxy recorded {} ({} refunded by the proxy)",
            op.kind.as_str(),
            ledger.describe(),
            expected.describe(),
            money(order.refunded_minor)
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Done,
    /// The transaction is as it was before the request: no trace of it (yet).
    NotDone,
    /// ePay shows more moved than the proxy asked for: a person must know, with both figures.
    MoreThanAsked(String),
    /// ePay's answer fits neither; the text says what it showed.
    CannotTell(String),
    /// The status API gave no answer about the transaction (not found, in progress, an error):
    /// ask again later.
    NoAnswer(String),
}

/// What `answer` shows about `op`, measured against `before` (the transaction as it stood just
/// before `op`'s latest request).
pub fn seen(op: &OperationRow, before: &Ledger, answer: &StatusAnswer) -> Seen {
    let said = answer.said();
    let Some(now) = Ledger::of(answer) else {
        return match (&answer.result, &answer.transaction) {
            (ResultCode::Found, Some(_)) => Seen::CannotTell(format!("{said} without an amount or a statusName")),
            _ => Seen::NoAnswer(said),
        };
    };
    let status = TransactionStatus::parse(&now.status);
    match op.kind {
        // Whether ePay lowers a partly captured charge's amount to what was captured is not
        // printed: either figure is the capture; any other is not.
        OperationKind::Capture => match status {
            TransactionStatus::Charge if op.amount_minor.is_none_or(|asked| now.held() == asked || now.held() == before.held()) => {
                Seen::Done
            }
            TransactionStatus::Charge => Seen::CannotTell(format!(
                "{said}, holding {} where {} was captured",
                money(now.held()),
                money(op.amount_minor.unwrap_or(0))
            )),
            TransactionStatus::Auth => Seen::NotDone,
            _ => Seen::CannotTell(said),
        },
        OperationKind::Cancel => match status {
            TransactionStatus::Cancel | TransactionStatus::CancelOld => Seen::Done,
            TransactionStatus::Auth => Seen::NotDone,
            _ => Seen::CannotTell(said),
        },
        OperationKind::Refund => {
            let asked = op.amount_minor.unwrap_or(before.held());
            let returned = before.held() - now.held();
            let whole = asked >= before.held();
            match status {
                _ if returned == asked => Seen::Done,
                // Whether ePay lowers `amount` when it refunds a charge in full is unconfirmed:
                // the charge turning REFUND then shows it too.
                TransactionStatus::Refund if whole && returned == 0 && before.status != "REFUND" => Seen::Done,
                TransactionStatus::Charge | TransactionStatus::Refund if returned == 0 => Seen::NotDone,
                TransactionStatus::Charge | TransactionStatus::Refund if returned > asked => Seen::MoreThanAsked(format!(
                    "ePay shows {} returned since the refund was sent, the proxy asked for {} ({said}, before: {})",
                    money(returned),
                    money(asked),
                    before.describe()
                )),
                _ => Seen::CannotTell(format!(
                    "{said}, holding {} where {} was held before and {} was asked back",
                    money(now.held()),
                    money(before.held()),
                    money(asked)
                )),
            }
        }
    }
}

/// What ePay's ledger says of an operation in review, for a person who chose to record it as
/// it is: whether the operation happened, and what ePay returned beyond it and the proxy's
/// records (a refund made in ePay's cabinet), to be recorded as a refund of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adopted {
    pub done: bool,
    pub outside_refund_minor: i64,
    /// What was found, for the record.
    pub said: String,
}

/// Pure: `op` (in review) on `order`, against what the status API shows now (`answer`). `Err`:
/// the ledger cannot be recorded as it is (ePay shows less returned than the proxy recorded,
/// or a state that fits neither), with why.
pub fn adopt(op: &OperationRow, order: &OrderRow, answer: &StatusAnswer) -> Result<Adopted, String> {
    let Some(now) = Ledger::of(answer) else { return Err(format!("the status API shows no transaction to record ({})", answer.said())) };
    let status = TransactionStatus::parse(&now.status);
    let simple = |done: bool| Ok(Adopted { done, outside_refund_minor: 0, said: format!("ePay's ledger: {}", now.describe()) });
    match (op.kind, &status) {
        (OperationKind::Capture, TransactionStatus::Charge)
        | (OperationKind::Cancel, TransactionStatus::Cancel | TransactionStatus::CancelOld) => simple(true),
        (OperationKind::Capture | OperationKind::Cancel, TransactionStatus::Auth) => simple(false),
        (OperationKind::Refund, TransactionStatus::Charge | TransactionStatus::Refund) => {
            let charged = order.captured_minor.unwrap_or(order.amount_minor);
            let beyond = (charged - now.held()) - order.refunded_minor;
            let asked = op.amount_minor.unwrap_or(0);
            if beyond < 0 {
                return Err(format!(
                    "ePay shows {} returned, less than the {} the proxy recorded: check ePay's cabinet; nothing was changed",
                    money(charged - now.held()),
                    money(order.refunded_minor)
                ));
            }
            let done = beyond >= asked;
            let outside = if done { beyond - asked } else { beyond };
            Ok(Adopted {
                done,
                outside_refund_minor: outside,
                said: format!(
                    "ePay's ledger: {} returned of {}; this refund of {} {}, {} returned outside the proxy",
                    money(charged - now.held()),
                    money(charged),
                    money(asked),
                    if done { "done" } else { "not done" },
                    money(outside)
                ),
            })
        }
        _ => Err(format!("ePay shows {} for a {}: check ePay's cabinet; nothing was changed", now.describe(), op.kind.as_str())),
    }
}

/// What a lookup does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Succeed,
    /// A person decides; the text says why.
    Review(String),
    /// Ask again at `at_ms`; `waiting_since_ms`: the first answer that showed no trace.
    Wait {
        at_ms: i64,
        waiting_since_ms: Option<i64>,
    },
}

/// How an operation that may have reached ePay is looked up.
#[derive(Clone, Copy, Debug)]
pub struct Settling {
    /// How long after its request ePay may take to show it (`EPAY_OPERATION_SETTLE_SECS`).
    pub window_ms: i64,
}

impl Settling {
    /// Two answers showing no trace must be at least this far apart (a quarter of the window:
    /// minutes by default) before a person is asked.
    pub fn spacing_ms(self) -> i64 {
        (self.window_ms / 4).max(1)
    }

    /// The pause before the next lookup: 2 s doubling with every lookup, at most `spacing_ms`.
    pub fn pause_ms(self, lookups: i64) -> i64 {
        (2_000i64 << lookups.clamp(0, 16)).min(self.spacing_ms())
    }

    /// How long the status API may fail to answer before a person is asked all the same.
    fn silence_ms(self) -> i64 {
        self.window_ms * 4
    }
}

/// Pure: what to do with `seen` about `op` (sent at `op.sent_ms`) at `now_ms`.
pub fn next_step(op: &OperationRow, seen: &Seen, settling: Settling, now_ms: i64) -> Step {
    let sent = op.sent_ms.unwrap_or(op.created_at * 1000);
    let settled = now_ms >= sent + settling.window_ms;
    let wait = |waiting_since_ms| Step::Wait { at_ms: now_ms + settling.pause_ms(op.attempts), waiting_since_ms };
    match seen {
        Seen::Done => Step::Succeed,
        Seen::MoreThanAsked(why) => Step::Review(why.clone()),
        Seen::NotDone => {
            let first = op.waiting_since_ms.unwrap_or(now_ms);
            if settled && now_ms - first >= settling.spacing_ms() {
                let (elapsed, since) = ((now_ms - sent) / 1000, (first - sent) / 1000);
                Step::Review(if op.status == OperationStatus::Accepted {
                    format!(
                        "ePay accepted it (2xx) but shows no trace of it {elapsed} s after it was sent (no change since {since} s after): \
                         it may still do it; check ePay's cabinet before sending it again"
                    )
                } else {
                    format!(
                        "ePay shows no trace of it {elapsed} s after it was sent (no change since {since} s after): send it again or abandon it"
                    )
                })
            } else {
                wait(Some(first))
            }
        }
        Seen::CannotTell(why) if settled => Step::Review(format!("the status API cannot tell whether it happened: {why}")),
        Seen::NoAnswer(why) if now_ms >= sent + settling.silence_ms() => {
            Step::Review(format!("no answer from the status API about it since it was sent: {why}"))
        }
        Seen::CannotTell(_) | Seen::NoAnswer(_) => wait(op.waiting_since_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::{NewOrder, OrderState};
    use epay_api_types::Amount;

    fn answer(code: &str, status: &str, amount: i64, bonus: i64) -> StatusAnswer {
        StatusAnswer {
            result: ResultCode::parse(code),
            result_message: String::new(),
            transaction: Some(TransactionInfo {
                status: Some(TransactionStatus::parse(status)),
                amount: Some(Amount::from_minor(amount as u64)),
                amount_text: Some(amount.to_string()),
                amount_bonus: Some(Amount::from_minor(bonus as u64)),
                ..Default::default()
            }),
        }
    }

    fn paid(refunded: i64) -> OrderRow {
        let new = NewOrder::example(300_000, epay_api_types::PaymentMethod::Pay);
        OrderRow {
            status: OrderState::Paid,
            captured_minor: Some(300_000),
            refunded_minor: refunded,
            ..OrderRow::created(1, "1".into(), &new, 0)
        }
    }

    fn op(kind: OperationKind, amount: Option<i64>) -> OperationRow {
        OperationRow::stored(1, 1, kind, amount, None, 0)
    }

    fn ledger(amount: i64, bonus: i64, status: &str) -> Ledger {
        Ledger { amount_minor: amount, bonus_minor: bonus, org_minor: None, status: status.into() }
    }

    #[test]
    fn an_operation_is_sent_only_when_epay_shows_what_the_proxy_recorded() {
        let refund = op(OperationKind::Refund, Some(50_000));
        assert_eq!(ready(&refund, &paid(0), &answer("100", "CHARGE", 300_000, 0)), Ready::Send(ledger(300_000, 0, "CHARGE")));
        assert_eq!(
            ready(&refund, &paid(0), &answer("100", "CHARGE", 240_000, 60_000)),
            Ready::Send(ledger(240_000, 60_000, "CHARGE")),
            "2,400 by card and 600 in bonuses hold the 3,000 charged"
        );
        assert_eq!(
            ready(&refund, &paid(50_000), &answer("100", "REFUND", 250_000, 0)),
            Ready::Send(ledger(250_000, 0, "REFUND")),
            "a partly refunded charge labelled REFUND"
        );
        let Ready::Disagrees(why) = ready(&refund, &paid(0), &answer("100", "CHARGE", 250_000, 0)) else { panic!() };
        assert!(why.contains("CHARGE holding 2500") && why.contains("recorded CHARGE holding 3000"), "{why}");
        assert!(matches!(ready(&refund, &paid(0), &answer("102", "", 0, 0)), Ready::NoAnswer(_)));
        let held = OrderRow { status: OrderState::Authorized, ..paid(0) };
        assert!(matches!(ready(&op(OperationKind::Capture, None), &held, &answer("100", "AUTH", 300_000, 0)), Ready::Send(_)));
        assert!(matches!(ready(&op(OperationKind::Cancel, None), &held, &answer("100", "CHARGE", 300_000, 0)), Ready::Disagrees(_)));
    }

    #[test]
    fn a_refund_is_done_when_the_charge_holds_exactly_its_ledger_less_it_whatever_the_status() {
        let refund = op(OperationKind::Refund, Some(50_000));
        let before = ledger(300_000, 0, "CHARGE");
        assert_eq!(seen(&refund, &before, &answer("100", "CHARGE", 250_000, 0)), Seen::Done);
        assert_eq!(seen(&refund, &before, &answer("100", "REFUND", 250_000, 0)), Seen::Done, "labelled REFUND");
        assert_eq!(seen(&refund, &before, &answer("100", "CHARGE", 300_000, 0)), Seen::NotDone);
        let Seen::MoreThanAsked(why) = seen(&refund, &before, &answer("100", "CHARGE", 200_000, 0)) else { panic!() };
        assert!(why.contains("1000 returned") && why.contains("asked for 500"), "{why}");
        assert!(matches!(seen(&refund, &before, &answer("100", "CHARGE", 280_000, 0)), Seen::CannotTell(_)), "less than asked");
        assert!(matches!(seen(&refund, &before, &answer("100", "CANCEL", 250_000, 0)), Seen::Done), "the amount decides");
        assert!(matches!(seen(&refund, &before, &answer("107", "", 0, 0)), Seen::NoAnswer(_)));
    }

    #[test]
    fn bonus_orders_are_measured_by_card_and_bonus_together() {
        let refund = op(OperationKind::Refund, Some(50_000));
        let before = ledger(240_000, 60_000, "CHARGE");
        assert_eq!(seen(&refund, &before, &answer("100", "CHARGE", 190_000, 60_000)), Seen::Done, "the card part first");
        assert_eq!(seen(&refund, &before, &answer("100", "CHARGE", 200_000, 50_000)), Seen::Done, "or shared");
        assert_eq!(seen(&refund, &before, &answer("100", "CHARGE", 240_000, 60_000)), Seen::NotDone, "600 of bonuses is not a refund");
    }

    #[test]
    fn a_whole_refund_is_done_at_refund_even_with_the_amount_unchanged() {
        let rest = op(OperationKind::Refund, Some(250_000));
        let before = ledger(250_000, 0, "CHARGE");
        assert_eq!(seen(&rest, &before, &answer("100", "REFUND", 0, 0)), Seen::Done);
        assert_eq!(seen(&rest, &before, &answer("100", "REFUND", 250_000, 0)), Seen::Done);
        assert_eq!(seen(&rest, &before, &answer("100", "CHARGE", 250_000, 0)), Seen::NotDone);
        let partial = op(OperationKind::Refund, Some(50_000));
        assert_eq!(seen(&partial, &before, &answer("100", "REFUND", 250_000, 0)), Seen::NotDone, "only a whole refund");
    }

    #[test]
    fn a_capture_or_cancel_is_shown_by_its_status_and_not_done_while_auth() {
        let before = ledger(300_000, 0, "AUTH");
        let capture = op(OperationKind::Capture, Some(300_000));
        assert_eq!(seen(&capture, &before, &answer("100", "CHARGE", 300_000, 0)), Seen::Done);
        let partial = op(OperationKind::Capture, Some(250_000));
        assert_eq!(seen(&partial, &before, &answer("100", "CHARGE", 250_000, 0)), Seen::Done, "lowered to the capture");
        assert_eq!(seen(&partial, &before, &answer("100", "CHARGE", 300_000, 0)), Seen::Done, "or left as authorized");
        assert!(matches!(seen(&partial, &before, &answer("100", "CHARGE", 200_000, 0)), Seen::CannotTell(_)), "another amount");
        assert_eq!(seen(&capture, &before, &answer("100", "AUTH", 300_000, 0)), Seen::NotDone);
        assert!(matches!(seen(&capture, &before, &answer("100", "REJECT", 300_000, 0)), Seen::CannotTell(_)));
        let cancel = op(OperationKind::Cancel, None);
        assert_eq!(seen(&cancel, &before, &answer("100", "CANCEL", 300_000, 0)), Seen::Done);
        assert_eq!(seen(&cancel, &before, &answer("100", "AUTH", 300_000, 0)), Seen::NotDone);
    }

    #[test]
    fn no_trace_goes_to_a_person_only_after_the_window_with_two_answers_spaced_apart() {
        let settling = Settling { window_ms: 900_000 };
        assert_eq!(settling.spacing_ms(), 225_000, "minutes apart by default");
        let sent = OperationRow { sent_ms: Some(1_000_000), ..op(OperationKind::Refund, Some(50_000)) };
        // Early: wait, remembering the first answer without a trace.
        assert_eq!(
            next_step(&sent, &Seen::NotDone, settling, 1_002_000),
            Step::Wait { at_ms: 1_004_000, waiting_since_ms: Some(1_002_000) }
        );
        // After the window, but the first such answer just now: one more, spaced apart.
        let Step::Wait { waiting_since_ms: Some(first), at_ms } = next_step(&sent, &Seen::NotDone, settling, 1_900_000) else { panic!() };
        assert_eq!(first, 1_900_000);
        assert!(at_ms - 1_900_000 <= 225_000);
        let seen_before = OperationRow { waiting_since_ms: Some(1_650_000), ..sent.clone() };
        assert!(matches!(next_step(&seen_before, &Seen::NotDone, settling, 1_900_000), Step::Review(why) if why.contains("send it again")));
        assert!(matches!(next_step(&sent, &Seen::CannotTell("x".into()), settling, 1_899_999), Step::Wait { .. }));
        assert!(matches!(next_step(&sent, &Seen::CannotTell("x".into()), settling, 1_900_000), Step::Review(_)));
        assert!(matches!(next_step(&sent, &Seen::NoAnswer("x".into()), settling, 1_900_000), Step::Wait { .. }), "an outage is no trace");
        assert!(matches!(next_step(&sent, &Seen::NoAnswer("x".into()), settling, 4_600_000), Step::Review(_)));
        assert_eq!(next_step(&sent, &Seen::Done, settling, 1_000_001), Step::Succeed);
        assert!(matches!(next_step(&sent, &Seen::MoreThanAsked("y".into()), settling, 1_000_001), Step::Review(y) if y == "y"));
    }

    #[test]
    fn a_person_may_record_epays_ledger_as_it_is_but_never_less_than_the_proxy_returned() {
        let refund = op(OperationKind::Refund, Some(50_000));
        // A refund of 300 in ePay's cabinet, and this one of 500 done too.
        let both = adopt(&refund, &paid(0), &answer("100", "CHARGE", 220_000, 0)).unwrap();
        assert_eq!((both.done, both.outside_refund_minor), (true, 30_000), "{}", both.said);
        // Only the cabinet's 300: this one not done.
        let outside = adopt(&refund, &paid(0), &answer("100", "CHARGE", 270_000, 0)).unwrap();
        assert_eq!((outside.done, outside.outside_refund_minor), (false, 30_000));
        // Nothing at all: not done, nothing outside.
        assert_eq!(adopt(&refund, &paid(0), &answer("100", "CHARGE", 300_000, 0)).unwrap().outside_refund_minor, 0);
        // A person said "done" before and ePay did nothing: less returned than recorded.
        assert!(adopt(&refund, &paid(50_000), &answer("100", "CHARGE", 300_000, 0)).unwrap_err().contains("less than"));
        let held = OrderRow { status: OrderState::Authorized, ..paid(0) };
        assert!(adopt(&op(OperationKind::Capture, Some(300_000)), &held, &answer("100", "CHARGE", 300_000, 0)).unwrap().done);
        assert!(!adopt(&op(OperationKind::Cancel, None), &held, &answer("100", "AUTH", 300_000, 0)).unwrap().done);
        assert!(adopt(&op(OperationKind::Cancel, None), &held, &answer("100", "REJECT", 300_000, 0)).is_err());
    }

    #[test]
    fn lookups_double_up_to_the_spacing() {
        let settling = Settling { window_ms: 900_000 };
        assert_eq!((settling.pause_ms(0), settling.pause_ms(3), settling.pause_ms(12)), (2_000, 16_000, 225_000));
        assert_eq!(Settling { window_ms: 4_000 }.pause_ms(0), 1_000, "short windows in tests");
    }
}
