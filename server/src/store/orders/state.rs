//! The order's state machine: which moves between states (`epay_api_types::OrderState`, the
//! wire vocabulary) may happen, and which the shop hears of. Pure; `change.rs` asks it before
//! every move. ARCHITECTURE.md draws it.

use epay_api_types::EventType;
pub use epay_api_types::OrderState;

/// Whether an order in state `from` may move to `to` (staying put is no move).
pub fn may_become(from: OrderState, to: OrderState) -> bool {
    use OrderState::*;
    // What ePay's answers (a postLink, the status API) may make of an order not paid yet.
    let answered = matches!(to, Confirming | Paid | Authorized | Failed | Expired | Review);
    match from {
        Open => matches!(to, Created | Expired),
        // A postLink may come before the token is recorded.
        Created => matches!(to, Pending | StartFailed) || answered,
        // A checkout with the same key (or the order's page) asks for a new token.
        Pending | StartFailed => to == Created || answered,
        // The status API has not confirmed it yet: waiting again.
        Confirming => to == Pending || answered,
        // A later confirmed success still wins; a person looks at what does not add up.
        Failed | Expired => answered,
        // A person decides, or the operation it waited for settles.
        Review => matches!(to, Paid | Failed | Authorized | Cancelled | Refunded),
        // Only the merchant's operations and people move money that ePay confirmed.
        Paid => matches!(to, Refunded | Review),
        Authorized => matches!(to, Paid | Cancelled | Review),
        Cancelled | Refunded => false,
    }
}

/// The webhook event that announces an order entering `state`, if the shop hears of it.
pub fn announced_as(state: OrderState) -> Option<EventType> {
    match state {
        OrderState::Paid => Some(EventType::OrderPaid),
        OrderState::Failed => Some(EventType::OrderFailed),
        OrderState::Expired => Some(EventType::OrderExpired),
        OrderState::Review => Some(EventType::OrderReview),
        OrderState::Authorized => Some(EventType::OrderAuthorized),
        OrderState::Cancelled => Some(EventType::OrderCancelled),
        OrderState::Open
        | OrderState::Created
        | OrderState::Pending
        | OrderState::StartFailed
        | OrderState::Confirming
        | OrderState::Refunded => None,
    }
}

#[cfg(test)]
mod tests {
    use super::OrderState::{self, *};
    use super::{announced_as, may_become};
    use epay_api_types::EventType;

    /// Money that ePay confirmed is never un-confirmed by an answer: a paid or authorized order
    /// moves only by an operation or a person, and nothing leaves cancelled or refunded.
    #[test]
    fn confirmed_money_moves_only_forward() {
        for &to in OrderState::ALL {
            assert!(!may_become(Cancelled, to) && !may_become(Refunded, to), "{to:?}");
            assert!(!may_become(to, Open), "nothing goes back to open: {to:?}");
        }
        let paid_may = OrderState::ALL.iter().copied().filter(|to| may_become(Paid, *to)).collect::<Vec<_>>();
        assert_eq!(paid_may, [Review, Refunded]);
        let authorized_may = OrderState::ALL.iter().copied().filter(|to| may_become(Authorized, *to)).collect::<Vec<_>>();
        assert_eq!(authorized_may, [Paid, Review, Cancelled]);
        for from in [Paid, Authorized, Review] {
            for to in [Created, Pending, StartFailed, Confirming, Expired] {
                assert!(!may_become(from, to), "{from:?} -> {to:?}");
            }
        }
    }

    /// Every move the flows make (the API suite logged them all) is one the machine allows.
    #[test]
    fn the_flows_moves_are_allowed() {
        let moves = [
            (Open, Created),
            (Open, Expired),
            (Created, Pending),
            (Created, StartFailed),
            (StartFailed, Created),
            (StartFailed, Expired),
            (Pending, Confirming),
            (Pending, Paid),
            (Pending, Failed),
            (Pending, Expired),
            (Confirming, Paid),
            (Confirming, Authorized),
            (Confirming, Review),
            (Failed, Confirming),
            (Failed, Review),
            (Expired, Confirming),
            (Review, Paid),
            (Review, Failed),
            (Review, Authorized),
            (Review, Refunded),
            (Paid, Review),
            (Paid, Refunded),
            (Authorized, Paid),
            (Authorized, Cancelled),
            (Authorized, Review),
        ];
        for (from, to) in moves {
            assert!(may_become(from, to), "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn the_shop_hears_of_the_states_it_acts_on() {
        let announced = OrderState::ALL.iter().copied().filter_map(announced_as).collect::<Vec<_>>();
        use EventType::*;
        assert_eq!(announced, [OrderPaid, OrderFailed, OrderReview, OrderExpired, OrderAuthorized, OrderCancelled]);
    }

    /// ARCHITECTURE.md draws the machine: every arrow of its diagram is a move `may_become`
    /// allows, so the drawing cannot say what the code forbids.
    #[test]
    fn the_drawn_machine_is_the_machine() {
        let drawing = include_str!("../../../../ARCHITECTURE.md");
        let diagram = &drawing[drawing.find("stateDiagram-v2").expect("the diagram")..];
        let diagram = &diagram[..diagram.find("```").unwrap()];
        let mut arrows = 0;
        for line in diagram.lines() {
            let Some((from, rest)) = line.trim().split_once(" --> ") else { continue };
            let to = rest.split(':').next().unwrap().trim();
            if from == "[*]" || to == "[*]" {
                continue;
            }
            let (from, to) = (OrderState::from_wire(from).expect(from), OrderState::from_wire(to).expect(to));
            assert!(may_become(from, to), "ARCHITECTURE.md draws {from} --> {to}, which the machine forbids");
            arrows += 1;
        }
        assert!(arrows > 30, "{arrows} arrows");
    }
}
