//! An order as stored (`OrderRow`), what a checkout stores first (`NewOrder`), and what an
//! outcome sets (`Outcome`).

use epay_api_types::{Amount, Language, OrderSource, PaymentMethod};

use super::state::OrderState;
use crate::invoice;
use crate::secrets::SecretText;

/// How long an ePay payment token lives, as every ePay page and sample prints it (`expires_in`:
/// 7200). No request can ask for less, so a merchant order stops handing out tokens this long
/// before it expires (`OrderRow::payable_until`); a token that comes back longer is refused.
pub const DOCUMENTED_LIFETIME_SECS: i64 = 7200;

#[derive(Clone, Debug)]
pub struct OrderRow {
    pub id: i64,
    pub invoice_id: String,
    pub order_key: SecretText,
    pub secret_hash: SecretText,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub terminal: String,
    pub method: PaymentMethod,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: Language,
    pub card_save: bool,
    pub status: OrderState,
    pub token_response: Option<String>,
    pub token_expires_at: Option<i64>,
    pub start_error: Option<String>,
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_code: Option<i64>,
    pub review_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the confirmation worker asks ePay's status API next (unix ms); NULL: never.
    pub next_check_ms: Option<i64>,
    pub check_attempts: i64,
    pub last_check: Option<String>,
    /// Bumped by every change: a decision applies only to the version it was made on.
    pub version: i64,
    /// The invoice suffix this order holds (NULL once released, see `release_suffixes`).
    pub reserved_suffix: Option<String>,
    pub fee_minor: Option<i64>,
    /// The saved card (cardSave) as the success postLink describes it.
    pub card_id: Option<String>,
    pub card_type: Option<String>,
    /// When a postLink without secret_hash last made the proxy ask the status API.
    pub last_hint_ms: Option<i64>,
    /// Who fixed the amount: the merchant API or the payer.
    pub source: OrderSource,
    pub merchant_reference: Option<String>,
    pub merchant_idempotency_key: Option<String>,
    pub merchant_fingerprint: Option<String>,
    /// A JSON object, exactly as the merchant sent it.
    pub metadata: Option<String>,
    pub return_url: Option<String>,
    /// A merchant order cannot be started after this (unix seconds).
    pub expires_at: Option<i64>,
    /// What was charged (CHARGE, or a capture of an AUTH), in minor units.
    pub captured_minor: Option<i64>,
    /// What refunds returned so far.
    pub refunded_minor: i64,
    /// ePay's `amountBonus`: the part of the price Halyk bonuses paid.
    pub amount_bonus_minor: Option<i64>,
    /// ePay's `orgAmount`: the transaction's original amount.
    pub org_amount_minor: Option<i64>,
    /// ePay's `payoutAmount`.
    pub payout_amount_minor: Option<i64>,
}

impl NewOrder {
    /// A payer's order of `amount_minor` for `method`, for tests (the pure rules', and the
    /// integration suite's store tests): request fingerprint "F", terminal "T-1".
    #[doc(hidden)]
    pub fn example(amount_minor: u64, method: PaymentMethod) -> NewOrder {
        NewOrder {
            order_key: SecretText::new("k".into()),
            secret_hash: SecretText::new("S".into()),
            idempotency_key: None,
            request_fingerprint: "F".into(),
            amount: Amount::from_minor(amount_minor),
            currency: "KZT".into(),
            terminal: "T-1".into(),
            method,
            description: String::new(),
            account_id: String::new(),
            email: String::new(),
            phone: String::new(),
            language: Language::Ru,
            card_save: false,
            merchant: None,
            receipt_lines: None,
        }
    }
}

impl OrderRow {
    pub fn amount(&self) -> Amount {
        Amount::from_minor(self.amount_minor as u64)
    }

    /// A merchant order the payer may still start paying at `now` (unix seconds).
    pub fn payable(&self, now: i64) -> bool {
        self.source == OrderSource::Merchant
            && matches!(self.status, OrderState::Open | OrderState::Created | OrderState::Pending | OrderState::StartFailed)
            && self.payable_until().is_none_or(|until| now < until)
    }

    /// The last moment a new token may be handed out for the order: one token's lifetime
    /// before it expires, so a payment cannot complete after `expires_at`.
    pub fn payable_until(&self) -> Option<i64> {
        self.expires_at.map(|at| at - DOCUMENTED_LIFETIME_SECS)
    }

