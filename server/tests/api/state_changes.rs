//! One writer per state change (issue 26, item 3): every move of an order writes its history
//! row and, for a state the shop hears of, its event with the order as it then stood, in the
//! move's transaction; a move the machine forbids writes nothing; and no trigger is left that
//! could write them behind the writer's back. On SQLite and on PostgreSQL.

use epay_proxy::params;
use epay_proxy::store::orders::{self, OrderSnapshot, OrderState, Outcome};
use epay_proxy::store::{Dialect, StoreError, Tx};

use crate::helpers::TestApp;
use crate::helpers::database::first;

/// What the store holds of one order's moves: its history and its events (type, snapshot).
struct Trail {
    state: OrderState,
    version: i64,
    history: Vec<OrderState>,
    events: Vec<(String, Option<String>)>,
}

async fn trail(app: &TestApp, id: i64) -> Trail {
    app.read(move |db| {
        let order = orders::find_by_id(db, id)?.expect("the order");
        let events = db.query_all("SELECT type, snapshot FROM webhook_events WHERE order_id = ? ORDER BY id", params![id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        Ok(Trail {
            state: order.status,
            version: order.version,
            history: orders::history(db, id)?.into_iter().map(|step| step.status).collect(),
            events,
        })
    })
    .await
}

fn outcome() -> Outcome {
    Outcome { transaction_id: Some("tx-1".into()), card_mask: Some("440043...0003".into()), ..Outcome::default() }
}

#[tokio::test]
async fn every_move_writes_its_history_and_the_event_the_shop_hears_of_with_the_order_then() {
    let app = TestApp::spawn().await;
    let order = app.merchant_order("150", "moves-1").await;
    let id = app.stored_order(order["invoiceId"].as_str().unwrap()).await.id;
    assert_eq!(trail(&app, id).await.history, [OrderState::Open], "the first step is written with the order");

    type Step = fn(&mut Tx, i64) -> Result<(), StoreError>;
    let steps: [(OrderState, Step); 8] = [
        (OrderState::Created, |tx, id| orders::begin_order_checkout(tx, id).map(drop)),
        (OrderState::Pending, |tx, id| orders::record_token(tx, id, "{}", epay_proxy::store::now() + 1_200, 0).map(drop)),
        (OrderState::Confirming, |tx, id| orders::set_outcome(tx, id, OrderState::Confirming, &outcome())),
        (OrderState::Paid, |tx, id| orders::set_outcome(tx, id, OrderState::Paid, &outcome())),
        (OrderState::Review, |tx, id| orders::send_to_review(tx, id, "a person must look")),
        (OrderState::Failed, |tx, id| orders::resolve_review(tx, id, OrderState::Failed, epay_proxy::store::now()).map(drop)),
        (OrderState::Paid, |tx, id| orders::set_outcome(tx, id, OrderState::Paid, &outcome())),
        (OrderState::Refunded, |tx, id| orders::set_outcome(tx, id, OrderState::Refunded, &outcome())),
    ];
    for (to, step) in steps {
        let before = trail(&app, id).await;
        app.state.store.write(move |tx| step(tx, id)).await.unwrap_or_else(|err| panic!("to {to:?}: {err}"));
        let after = trail(&app, id).await;
        assert_eq!(after.state, to);
        assert_eq!(after.history.len(), before.history.len() + 1, "one history row for the move to {to:?}");
        assert_eq!(after.history.last(), Some(&to));
        let new_events = &after.events[before.events.len()..];
        match orders::announced_as(to) {
            Some(kind) => {
                assert_eq!(new_events.len(), 1, "one event for the move to {to:?}");
                assert_eq!(new_events[0].0, kind.as_str());
                let then = OrderSnapshot::read(new_events[0].1.as_deref()).expect("the event keeps the order then");
                // Nothing changed since the move: the order then is the order now, every field.
                let now = app.read(move |db| orders::find_by_id(db, id)).await.unwrap();
                assert_eq!(format!("{:?}", then.order_then(&now)), format!("{now:?}"), "the snapshot is the order as the move left it");
                assert_eq!((then.status, then.version), (to, after.version));
            }
            None => assert!(new_events.is_empty(), "the shop hears nothing of {to:?}: {new_events:?}"),
        }
    }

    // Refunded is final: a move out of it is not made, none of its columns are written, no
    // history and no event; the order is flagged for a person instead, in the same transaction
    // (a worker retrying an error would retry it for ever).
    let before = trail(&app, id).await;
    let noted = Outcome { transaction_id: Some("another".into()), ..outcome() };
    app.state.store.write(move |tx| orders::set_outcome(tx, id, OrderState::Paid, &noted)).await.expect("refused, not failed");
    let after = trail(&app, id).await;
    assert_eq!((after.state, after.history.len(), after.events.len()), (OrderState::Refunded, before.history.len(), before.events.len()));
    let flagged = app.read(move |db| orders::find_by_id(db, id)).await.unwrap();
    assert_eq!(flagged.transaction_id.as_deref(), Some("tx-1"), "the refused move's columns are not written");
    assert!(flagged.review_reason.as_deref().is_some_and(|why| why.contains("from refunded to paid")), "{:?}", flagged.review_reason);
}

/// Staying put is no move: the columns change, no history row and no event are written.
#[tokio::test]
async fn a_state_kept_writes_no_history_and_no_event() {
    let app = TestApp::spawn().await;
    let order = app.merchant_order("150", "moves-2").await;
    let id = app.stored_order(order["invoiceId"].as_str().unwrap()).await.id;
    app.state.store.write(move |tx| orders::expire(tx, id, "first")).await.unwrap();
    let before = trail(&app, id).await;
    app.state.store.write(move |tx| orders::expire(tx, id, "again")).await.unwrap();
    let after = trail(&app, id).await;
    assert_eq!((after.history.len(), after.events.len()), (before.history.len(), before.events.len()));
    assert_eq!(after.version, before.version + 1, "the other columns were still written");
}

/// Nothing but the writer writes history rows or events: the schema has no trigger (and no
/// view or function that built them) left.
#[tokio::test]
async fn no_trigger_writes_behind_the_writer() {
    let app = TestApp::spawn().await;
    let sql = match app.state.store.dialect() {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('trigger', 'view')",
        Dialect::Postgres => {
            "SELECT (SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = current_schema())
                  + (SELECT COUNT(*) FROM information_schema.routines WHERE routine_schema = current_schema())"
        }
    };
    let left: i64 = app.read(move |db| db.query_one(sql, params![], first)).await;
    assert_eq!(left, 0);
}
