//! A saved card as the merchant API shows it: never ePay's `cardId`, never a card number.

use epay_api_types::{CardStatus, SavedCard};

use super::order::rfc3339;
use crate::store::cards::CardRow;

pub fn saved_card(card: &CardRow) -> SavedCard {
    SavedCard {
        id: card.card_ref.clone(),
        account_id: card.account_id.clone(),
        status: card.status,
        card_mask: card.card_mask.clone(),
        card_type: card.card_type.clone(),
        issuer: card.issuer.clone(),
        saved_by_invoice_id: card.saved_by_invoice_id.clone(),
        saved_at: rfc3339(card.saved_at),
        last_used_at: card.last_used_at.map(rfc3339),
        deleted_at: card.deleted_at.map(rfc3339),
        deactivated_at_epay: (card.status == CardStatus::Deleted).then_some(card.deactivated_at.is_some()),
    }
}
