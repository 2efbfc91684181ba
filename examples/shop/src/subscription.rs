//! The shop's subscription: the first month is an order that offers to save the card; once
//! the proxy says it is paid and the card is saved, the shop subscribes the customer with that
//! card from the second month on (`POST /api/merchant/subscriptions`, its Idempotency-Key made
//! from the shop's order, so asking again never subscribes twice). Its events keep the shop's
//! record of it current.

use axum::http::StatusCode;
use serde_json::{Value, json};
use sqlx::SqlitePool;

use super::{Shop, escape, internal, unreachable};

/// The customer a subscription's first order makes (the demo has no accounts): one per order.
pub fn customer_of(number: &str) -> String {
    format!("shop-customer-{number}")
}

async fn table(db: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS shop_subscriptions (order_id INTEGER PRIMARY KEY, subscription_id TEXT NOT NULL,
            status TEXT NOT NULL, status_reason TEXT, next_charge_at TEXT)",
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Subscribes the customer of paid order `id` with the card its payment saved, unless done.
pub async fn ensure(shop: &Shop, id: i64) -> Result<(), (StatusCode, String)> {
    table(&shop.db).await.map_err(internal)?;
    let done: Option<String> = sqlx::query_scalar("SELECT subscription_id FROM shop_subscriptions WHERE order_id = ?")
        .bind(id)
        .fetch_optional(&shop.db)
        .await
        .map_err(internal)?;
    if done.is_some() {
        return Ok(());
    }
    let number: String =
        sqlx::query_scalar("SELECT number FROM shop_orders WHERE id = ?").bind(id).fetch_one(&shop.db).await.map_err(internal)?;
    let customer = customer_of(&number);
    let cards: Value = shop
        .http
        .get(format!("{}/api/merchant/customers/{customer}/cards", shop.proxy))
        .bearer_auth(&shop.merchant_key)
        .send()
        .await
        .map_err(unreachable)?
        .json()
        .await
        .map_err(internal)?;
    let Some(card) = cards["data"].as_array().into_iter().flatten().find(|c| c["status"] == "active") else {
        // The payer did not tick "save the card" (or ePay has not reported it yet): one month only.
        return Ok(());
    };
    // The first month is paid: the subscription bills from the same day of the next one.
    let now = time::OffsetDateTime::now_utc();
    let (year, month) =
        if now.month() == time::Month::December { (now.year() + 1, time::Month::January) } else { (now.year(), now.month().next()) };
    let day = now.day().min(month.length(year));
    let start = time::Date::from_calendar_date(year, month, day).map_or(now, |date| date.with_time(now.time()).assume_utc());
    let body = json!({
        "accountId": customer, "card": card["id"], "amount": "4990", "interval": "month", "description": "Подписка «Чай месяца»",
        "start": start.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "metadata": {"shopOrder": number},
    });
    let response = shop
        .http
        .post(format!("{}/api/merchant/subscriptions", shop.proxy))
        .bearer_auth(&shop.merchant_key)
        .header("Idempotency-Key", format!("subscribe-{number}"))
        .json(&body)
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        let body = response.text().await.unwrap_or_default();
        tracing::warn!(%body, "the proxy refused the subscription; asked again with the next look at the order");
        return Ok(());
    }
    let subscription: Value = response.json().await.map_err(internal)?;
    sqlx::query("INSERT OR IGNORE INTO shop_subscriptions (order_id, subscription_id, status, next_charge_at) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(subscription["id"].as_str().unwrap_or_default())
        .bind(subscription["status"].as_str().unwrap_or_default())
        .bind(subscription["nextChargeAt"].as_str())
        .execute(&shop.db)
        .await
        .map_err(internal)?;
    tracing::info!(id, subscription = %subscription["id"], "customer subscribed");
    Ok(())
}

/// What the order page says of the subscription (nothing for a one-off product).
pub async fn note(shop: &Shop, id: i64, monthly: bool) -> Result<String, (StatusCode, String)> {
    if !monthly {
        return Ok(String::new());
    }
    table(&shop.db).await.map_err(internal)?;
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT subscription_id, status, next_charge_at FROM shop_subscriptions WHERE order_id = ?")
            .bind(id)
            .fetch_optional(&shop.db)
            .await
            .map_err(internal)?;
    Ok(match row {
        Some((subscription, status, next)) => format!(
            "<p data-subscription=\"{}\">Подписка: <strong>{}</strong>{}</p>",
            escape(&subscription),
            escape(&status),
            next.map(|at| format!(", следующее списание {}", escape(&at))).unwrap_or_default()
        ),
        None => "<p class=\"note\">Первый месяц оплачивается здесь. Чтобы подписка продолжалась, отметьте «Сохранить карту»: \
                 дальше магазин будет списывать 4 990 ₸ в месяц сам, а отменить можно в любой момент.</p>"
            .to_owned(),
    })
}

/// A subscription's event, once per webhook-id: the shop's record of it follows.
pub async fn apply_event(db: &SqlitePool, webhook_id: &str, event_type: &str, data: &Value) -> Result<bool, sqlx::Error> {
    table(db).await?;
    let mut tx = db.begin().await?;
    let first = sqlx::query("INSERT OR IGNORE INTO shop_webhooks (webhook_id, type, received_at) VALUES (?, ?, unixepoch())")
        .bind(webhook_id)
        .bind(event_type)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if first {
        tracing::info!(%event_type, subscription = %data["id"], "subscription webhook");
        sqlx::query("UPDATE shop_subscriptions SET status = ?, status_reason = ?, next_charge_at = ? WHERE subscription_id = ?")
            .bind(data["status"].as_str().unwrap_or_default())
            .bind(data["statusReason"].as_str())
            .bind(data["nextChargeAt"].as_str())
            .bind(data["id"].as_str().unwrap_or_default())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(first)
}
