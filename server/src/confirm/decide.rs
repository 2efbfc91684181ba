//! What an answer of ePay's status API means for an order. Only `resultCode` "100" with
//! `statusName` CHARGE (or AUTH on two-stage terminals) and the order's own amount, currency,
//! terminal and invoice makes it paid; anything that does not add up goes to a human.
//!
//! A failed or expired order is asked about only after a postLink without secret_hash hinted
//! that it may have been paid after all: a confirmed payment still pays it, anything else
//! leaves it as it was.

use crate::epay::reported::{amount_agrees, shown};
use crate::epay::{ResultCode, StatusAnswer, TransactionInfo, TransactionStatus};
use crate::store::orders::{OrderRow, OrderState, Outcome};

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    Pay(Outcome),
    /// Two-stage terminals: AUTH, the money is held until the merchant captures or cancels it.
    Authorize(Outcome),
    Fail(Outcome),
    /// Needs a human; the order is never paid by itself.
    Review(String),
    /// The payment window closed and ePay knows no transaction. The text says what it answered.
    Expire(String),
    /// Nothing final yet; ask again later. The text says what ePay answered.
    AskAgain(String),
    /// A failed or expired order stays as it is; stop asking. The text says what ePay answered.
    Stop(String),
}

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// AUTH (held, not yet charged) counts as paid: two-stage terminals.
    pub two_stage: bool,
    /// Unix seconds now.
    pub now: i64,
    /// How long after its token expired a pending order without any transaction expires.
    pub expiry_grace_secs: i64,
    /// Questions about a confirming order before a human is asked to look.
    pub max_confirm_attempts: i64,
}

pub fn decide(order: &OrderRow, answer: &StatusAnswer, policy: &Policy) -> Decision {
    let confirming = order.status == OrderState::Confirming;
    let settled = matches!(order.status, OrderState::Failed | OrderState::Expired);
    let said = answer.said();
    match &answer.result {
        ResultCode::Found => {
            let Some(t) = &answer.transaction else {
                return Decision::Review(format!("{said} without a transaction"));
            };
            if let Some(mismatch) = mismatch(order, t) {
                return Decision::Review(format!("status API disagrees with the order: {mismatch}"));
            }
            match &t.status {
                Some(TransactionStatus::Charge) => Decision::Pay(outcome(t, false)),
                Some(TransactionStatus::Auth) if policy.two_stage => Decision::Authorize(outcome(t, false)),
                // Held but not charged on a one-stage terminal, or still being processed.
                Some(TransactionStatus::Auth) => ask_again(order, policy, said),
                Some(status) if status.in_progress() => ask_again(order, policy, said),
                // A value ePay's pages do not list, or none at all: never paid, never failed.
                Some(TransactionStatus::Other(raw)) => Decision::Review(format!("{said}: statusName {raw:?} is not one ePay documents")),
                None => Decision::Review(format!("{said} without a statusName")),
                _ if settled => Decision::Stop(said),
                Some(status) if status.unsuccessful() && !confirming => Decision::Fail(outcome(t, true)),
                // A success postLink, but ePay says this (or REFUND): money must not be assumed.
                Some(_) => Decision::Review(format!("{said}{}", if confirming { " after a success postLink" } else { "" })),
            }
        }
        ResultCode::InProgress => ask_again(order, policy, said),
        // A code ePay's pages do not list: a person looks, with the code as sent.
        ResultCode::Other(raw) => Decision::Review(format!("{said}: resultCode {raw:?} is not one ePay documents")),
        ResultCode::Rejected | ResultCode::NotFound if settled => Decision::Stop(said),
        ResultCode::Rejected if confirming => Decision::Review(format!("{said} after a success postLink")),
        ResultCode::Rejected => Decision::Fail(answer.transaction.as_ref().map(|t| outcome(t, true)).unwrap_or_default()),
        ResultCode::NotFound if !confirming && token_long_expired(order, policy) => Decision::Expire(said),
        _ => ask_again(order, policy, said),
    }
}

/// The status API could not be asked. Open orders are asked again for as long as it takes; a
/// failed or expired order that only a hint made the worker ask about stops being asked
/// after `max_confirm_attempts`.
pub fn unavailable(order: &OrderRow, policy: &Policy, said: String) -> Decision {
    match order.status {
        OrderState::Failed | OrderState::Expired => ask_again(order, policy, said),
        _ => Decision::AskAgain(said),
    }
}

