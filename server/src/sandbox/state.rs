//! What the emulated ePay remembers: issued tokens, invoices and their transactions, open
//! payment pages, and the knobs tests turn. In memory: a sandbox restart forgets everything,
//! as a fresh test environment would.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use epay_api_types::Amount;
use serde::{Deserialize, Serialize};

/// Tokens live 7200 s, as ePay's do.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// Above this many live tokens, expired ones are swept on the next issue.
const SWEEP_ABOVE: usize = 50_000;

#[derive(Clone, Debug)]
pub enum Grant {
    /// A payment token, bound to one invoice.
    Payment(InvoiceTerms),
    /// A service token for the status API.
    Service,
}

#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub scope: String,
    pub grant: Grant,
    pub expires_at: Instant,
}

/// What a payment token was issued for; the payment page must match it exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceTerms {
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    pub post_link: String,
    pub failure_post_link: String,
    pub secret_hash: String,
}

/// One payment attempt on an invoice.
#[derive(Clone, Debug)]
pub struct Transaction {
    pub id: String,
    pub invoice_id: String,
    pub amount: Amount,
    pub currency: String,
    pub terminal: String,
    /// CHARGE, AUTH, REJECT...
    pub status_name: &'static str,
    pub card_mask: String,
    pub approval_code: String,
    pub reference: String,
    pub reason: String,
    pub reason_code: i64,
    pub created_at: String,
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

impl MethodFlag {
    /// ePay issues transfer tokens for P2P/OCT/AFT and payment tokens for card payments.
    pub fn scope(self) -> &'static str {
        match self {
            MethodFlag::Transfer | MethodFlag::Oct | MethodFlag::Aft => "transfer",
            MethodFlag::Pay | MethodFlag::ShortForm => "payment",
        }
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
}

#[derive(Default)]
pub struct Registry {
    pub tokens: HashMap<String, IssuedToken>,
    pub transactions: HashMap<String, Vec<Transaction>>,
    pub sessions: HashMap<String, PaySession>,
}

impl Registry {
    pub fn issue(&mut self, access_token: String, token: IssuedToken) {
        if self.tokens.len() > SWEEP_ABOVE {
            let now = Instant::now();
            self.tokens.retain(|_, t| t.expires_at > now);
            self.sessions.retain(|_, s| s.expires_at > now);
        }
        self.tokens.insert(access_token, token);
    }

    pub fn live_token(&self, access_token: &str) -> Option<&IssuedToken> {
        self.tokens.get(access_token).filter(|t| t.expires_at > Instant::now())
    }

    /// The transaction that decides the invoice: a successful one if any, else the latest.
    pub fn settled(&self, invoice_id: &str) -> Option<&Transaction> {
        let all = self.transactions.get(invoice_id)?;
        all.iter().rev().find(|t| matches!(t.status_name, "CHARGE" | "AUTH")).or_else(|| all.last())
    }

    pub fn is_paid(&self, invoice_id: &str) -> bool {
        self.settled(invoice_id).is_some_and(|t| matches!(t.status_name, "CHARGE" | "AUTH"))
    }
}

pub struct SandboxState {
    pub registry: Mutex<Registry>,
    pub control: Mutex<Control>,
}
