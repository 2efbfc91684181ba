//! `GET /api/merchant/customers/{accountId}/cards` and `DELETE …/cards/{cardId}`: the cards a
//! customer agreed to save, and taking one away (docs/saved-cards.md).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use epay_api_types::{ApiError, CardStatus, ErrorCode, SavedCard, SavedCardList};

use super::auth::MerchantAuthErrors;
use crate::card_deactivation;
use crate::error::AppError;
use crate::state::AppState;
use crate::store::cards::{self, CardRow};
use crate::store::now_ms;
use crate::views::card::saved_card;

/// A customer's saved cards, oldest first (deleted ones too).
#[utoipa::path(
    get,
    path = "/api/merchant/customers/{accountId}/cards",
    operation_id = "listSavedCards",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(("accountId" = String, Path, description = "The customer: the `accountId` of the orders that saved the cards")),
    responses(
        (status = 200, description = "The customer's cards (an empty list for a customer without any)", body = SavedCardList),
        MerchantAuthErrors,
    )
)]
pub async fn list(State(app): State<Arc<AppState>>, Path(account_id): Path<String>) -> Result<Json<SavedCardList>, AppError> {
    let cards = app.store.read(move |db| cards::for_account(db, &account_id)).await?;
    Ok(Json(SavedCardList { data: cards.iter().map(saved_card).collect() }))
}

/// Deletes a saved card: it is never charged again, and ePay is asked to deactivate it (at once,
/// and again until it confirms: `deactivatedAtEpay`). Deleting it again answers the same.
#[utoipa::path(
    delete,
    path = "/api/merchant/customers/{accountId}/cards/{cardId}",
    operation_id = "deleteSavedCard",
    tag = "merchant",
    security(("merchantKey" = [])),
    params(
        ("accountId" = String, Path, description = "The customer"),
        ("cardId" = String, Path, description = "The card (`card_…`)"),
    ),
    responses(
        (status = 200, description = "The card, deleted", body = SavedCard),
        MerchantAuthErrors,
        (status = 404, description = "`not_found`: the customer has no such card", body = ApiError),
    )
)]
pub async fn delete(
    State(app): State<Arc<AppState>>,
    Path((account_id, card_ref)): Path<(String, String)>,
) -> Result<Json<SavedCard>, AppError> {
    let card = delete_card(&app, &account_id, &card_ref, "merchant API").await?;
    Ok(Json(saved_card(&card)))
}

/// Deletes `card_ref` of `account_id` for `by` (the merchant API, or a person in the console),
/// then asks ePay to deactivate it once; the worker asks again until it does.
pub async fn delete_card(app: &AppState, account_id: &str, card_ref: &str, by: &str) -> Result<CardRow, AppError> {
    let (account, reference, by) = (account_id.to_owned(), card_ref.to_owned(), by.to_owned());
    // The first deactivation is this request's: the worker takes it only if this one dies.
    let lease = crate::store::leases::lease_ms(app.config.epay.timeout);
    let deleted = app
        .store
        .write(move |tx| match cards::find(tx, &account, &reference)? {
            Some(card) => cards::delete(tx, card.id, &by, now_ms(), now_ms() + lease),
            None => Ok(None),
        })
        .await?;
    let Some((mut card, deleted_now)) = deleted else {
        return Err(AppError::not_found(format!("customer {account_id} has no saved card {card_ref}")));
    };
    if deleted_now {
        tracing::info!(card = %card.card_ref, "saved card deleted; deactivating it at ePay");
        card_deactivation::deactivate(app, &card).await?;
        let id = card.id;
        card = app.store.read(move |db| cards::find_by_id(db, id)).await?.unwrap_or(card);
    }
    Ok(card)
}

/// The active saved card `card_ref` of `account_id`, or why it cannot pay: what a charge
/// (`savedCard`) and a subscription (`card`) both need.
pub async fn usable_card(app: &AppState, account_id: &str, card_ref: &str) -> Result<CardRow, AppError> {
    let (account, reference) = (account_id.to_owned(), card_ref.trim().to_owned());
    let card = app.store.read(move |db| cards::find(db, &account, &reference)).await?;
    let refuse = |message: String| AppError::unprocessable(ErrorCode::CardNotUsable, message);
    match card {
        None => Err(refuse(format!(
            "customer {account_id} has no saved card {card_ref}: GET /api/merchant/customers/{{accountId}}/cards lists theirs"
        ))),
        Some(card) => match card.status {
            CardStatus::Active => Ok(card),
            CardStatus::Pending => Err(refuse(format!(
                "card {card_ref} was saved by a payment ePay has not confirmed yet: it can pay once that order is paid"
            ))),
            CardStatus::Deleted => {
                Err(refuse(format!("card {card_ref} was deleted: it can never pay again; ask the customer to pay and save a card")))
            }
        },
    }
}
