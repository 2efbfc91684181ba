//! What the emulated ePay remembers: issued tokens, invoices and their transactions, open
//! payment pages, and the knobs tests turn. In memory: a sandbox restart forgets everything,
//! as a fresh test environment would.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use epay_api_types::Amount;
use serde::{Deserialize, Serialize};

/// Tokens live 7200 s, as ePay's do.
/// The secret_hash a token was asked with, which the sandbox echoes in success postLinks:
/// compared and sent, never printed (its `Debug` is `[redacted]`).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(pub String);

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// The most tokens (and open payment pages) the sandbox remembers; beyond that the oldest
/// are forgotten, so a load test cannot grow it without bound.
const REMEMBERED: usize = 200_000;

#[derive(Clone, Debug)]
pub enum Grant {
    /// A payment (or transfer) token, and what it was issued for.
    Payment(TokenTerms),
    /// A service token for the status API.
    Service,
}

#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub scope: String,
    pub grant: Grant,
    pub expires_at: Instant,
}

/// What a payment token was issued for; the payment object must match every part it names.
/// A card payment's token names them all; the merchant document's transfer token carries only
/// `terminal` and `secret_hash` (no invoiceID, amount, currency or postLink): the payment object
/// then supplies them.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenTerms {
    pub invoice_id: Option<String>,
    pub amount: Option<Amount>,
    pub currency: Option<String>,
    pub terminal: String,
    pub post_link: Option<String>,
    pub failure_post_link: String,
    pub secret_hash: SecretHash,
}

/// The invoice a payment page is open for: the token's terms completed by the payment object.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceTerms {
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    pub post_link: String,
    pub failure_post_link: String,
    pub secret_hash: SecretHash,
}

/// One payment attempt on an invoice.
#[derive(Clone, Debug)]
pub struct Transaction {
    pub id: String,
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    /// CHARGE, AUTH, REJECT, REFUND, CANCEL...
    pub status_name: &'static str,
    /// What refunds returned so far.
    pub refunded: Amount,
    pub card_mask: String,
    pub approval_code: String,
    pub reference: String,
    pub reason: String,
    pub reason_code: i64,
    pub created_at: String,
    /// A transfer's fee, charged to the sender on top of the amount.
    pub fee: Option<Amount>,
    /// The part Halyk bonuses paid (ePay's `amountBonus`).
    pub bonus: Amount,
    /// A transfer's receiving card, masked.
    pub receiver_mask: Option<String>,
    /// What the status API shows until the given moment instead (`Control::status_lag_ms`):
    /// the transaction as it was before its latest operation.
    pub lagging: Option<(Instant, Box<Transaction>)>,
}

/// A payment page the payer has open.
#[derive(Clone, Debug)]
pub struct PaySession {
    pub terms: InvoiceTerms,
    pub flag: MethodFlag,
    pub description: String,
    pub account_id: String,
    pub email: String,
    pub phone: String,
    pub language: String,
    pub back_link: String,
    pub failure_back_link: String,
    pub expires_at: Instant,
    /// The payment object's `cardSave`: a successful payment saves the card (its `cardId`).
    pub card_save: bool,
}

/// A card a payment with `cardSave: true` saved, by its `cardId`.
#[derive(Clone, Debug)]
pub struct SavedCard {
    /// The test card's number (the sandbox's own memory; ePay answers only its mask).
    pub number: &'static str,
    pub account_id: String,
    pub terminal: String,
    /// Payments by `cardId` made with it so far (what decides a card that declines its Nth).
    pub charges: u32,
    pub deactivated: bool,
}

/// The flag payment-api.js appended to the payment page URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodFlag {
    Pay,
    Transfer,
    Oct,
    Aft,
    ShortForm,
}

impl Transaction {
    /// The transaction as the status API shows it now (an operation's result may lag).
    pub fn as_seen(&self) -> &Transaction {
        match &self.lagging {
            Some((until, before)) if Instant::now() < *until => before,
            _ => self,
        }
    }

    /// The amount ePay reports: the transfer amount, or with `fee_in_amount` the amount plus
    /// the fee (whether ePay includes it is unconfirmed: the sandbox can do both).
    pub fn reported_amount(&self, fee_in_amount: bool) -> Amount {
        match self.fee {
            Some(fee) if fee_in_amount => Amount::from_minor(self.amount.minor() + fee.minor()),
            _ => self.amount,
        }
    }
}

impl MethodFlag {
    /// A card-to-card transfer (P2P, OCT, AFT), not a card payment.
    pub fn is_transfer(self) -> bool {
        matches!(self, MethodFlag::Transfer | MethodFlag::Oct | MethodFlag::Aft)
    }

    /// ePay issues transfer tokens for P2P/OCT/AFT and payment tokens for card payments.
    pub fn scope(self) -> &'static str {
        if self.is_transfer() { "transfer" } else { "payment" }
    }
}