/// Asking again, unless a confirming (or hinted settled) order has been asked about too often.
fn ask_again(order: &OrderRow, policy: &Policy, said: String) -> Decision {
    let tired = order.check_attempts + 1 >= policy.max_confirm_attempts;
    match order.status {
        OrderState::Confirming if tired => Decision::Review(format!(
            "the status API has not confirmed the success postLink after {} questions; last: {said}",
            order.check_attempts + 1
        )),
        OrderState::Failed | OrderState::Expired if tired => Decision::Stop(said),
        _ => Decision::AskAgain(said),
    }
}

fn token_long_expired(order: &OrderRow, policy: &Policy) -> bool {
    let expires_at = order.token_expires_at.unwrap_or(order.created_at);
    policy.now > expires_at + policy.expiry_grace_secs
}

fn mismatch(order: &OrderRow, t: &TransactionInfo) -> Option<String> {
    if let Some(mismatch) = amount_mismatch(order, t) {
        return Some(mismatch);
    }
    if !t.currency.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&order.currency)) {
        return Some(format!("currency {:?}, order {}", t.currency, order.currency));
    }
    // The UUID the token was issued for (`terminalID`); `terminal` is ePay's short number. An
    // answer without the UUID (older samples) was asked for with this terminal's own token.
    if t.terminal_id.as_deref().is_some_and(|id| !id.eq_ignore_ascii_case(&order.terminal)) {
        return Some(format!("terminalID {:?}, order {}", t.terminal_id, order.terminal));
    }
    if t.invoice_id.as_deref().is_some_and(|i| i != order.invoice_id) {
        return Some(format!("invoice {:?}, order {}", t.invoice_id, order.invoice_id));
    }
    None
}

/// The order's amount must be what the transaction holds: `amount` plus the bonus part
/// (`amountBonus`), and the original amount (`orgAmount`) when ePay reports one.
fn amount_mismatch(order: &OrderRow, t: &TransactionInfo) -> Option<String> {
    // The transfer amount is the order's; a fee ePay reports beside it is the payer's cost.
    // Whether ePay's amount includes the fee is not documented: both are accepted.
    let agrees = |amount: Option<epay_api_types::Amount>| amount_agrees(order.amount(), amount, t.fee);
    let bonus = t.amount_bonus.filter(|b| b.minor() > 0).map(|b| format!(" + bonus {b}")).unwrap_or_default();
    // Whether orgAmount counts the bonus part is not published: either is accepted.
    let with_bonus = |a: epay_api_types::Amount| epay_api_types::Amount::from_minor(a.minor() + t.amount_bonus.map_or(0, |b| b.minor()));
    if let Some(original) = t.org_amount
        && !agrees(Some(original))
        && !agrees(Some(with_bonus(original)))
    {
        return Some(format!("orgAmount {original}, order {}", order.amount()));
    }
    if agrees(t.paid_total()) {
        return None;
    }
    Some(match t.org_amount {
        // The transaction was for the order's amount and holds less now: reduced (refunded or
        // partly captured) outside the proxy, before it confirmed the payment.
        Some(original) => format!("amount {}{bonus} of orgAmount {original}: reduced outside the proxy", shown(&t.amount_text)),
        None => {
            let fee = t.fee.map_or_else(|| "no fee reported".to_owned(), |fee| format!("fee {fee}"));
            format!("amount {}{bonus} ({fee}), order {}", shown(&t.amount_text), order.amount())
        }
    })
}

