//! The words the proxy, the console and a merchant's backend share, each typed once: an
//! order's status and state, an operation's status, a webhook event's type, a review decision
//! and a person's role. Each is a serde enum whose wire names are the JSON's (and the store's
//! TEXT columns', `sql.rs`); `ALL`, `as_str` and `from_wire` serve code that does without serde.

use crate::OrderStatus;

/// A wire enum: its variants with their wire names, serde through those names, `ALL`,
/// `as_str`, `from_wire` and `Display`. Those in the OpenAPI document say so with their own
/// `ToSchema` derive.
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $wire:tt,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $wire)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name (what serde writes).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The value of a wire name.
            pub fn from_wire(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// Where an order is in its life, as the proxy keeps it (`MerchantOrder.state`, for people
    /// on call). The proxy's state machine (`server/src/store/orders/state.rs`) says which
    /// moves between them may happen.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum OrderState {
        /// A merchant order stored through the merchant API; nobody has started paying it yet.
        Open = "open",
        /// Stored, token not yet obtained.
        Created = "created",
        /// Token issued; waiting for the payer and ePay.
        Pending = "pending",
        /// The token request failed; a retry with the same Idempotency-Key starts it again.
        StartFailed = "start_failed",
        /// A valid success postLink arrived; waiting for the status API to confirm it.
        Confirming = "confirming",
        /// Paid: confirmed.
        Paid = "paid",
        /// Declined by ePay. A later confirmed success still wins.
        Failed = "failed",
        /// Something did not add up; a human must look. Never becomes paid by itself.
        Review = "review",
        /// The payment window closed without a payment.
        Expired = "expired",
        /// Two-stage terminals: ePay holds the money (AUTH, confirmed); a capture charges it,
        /// a cancel releases it.
        Authorized = "authorized",
        /// The hold was released (cancel of an AUTH). Final.
        Cancelled = "cancelled",
        /// Refunds returned everything that was charged. Final.
        Refunded = "refunded",
    }
}

impl OrderState {
    /// What the payer may know of it.
    pub fn public(self) -> OrderStatus {
        match self {
            OrderState::Open => OrderStatus::Open,
            OrderState::Created | OrderState::Pending | OrderState::Confirming | OrderState::Review => OrderStatus::Pending,
            // The payer's payment went through whatever the merchant did with it since.
            OrderState::Paid | OrderState::Authorized | OrderState::Refunded => OrderStatus::Paid,
            OrderState::Failed | OrderState::StartFailed | OrderState::Cancelled => OrderStatus::Failed,
            OrderState::Expired => OrderStatus::Expired,
        }
    }

    /// What the merchant API calls it: the payer's statuses, and the merchant's own for the
    /// money after the payment.
    pub fn merchant_status(self) -> MerchantStatus {
        match self {
            OrderState::Authorized => MerchantStatus::Authorized,
            OrderState::Refunded => MerchantStatus::Refunded,
            OrderState::Cancelled => MerchantStatus::Cancelled,
            OrderState::Paid => MerchantStatus::Paid,
            other => match other.public() {
                OrderStatus::Open => MerchantStatus::Open,
                OrderStatus::Pending => MerchantStatus::Pending,
                OrderStatus::Paid => MerchantStatus::Paid,
                OrderStatus::Failed => MerchantStatus::Failed,
                OrderStatus::Expired => MerchantStatus::Expired,
            },
        }
    }
}

wire_enum! {
    /// An order's status in the merchant API (`MerchantOrder.status`, the `status` filter).
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum MerchantStatus {
        /// Nobody has started paying it yet.
        Open = "open",
        /// No confirmed outcome yet (also while a person looks at it: state `review`).
        Pending = "pending",
        /// ePay holds the money: capture or cancel it.
        Authorized = "authorized",
        Paid = "paid",
        /// Refunds returned everything that was charged.
        Refunded = "refunded",
        /// The hold was released.
        Cancelled = "cancelled",
        Failed = "failed",
        Expired = "expired",
    }
}

