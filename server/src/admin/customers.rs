//! The console's customers: their saved cards and subscriptions with each period's charges,
//! and what operators may do about them (delete a card, cancel a subscription), each recorded
//! with who and when (`admin_actions`), through the merchant API's own code.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use epay_api_types::{Action, AdminCustomer, AdminCustomerLine, SavedCard, Subscription};

use super::staff::Staff;
use crate::error::AppError;
use crate::merchant::cards::delete_card;
use crate::merchant::subscriptions::{Change, apply, cancel_request};
use crate::state::AppState;
use crate::store::admin::{self, ActionRow};
use crate::store::{cards, now, subscriptions};
use crate::views::card::saved_card;
use crate::views::subscription::subscription;

/// `GET /api/admin/customers?q=`: customers with cards or subscriptions, the latest first.
pub async fn list(State(app): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Result<Json<Vec<AdminCustomerLine>>, AppError> {
    let search = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "q")
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    let rows = app.store.read(move |db| cards::customers(db, &search, 100)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(account_id, active_cards, active_subscriptions)| AdminCustomerLine { account_id, active_cards, active_subscriptions })
            .collect(),
    ))
}

/// `GET /api/admin/customers/{accountId}`: the cards and the subscriptions, with every charge.
pub async fn show(State(app): State<Arc<AppState>>, Path(account_id): Path<String>) -> Result<Json<AdminCustomer>, AppError> {
    let account = account_id.clone();
    let (cards, subs) = app
        .store
        .read(move |db| {
            let cards = cards::for_account(db, &account)?;
            let subs = subscriptions::list(db, Some(&account), 500)?;
            let subs = subs
                .into_iter()
                .map(|sub| Ok((subscriptions::charges(db, sub.id)?, sub)))
                .collect::<Result<Vec<_>, crate::store::StoreError>>()?;
            Ok((cards, subs))
        })
        .await?;
    if cards.is_empty() && subs.is_empty() {
        return Err(AppError::not_found(format!("no customer `{account_id}` has saved a card or subscribed")));
    }
    Ok(Json(AdminCustomer {
        account_id,
        cards: cards.iter().map(saved_card).collect(),
        subscriptions: subs.iter().map(|(charges, sub)| subscription(sub, charges, true)).collect(),
    }))
}

/// `DELETE /api/admin/customers/{accountId}/cards/{cardId}`, for operators.
pub async fn delete(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    Path((account_id, card_ref)): Path<(String, String)>,
) -> Result<Json<SavedCard>, AppError> {
    staff.require_operator()?;
    let card = delete_card(&app, &account_id, &card_ref, &format!("console: {}", staff.name)).await?;
    let action = ActionRow {
        order_id: Some(card.saved_by_order),
        note: Some(format!("deleted card {} of {account_id}", card.card_ref)),
        ..ActionRow::new(Action::DeleteCard, staff.name.clone(), now())
    };
    app.store.write(move |tx| admin::record_action(tx, &action)).await?;
    tracing::info!(user = %staff.name, card = %card_ref, "saved card deleted in the console");
    Ok(Json(saved_card(&card)))
}

/// `POST /api/admin/subscriptions/{id}/cancel` `{"atPeriodEnd"?}`, for operators.
pub async fn cancel(
    State(app): State<Arc<AppState>>,
    Extension(staff): Extension<Staff>,
    Path(sub_ref): Path<String>,
    body: Bytes,
) -> Result<Json<Subscription>, AppError> {
    staff.require_operator()?;
    let request = cancel_request(&body)?;
    let cancelled = apply(&app, &sub_ref, Change::Cancel { at_period_end: request.at_period_end }).await?;
    let order_id = match cancelled.0.latest_charge.as_ref() {
        Some(charge) => {
            let invoice = charge.invoice_id.clone();
            app.store.read(move |db| crate::store::orders::find_by_invoice(db, &invoice)).await?.map(|order| order.id)
        }
        None => None,
    };
    let when = if request.at_period_end { "at the end of the paid period" } else { "now" };
    let action = ActionRow {
        order_id,
        note: Some(format!("cancelled subscription {sub_ref} {when}")),
        ..ActionRow::new(Action::CancelSubscription, staff.name.clone(), now())
    };
    app.store.write(move |tx| admin::record_action(tx, &action)).await?;
    tracing::info!(user = %staff.name, subscription = %sub_ref, at_period_end = request.at_period_end, "subscription cancelled in the console");
    Ok(cancelled)
}