fn outcome(t: &TransactionInfo, failed: bool) -> Outcome {
    Outcome {
        transaction_id: t.id.clone(),
        card_mask: t.card_mask.clone().filter(|m| !m.is_empty()),
        approval_code: t.approval_code.clone().filter(|c| !c.is_empty()),
        reference: t.reference.clone().filter(|r| !r.is_empty()),
        failure_reason: if failed { t.reason.clone() } else { None },
        failure_code: if failed { t.reason_code } else { None },
        fee: t.fee,
        amount_bonus: t.amount_bonus.filter(|b| b.minor() > 0),
        org_amount: t.org_amount,
        payout_amount: t.payout_amount,
        paid_at: t.created_at,
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::orders::NewOrder;
    use epay_api_types::Amount;

    fn order(status: OrderState) -> OrderRow {
        let new = NewOrder::example(150_000, epay_api_types::PaymentMethod::P2p);
        OrderRow { status, token_expires_at: Some(10_000), ..OrderRow::created(1, "123456789012".into(), &new, 2_800) }
    }

    fn answer(code: &str, status_name: &str) -> StatusAnswer {
        StatusAnswer {
            result: ResultCode::parse(code),
            result_message: "m".into(),
            transaction: Some(TransactionInfo {
                id: Some("tx".into()),
                invoice_id: Some("123456789012".into()),
                amount_text: Some("1500".into()),
                amount: Some(Amount::from_minor(150_000)),
                currency: Some("KZT".into()),
                terminal_id: Some("T-1".into()),
                terminal_number: Some("98120001".into()),
                status: (!status_name.is_empty()).then(|| TransactionStatus::parse(status_name)),
                card_mask: Some("440043...2222".into()),
                reason: Some("Недостаточно средств".into()),
                reason_code: Some(484),
                ..Default::default()
            }),
        }
    }

    const POLICY: Policy = Policy { two_stage: false, now: 5_000, expiry_grace_secs: 1_800, max_confirm_attempts: 12 };

    #[test]
    fn only_charge_with_matching_fields_pays() {
        let confirming = order(OrderState::Confirming);
        assert!(
            matches!(decide(&confirming, &answer("100", "CHARGE"), &POLICY), Decision::Pay(o) if o.card_mask.as_deref() == Some("440043...2222"))
        );
        assert!(matches!(decide(&confirming, &answer("100", "AUTH"), &POLICY), Decision::AskAgain(_)));
        let two_stage = Policy { two_stage: true, ..POLICY };
        assert!(matches!(decide(&confirming, &answer("100", "AUTH"), &two_stage), Decision::Authorize(_)));
        for (field, broken) in [("amount", 0), ("currency", 1), ("terminal", 2), ("invoice", 3)] {
            let mut a = answer("100", "CHARGE");
            let t = a.transaction.as_mut().unwrap();
            match broken {
                0 => t.amount = Some(Amount::from_minor(100)),
                1 => t.currency = Some("USD".into()),
                2 => t.terminal_id = Some("other".into()),
                _ => t.invoice_id = Some("999999".into()),
            }
            assert!(matches!(decide(&confirming, &a, &POLICY), Decision::Review(r) if r.contains(field)), "{field}");
        }
        let mut no_amount = answer("100", "CHARGE");
        no_amount.transaction.as_mut().unwrap().amount = None;
        assert!(matches!(decide(&confirming, &no_amount, &POLICY), Decision::Review(_)));
        assert!(matches!(
            decide(&confirming, &StatusAnswer { transaction: None, ..answer("100", "CHARGE") }, &POLICY),
            Decision::Review(_)
        ));
    }

    #[test]
    fn in_progress_is_asked_again_and_contradictions_go_to_a_human() {
        let confirming = order(OrderState::Confirming);
        assert!(matches!(decide(&confirming, &answer("107", ""), &POLICY), Decision::AskAgain(_)));
        assert!(matches!(decide(&confirming, &answer("103", ""), &POLICY), Decision::AskAgain(_)));
        assert!(matches!(decide(&confirming, &answer("102", ""), &POLICY), Decision::AskAgain(_)));
        assert!(matches!(decide(&confirming, &answer("101", "REJECT"), &POLICY), Decision::Review(_)));
        assert!(matches!(decide(&confirming, &answer("100", "REJECT"), &POLICY), Decision::Review(_)));
        assert!(matches!(decide(&confirming, &answer("100", "REFUND"), &POLICY), Decision::Review(_)));
        let tired = OrderRow { check_attempts: 11, ..order(OrderState::Confirming) };
        assert!(matches!(decide(&tired, &answer("107", ""), &POLICY), Decision::Review(r) if r.contains("12 questions")));
    }

    #[test]
    fn bonuses_count_toward_the_amount_and_a_reduced_charge_goes_to_a_person() {
        let confirming = order(OrderState::Confirming);
        let mut with_bonus = answer("100", "CHARGE");
        let t = with_bonus.transaction.as_mut().unwrap();
        (t.amount, t.amount_bonus, t.org_amount) =
            (Some(Amount::from_minor(120_000)), Some(Amount::from_minor(30_000)), Some(Amount::from_minor(150_000)));
        assert!(
            matches!(decide(&confirming, &with_bonus, &POLICY), Decision::Pay(o) if o.amount_bonus == Some(Amount::from_minor(30_000)))
        );
        let mut reduced = answer("100", "CHARGE");
        let t = reduced.transaction.as_mut().unwrap();
        (t.amount, t.org_amount) = (Some(Amount::from_minor(100_000)), Some(Amount::from_minor(150_000)));
        assert!(matches!(decide(&confirming, &reduced, &POLICY), Decision::Review(r) if r.contains("reduced")));
        let mut other_original = answer("100", "CHARGE");
        other_original.transaction.as_mut().unwrap().org_amount = Some(Amount::from_minor(200_000));
        assert!(matches!(decide(&confirming, &other_original, &POLICY), Decision::Review(r) if r.contains("orgAmount")));
    }

    #[test]
    fn unknown_or_missing_status_names_go_to_a_person_never_to_paid_or_failed() {
        for state in [OrderState::Confirming, OrderState::Pending, OrderState::Failed] {
            assert!(
                matches!(decide(&order(state), &answer("100", "SETTLED"), &POLICY), Decision::Review(r) if r.contains("SETTLED")),
                "{state:?}"
            );
            assert!(matches!(decide(&order(state), &answer("100", ""), &POLICY), Decision::Review(_)), "{state:?}");
        }
        assert!(matches!(decide(&order(OrderState::Confirming), &answer("100", "3D"), &POLICY), Decision::AskAgain(_)));
        assert!(matches!(decide(&order(OrderState::Confirming), &answer("104", ""), &POLICY), Decision::AskAgain(_)));
        for state in [OrderState::Confirming, OrderState::Pending, OrderState::Expired] {
            assert!(
                matches!(decide(&order(state), &answer("555", "CHARGE"), &POLICY), Decision::Review(r) if r.contains("\"555\"")),
                "{state:?}"
            );
        }
    }

    #[test]
    fn a_transfer_fee_beside_the_amount_or_inside_it_still_pays_and_is_kept() {
        let confirming = order(OrderState::Confirming);
        let mut beside = answer("100", "CHARGE");
        beside.transaction.as_mut().unwrap().fee = Some(Amount::from_minor(4_500));
        assert!(matches!(decide(&confirming, &beside, &POLICY), Decision::Pay(o) if o.fee == Some(Amount::from_minor(4_500))));
        let mut inside = beside.clone();
        inside.transaction.as_mut().unwrap().amount = Some(Amount::from_minor(154_500));
        assert!(matches!(decide(&confirming, &inside, &POLICY), Decision::Pay(_)));
        let mut wrong = beside;
        wrong.transaction.as_mut().unwrap().amount = Some(Amount::from_minor(154_501));
        assert!(matches!(decide(&confirming, &wrong, &POLICY), Decision::Review(r) if r.contains("fee")));
    }

    #[test]
    fn a_hinted_failed_or_expired_order_is_paid_only_by_a_confirmed_charge() {
        for state in [OrderState::Failed, OrderState::Expired] {
            let settled = order(state);
            assert!(matches!(decide(&settled, &answer("100", "CHARGE"), &POLICY), Decision::Pay(_)), "{state:?}");
            for (code, status) in [("100", "REJECT"), ("100", "REFUND"), ("101", "REJECT"), ("102", "")] {
                assert!(matches!(decide(&settled, &answer(code, status), &POLICY), Decision::Stop(_)), "{state:?} {code} {status}");
            }
            assert!(matches!(decide(&settled, &answer("107", ""), &POLICY), Decision::AskAgain(_)));
            let tired = OrderRow { check_attempts: 13, ..order(state) };
            assert!(matches!(decide(&tired, &answer("107", ""), &POLICY), Decision::Stop(_)));
            let mut mismatched = answer("100", "CHARGE");
            mismatched.transaction.as_mut().unwrap().amount = Some(Amount::from_minor(1));
            assert!(matches!(decide(&settled, &mismatched, &POLICY), Decision::Review(_)));
        }
    }

    #[test]
    fn pending_orders_settle_from_the_status_api() {
        let pending = order(OrderState::Pending);
        assert!(matches!(decide(&pending, &answer("100", "CHARGE"), &POLICY), Decision::Pay(_)));
        assert!(matches!(decide(&pending, &answer("100", "REJECT"), &POLICY), Decision::Fail(o) if o.failure_code == Some(484)));
        assert!(matches!(decide(&pending, &answer("101", "REJECT"), &POLICY), Decision::Fail(_)));
        assert!(matches!(decide(&pending, &answer("102", ""), &POLICY), Decision::AskAgain(_)));
        let later = Policy { now: 10_000 + 1_801, ..POLICY };
        assert!(matches!(decide(&pending, &answer("102", ""), &later), Decision::Expire(said) if said.contains("102")));
        // Many questions about a pending order are fine: the payer may still pay.
        let asked = OrderRow { check_attempts: 50, ..order(OrderState::Pending) };
        assert!(matches!(decide(&asked, &answer("107", ""), &POLICY), Decision::AskAgain(_)));
    }
}