wire_enum! {
    /// Where a capture, cancel or refund is.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum OperationStatus {
        /// Stored; not sent yet, or its request is being sent (an instance that died then
        /// leaves it to be looked up, never sent again).
        Pending = "pending",
        /// ePay took it (2xx); the status API does not show it yet.
        Accepted = "accepted",
        /// Sent, outcome unknown (timeout, reset, 5xx, a 4xx to a repeat): looked up for the
        /// settle window; never sent again but by a person's decision.
        Unknown = "unknown",
        /// ePay's status API shows it.
        Succeeded = "succeeded",
        /// ePay refused it the first time it was sent: nothing happened.
        Failed = "failed",
        /// Lookups could not tell whether it happened, or ePay shows something else than the
        /// proxy recorded: a person decides (the order is in review).
        Review = "review",
    }
}

impl OperationStatus {
    /// Not finished: it holds its amount and blocks other operations on the order.
    pub fn in_flight(self) -> bool {
        !matches!(self, OperationStatus::Succeeded | OperationStatus::Failed)
    }
}

wire_enum! {
    /// A webhook event's `type`.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum EventType {
        OrderPaid = "order.paid",
        OrderFailed = "order.failed",
        OrderExpired = "order.expired",
        /// The order needs a person.
        OrderReview = "order.review",
        /// ePay holds the money (two-stage terminals).
        OrderAuthorized = "order.authorized",
        /// A capture succeeded (the event names the operation).
        OrderCaptured = "order.captured",
        OrderCancelled = "order.cancelled",
        /// The payer paid after the order's payable window (`paidAfterExpiry`).
        OrderPaidLate = "order.paid_late",
        /// A person decided about the order's review (`reviewResolution`).
        OrderReviewResolved = "order.review_resolved",
        /// A refund succeeded (the event names the operation).
        RefundSucceeded = "refund.succeeded",
        /// A refund ePay refused: nothing moved.
        RefundFailed = "refund.failed",
        /// A subscription was created (`data` is the subscription).
        SubscriptionCreated = "subscription.created",
        /// A period was paid (`data.latestCharge` names its order).
        SubscriptionRenewed = "subscription.renewed",
        /// A charge was declined; it is tried again as `retryDays` says (`data.nextChargeAt`).
        SubscriptionPaymentFailed = "subscription.payment_failed",
        /// The period stays unpaid: retries ran out, or the card cannot pay (`data.statusReason`).
        SubscriptionPastDue = "subscription.past_due",
        /// The subscription ended: cancelled by the shop, or its unpaid period ran out.
        SubscriptionCancelled = "subscription.cancelled",
        /// The order's fiscal receipt (a sale, or a refund's return) was issued (`data.receipts`).
        ReceiptIssued = "receipt.issued",
        /// The registrar refused a receipt as it is: a person looks (`data.receipts`).
        ReceiptFailed = "receipt.failed",
    }
}

wire_enum! {
    /// Where a subscription stands (`Subscription.status`).
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum SubscriptionStatus {
        /// Charged each period.
        Active = "active",
        /// A period is unpaid: retries ran out, or the card cannot pay; it is cancelled when the
        /// unpaid period ends, unless a new card pays it first.
        PastDue = "past_due",
        /// Not charged until resumed.
        Paused = "paused",
        /// Ended; never charged again.
        Cancelled = "cancelled",
    }
}

wire_enum! {
    /// How long a subscription's period is, with `intervalCount`.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum IntervalUnit {
        Day = "day",
        Week = "week",
        Month = "month",
        Year = "year",
    }
}

wire_enum! {
    /// Where a saved card stands (`SavedCard.status`).
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum CardStatus {
        /// Saved by a payment ePay has not confirmed yet: not charged until it is.
        Pending = "pending",
        /// May be charged.
        Active = "active",
        /// Deleted by the shop or an operator: never charged again (and deactivated at ePay).
        Deleted = "deleted",
    }
}

wire_enum! {
    /// What a person decided about an order in review.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum Decision {
        /// A payment in review: the money is there; the order is paid.
        Paid = "paid",
        /// A payment in review: no money arrived.
        Failed = "failed",
        /// A payment in review: the money goes back, a full refund through ePay.
        Refund = "refund",
        /// An operation in review: ePay did it.
        Done = "done",
        /// An operation in review: ePay did not; nothing moved.
        NotDone = "not_done",
        /// An operation in review: sent again with the same externalID, only if ePay still
        /// shows no trace of it.
        SendAgain = "send_again",
        /// A refund in review: ePay's ledger shows the refunds made (also any made in its
        /// cabinet); the proxy records them as they are there.
        EpayLedger = "epay_ledger",
    }
}