/// Behaviour tests switch on through `POST /sandbox/control`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Control {
    /// The next N token requests fail with `fail_tokens_status` (default 500).
    pub fail_tokens: u32,
    pub fail_tokens_status: Option<u16>,
    /// Every token request waits this long first (for timeout tests).
    pub token_delay_ms: u64,
    /// Send `expires_in` as "7200" instead of 7200 (some ePay servers do).
    pub expires_in_as_string: bool,
    /// First retry delay for postLink delivery (doubles each attempt).
    pub delivery_retry_ms: Option<u64>,
    /// The next N status-API calls answer resultCode "107" (in progress).
    pub status_in_progress: u32,
    /// Leave secret_hash out of success postLinks too (failure postLinks never carry it, as
    /// in the seed's failure sample).
    pub omit_secret_hash: bool,
    /// Report a transfer's `amount` with its fee included (whether ePay does is unconfirmed).
    pub fee_in_amount: bool,
    /// A two-stage terminal: approved payments are held (AUTH) until charged or cancelled.
    pub two_stage: bool,
    /// The next N operation calls (charge, cancel, refund) answer 500 without doing anything.
    pub fail_operations: u32,
    /// The next N operation calls answer 400 `{"code": 100, "message": ""}` without doing
    /// anything (as ePay's pages print an error).
    pub refuse_operations: u32,
    /// The next N operation calls do their work but answer only after this many ms (a
    /// client's timeout then hides an operation that happened).
    pub slow_operations: u32,
    pub slow_operation_ms: u64,
    /// Payments from now on are paid partly with Halyk bonuses: this many minor units.
    pub bonus_minor: u64,
    /// What the next operation requests meet, one each, in order (then they behave); a fault
    /// that names an invoice waits for a request on that invoice.
    pub operation_faults: VecDeque<FaultRule>,
    /// After an operation, the status API shows the transaction as it was before for this
    /// long (ms).
    pub status_lag_ms: u64,
    /// A partly refunded charge is labelled `REFUND` (not `CHARGE`).
    pub partly_refunded_as_refund: bool,
}

/// A fault for the next operation request, on any invoice or on `invoice_id`'s.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    #[serde(flatten)]
    pub fault: OperationFault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
}

impl Control {
    /// The first fault that applies to an operation on `invoice_id`, taken off the list.
    pub fn take_fault(&mut self, invoice_id: &str) -> Option<OperationFault> {
        let at = self.operation_faults.iter().position(|rule| rule.invoice_id.as_deref().is_none_or(|id| id == invoice_id))?;
        self.operation_faults.remove(at).map(|rule| rule.fault)
    }
}

/// How one operation request misbehaves: the ways a payment gateway does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "camelCase")]
pub enum OperationFault {
    /// Performs it, then never answers (the client times out).
    PerformThenHang,
    /// Performs it, then answers 500.
    PerformThen500,
    /// Answers only after `ms`, and performs it then (a slow bank: after the client's timeout).
    LateThenPerform { ms: u64 },
    /// Never performs it, never answers.
    Hang,
    /// Answers 500 at once, without performing it.
    Fail500,
}

/// An operation the sandbox performed.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Performed {
    pub invoice_id: String,
    pub transaction_id: String,
    pub kind: &'static str,
    /// Minor units moved (a refund's, a capture's); 0 for a cancel.
    pub amount_minor: u64,
    pub external_id: Option<String>,
}

#[derive(Default)]
pub struct Registry {
    pub tokens: HashMap<String, IssuedToken>,
    pub transactions: HashMap<String, Vec<Transaction>>,
    /// Charge, cancel and refund requests performed (`GET /sandbox/operations-performed` tells
    /// the tests how many): each one ePay's rules allow, whatever its externalID; a refused one
    /// moves nothing and does not count.
    pub operations_performed: u32,
    /// Each operation performed (`GET /sandbox/operations`).
    pub performed: Vec<Performed>,
    /// How often the status API was asked about each invoice (`GET /sandbox/status-questions`:
    /// several proxies on one database must ask once per question, not once each).
    pub status_questions: HashMap<String, u32>,
    /// Cards saved by payments with `cardSave: true`, by `cardId`.
    pub saved_cards: HashMap<String, SavedCard>,
    /// Card deactivations performed (`GET /sandbox/cards` shows the cards).
    pub deactivations: u32,
    sessions: HashMap<String, PaySession>,
    /// Tokens and sessions in the order they were made. Every one lives equally long, so the
    /// oldest expires first and forgetting them is a pop from the front, not a sweep.
    token_order: VecDeque<(Instant, String)>,
    session_order: VecDeque<(Instant, String)>,
}