    /// The row of a new order as `begin_checkout` writes it (state `created`, or `open` for a
    /// merchant order), without
    /// reading it back. Tests and fuzz targets build their orders with it too.
    pub fn created(id: i64, invoice_id: String, new: &NewOrder, created_at: i64) -> OrderRow {
        let (status, source) = new.first_state();
        let terms = new.merchant.as_ref();
        OrderRow {
            id,
            invoice_id: invoice_id.clone(),
            order_key: new.order_key.clone(),
            secret_hash: new.secret_hash.clone(),
            idempotency_key: new.idempotency_key.clone(),
            request_fingerprint: Some(new.request_fingerprint.clone()),
            amount_minor: new.amount.minor() as i64,
            currency: new.currency.clone(),
            terminal: new.terminal.clone(),
            method: new.method,
            description: new.description.clone(),
            account_id: new.account_id.clone(),
            email: new.email.clone(),
            phone: new.phone.clone(),
            language: new.language,
            card_save: new.card_save,
            status,
            token_response: None,
            token_expires_at: None,
            start_error: None,
            transaction_id: None,
            card_mask: None,
            approval_code: None,
            reference: None,
            failure_reason: None,
            failure_code: None,
            review_reason: None,
            created_at,
            updated_at: created_at,
            next_check_ms: None,
            check_attempts: 0,
            last_check: None,
            version: 0,
            reserved_suffix: Some(invoice::suffix(&invoice_id).to_owned()),
            fee_minor: None,
            card_id: None,
            card_type: None,
            last_hint_ms: None,
            source,
            merchant_reference: terms.map(|m| m.reference.clone()),
            merchant_idempotency_key: terms.map(|m| m.idempotency_key.clone()),
            merchant_fingerprint: terms.map(|m| m.fingerprint.clone()),
            metadata: terms.and_then(|m| m.metadata.clone()),
            return_url: terms.and_then(|m| m.return_url.clone()),
            expires_at: terms.map(|m| created_at + m.lifetime_secs),
            captured_minor: None,
            refunded_minor: 0,
            amount_bonus_minor: None,
            org_amount_minor: None,
            payout_amount_minor: None,
        }
    }
}

/// Everything a checkout stores before ePay is asked for a token.
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub order_key: SecretText,
    pub secret_hash: SecretText,
    pub idempotency_key: Option<String>,
    pub request_fingerprint: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    pub method: PaymentMethod,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: Language,
    pub card_save: bool,
    /// Set for an order of the merchant API (stored `open`); `None` for a payer's checkout.
    pub merchant: Option<MerchantTerms>,
    /// What its fiscal receipts list (JSON, `fiscal::items`); `None`: it owes none.
    pub receipt_lines: Option<String>,
}

impl NewOrder {
    /// Where a new order starts: a merchant order `open` (nobody pays it yet), a payer's checkout
    /// `created` (its token is asked for at once).
    pub fn first_state(&self) -> (OrderState, OrderSource) {
        match self.merchant {
            Some(_) => (OrderState::Open, OrderSource::Merchant),
            None => (OrderState::Created, OrderSource::Payer),
        }
    }
}

/// What the merchant API fixes about an order beyond its price.
#[derive(Clone, Debug)]
pub struct MerchantTerms {
    pub reference: String,
    pub idempotency_key: String,
    /// sha256 of the create request: the same Idempotency-Key with another body is refused.
    pub fingerprint: String,
    pub metadata: Option<String>,
    pub return_url: Option<String>,
    /// How long after it is stored the order settles (`expires_at` = `created_at` + this): its
    /// payable window and a token's lifetime, both counted from the same moment.
    pub lifetime_secs: i64,
}

/// The fields an outcome (postLink or status API) sets on an order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub transaction_id: Option<String>,
    pub card_mask: Option<String>,
    pub approval_code: Option<String>,
    pub reference: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_code: Option<i64>,
    pub fee: Option<Amount>,
    /// `amountBonus`, `orgAmount`, `payoutAmount` as the status API reported them.
    pub amount_bonus: Option<Amount>,
    pub org_amount: Option<Amount>,
    pub payout_amount: Option<Amount>,
    /// A saved card's id and type (only when the order asked for cardSave).
    pub card_id: Option<String>,
    pub card_type: Option<String>,
    /// When the payer paid at ePay (the transaction's `createdDate`, unix seconds).
    pub paid_at: Option<i64>,
}