impl Decision {
    /// Whether it decides about an operation in review (else about a payment in review).
    pub fn is_about_an_operation(self) -> bool {
        matches!(self, Decision::Done | Decision::NotDone | Decision::SendAgain | Decision::EpayLedger)
    }
}

wire_enum! {
    /// What a person may do in the console.
    pub enum Role {
        /// Reads everything; moves no money, resends nothing, resolves nothing.
        Viewer = "viewer",
        /// Also refunds, captures, cancels, resends webhooks and resolves reviews.
        Operator = "operator",
    }
}

wire_enum! {
    /// What was done to an order by a person (or, for a late payment, by the proxy), as its
    /// timeline shows it.
    pub enum Action {
        /// A person decided about its review (`Decision`).
        ResolveReview = "resolve_review",
        /// A payment came after its payable window (`order.paid_late`).
        LatePayment = "late_payment",
        /// A person queued a webhook event again.
        Resend = "resend",
        Capture = "capture",
        Cancel = "cancel",
        Refund = "refund",
        /// A person deleted a customer's saved card (the order that saved it; the card in `note`).
        DeleteCard = "delete_card",
        /// A person cancelled a subscription (its latest order, if any; the subscription in `note`).
        CancelSubscription = "cancel_subscription",
        /// A person asked for a fiscal receipt again (its order; the receipt in `note`).
        RetryReceipt = "retry_receipt",
    }
}

impl From<crate::OperationKind> for Action {
    fn from(kind: crate::OperationKind) -> Action {
        match kind {
            crate::OperationKind::Capture => Action::Capture,
            crate::OperationKind::Cancel => Action::Cancel,
            crate::OperationKind::Refund => Action::Refund,
        }
    }
}

wire_enum! {
    /// What the proxy made of a postLink it received.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum PostLinkVerdict {
        /// Passed every check and moved the order.
        Accepted = "accepted",
        /// The same notification again; nothing changed.
        Duplicate = "duplicate",
        /// Authentic, but too late to change the order (a failure after paid).
        Ignored = "ignored",
        /// Failed a check; never touched the order.
        Rejected = "rejected",
        /// No secret_hash: not proof of anything, but a reason to ask the status API now.
        Hint = "hint",
    }
}

wire_enum! {
    /// Which of ePay's notifications a postLink came to.
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub enum PostLinkEndpoint {
        /// `postLink`: ePay's word on a payment.
        Postlink = "postlink",
        /// `failurePostLink`: ePay's word on a failed one.
        FailurePostlink = "failure_postlink",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + Copy>(
        all: &[T],
        as_str: fn(T) -> &'static str,
    ) {
        for value in all {
            let json = serde_json::to_string(value).unwrap();
            assert_eq!(json, format!("\"{}\"", as_str(*value)));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *value);
        }
    }

    #[test]
    fn wire_names_are_serdes_both_ways() {
        round_trips(OrderState::ALL, OrderState::as_str);
        round_trips(MerchantStatus::ALL, MerchantStatus::as_str);
        round_trips(OperationStatus::ALL, OperationStatus::as_str);
        round_trips(EventType::ALL, EventType::as_str);
        round_trips(Decision::ALL, Decision::as_str);
        round_trips(Role::ALL, Role::as_str);
        round_trips(Action::ALL, Action::as_str);
        round_trips(PostLinkVerdict::ALL, PostLinkVerdict::as_str);
        round_trips(PostLinkEndpoint::ALL, PostLinkEndpoint::as_str);
        assert_eq!(OrderState::from_wire("start_failed"), Some(OrderState::StartFailed));
        assert_eq!(EventType::from_wire("order.paid_late"), Some(EventType::OrderPaidLate));
        assert_eq!(Decision::from_wire("maybe"), None);
        assert!(serde_json::from_str::<Role>("\"admin\"").is_err(), "an unknown word is an error, not a default");
    }

    #[test]
    fn every_state_has_a_merchant_status_and_a_payer_status() {
        let statuses: Vec<MerchantStatus> = OrderState::ALL.iter().map(|s| s.merchant_status()).collect();
        for status in MerchantStatus::ALL {
            assert!(statuses.contains(status), "no state shows as {status}");
        }
        assert_eq!(OrderState::Review.merchant_status(), MerchantStatus::Pending);
        assert_eq!(OrderState::Refunded.public(), OrderStatus::Paid);
    }
}