impl Registry {
    /// Saves `number` for `account_id` on `terminal`: its new `cardId`.
    pub fn save_card(&mut self, number: &'static str, account_id: &str, terminal: &str) -> String {
        let card_id = uuid::Uuid::new_v4().to_string();
        let card = SavedCard { number, account_id: account_id.to_owned(), terminal: terminal.to_owned(), charges: 0, deactivated: false };
        self.saved_cards.insert(card_id.clone(), card);
        card_id
    }

    pub fn issue(&mut self, access_token: String, token: IssuedToken) {
        forget_old(&mut self.token_order, &mut self.tokens);
        self.token_order.push_back((token.expires_at, access_token.clone()));
        self.tokens.insert(access_token, token);
    }

    pub fn open_session(&mut self, id: String, session: PaySession) {
        forget_old(&mut self.session_order, &mut self.sessions);
        self.session_order.push_back((session.expires_at, id.clone()));
        self.sessions.insert(id, session);
    }

    pub fn session(&self, id: &str) -> Option<&PaySession> {
        self.sessions.get(id).filter(|s| s.expires_at > Instant::now())
    }

    pub fn close_session(&mut self, id: &str) {
        self.sessions.remove(id);
    }

    pub fn live_token(&self, access_token: &str) -> Option<&IssuedToken> {
        self.tokens.get(access_token).filter(|t| t.expires_at > Instant::now())
    }

    /// The transaction that decides the invoice: a successful one if any, else the latest.
    pub fn settled(&self, invoice_id: &str) -> Option<&Transaction> {
        let all = self.transactions.get(invoice_id)?;
        all.iter().rev().find(|t| matches!(t.status_name, "CHARGE" | "AUTH" | "REFUND" | "CANCEL")).or_else(|| all.last())
    }

    /// What a transfer of `amount` costs the sender: 1 %, at least 50 ₸ (the sandbox's rule;
    /// ePay's fees depend on the merchant's contract).
    pub fn transfer_fee(amount: Amount) -> Amount {
        Amount::from_minor((amount.minor() / 100).max(5_000))
    }

    pub fn is_paid(&self, invoice_id: &str) -> bool {
        self.settled(invoice_id).is_some_and(|t| matches!(t.status_name, "CHARGE" | "AUTH" | "REFUND" | "CANCEL"))
    }
}

/// Drops entries that expired, and the oldest beyond `REMEMBERED`.
fn forget_old<T>(order: &mut VecDeque<(Instant, String)>, map: &mut HashMap<String, T>) {
    let now = Instant::now();
    while let Some((expires_at, key)) = order.front() {
        if *expires_at > now && order.len() < REMEMBERED {
            break;
        }
        map.remove(key);
        order.pop_front();
    }
}

pub struct SandboxState {
    pub registry: Mutex<Registry>,
    pub control: Mutex<Control>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: Instant) -> IssuedToken {
        IssuedToken { scope: "transfer".into(), grant: Grant::Service, expires_at }
    }

    #[test]
    fn expired_tokens_are_forgotten_and_the_registry_stays_bounded() {
        let mut registry = Registry::default();
        let past = Instant::now() - Duration::from_secs(1);
        registry.issue("old".into(), token(past));
        registry.issue("new".into(), token(Instant::now() + TOKEN_LIFETIME));
        assert!(!registry.tokens.contains_key("old"));
        assert!(registry.live_token("new").is_some());

        let later = Instant::now() + TOKEN_LIFETIME;
        for i in 0..REMEMBERED + 10 {
            registry.issue(i.to_string(), token(later));
        }
        assert_eq!(registry.tokens.len(), REMEMBERED);
        assert!(!registry.tokens.contains_key("0") && registry.tokens.contains_key(&(REMEMBERED + 9).to_string()));
    }

    /// What the sandbox remembers of a token and of an invoice prints no secret_hash.
    #[test]
    fn no_debug_output_of_the_sandboxs_memory_prints_a_secret_hash() {
        let secret = "a-secret-hash-of-the-shop".to_owned();
        let token = TokenTerms {
            invoice_id: Some("000000000001".into()),
            amount: Some(Amount::from_minor(150_000)),
            currency: Some("KZT".into()),
            terminal: "t".into(),
            post_link: None,
            failure_post_link: "https://shop.kz/f".into(),
            secret_hash: SecretHash(secret.clone()),
        };
        let issued = IssuedToken { scope: "payment".into(), grant: Grant::Payment(token.clone()), expires_at: Instant::now() };
        let invoice = InvoiceTerms {
            invoice_id: "000000000001".into(),
            amount: Amount::from_minor(150_000),
            currency: "KZT".into(),
            terminal: "t".into(),
            post_link: "https://shop.kz/p".into(),
            failure_post_link: "https://shop.kz/f".into(),
            secret_hash: SecretHash(secret.clone()),
        };
        let printed = format!("{token:?} {issued:?} {invoice:?}");
        assert!(!printed.contains(&secret) && printed.contains("[redacted]"), "{printed}");
    }
}
