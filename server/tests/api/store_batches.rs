//! Group commit, on the store itself (SQLite's writer and PostgreSQL's, `store/pg_writer.rs`):
//! jobs queued behind a busy writer share one transaction; one that fails there, by its own
//! error or by the database's, leaves nothing behind and costs the others nothing.

use std::time::Duration;

use epay_api_types::PaymentMethod;
use epay_proxy::params;
use epay_proxy::store::notifications::{self, Endpoint, NewNotification, Verdict};
use epay_proxy::store::orders::{self, NewOrder, OpenOrders, OrderKey, OrderRow, OrderState, Outcome};
use epay_proxy::store::{Dialect, Store, StoreError};

use crate::helpers::database::TestDatabase;

/// Jobs that hold every writer connection for a while, so that what is sent meanwhile queues.
async fn hold_the_writers(store: &Store) -> Vec<tokio::task::JoinHandle<Result<(), StoreError>>> {
    (0..2)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|_tx| {
                        std::thread::sleep(Duration::from_millis(300));
                        Ok(())
                    })
                    .await
            })
        })
        .collect()
}

#[tokio::test]
async fn jobs_queued_together_commit_together_and_a_failing_one_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(dir.path());
    let store = Store::open(&database.url).await.unwrap();
    store.write(|tx| tx.execute("CREATE TABLE t (v TEXT PRIMARY KEY)", params![]).map(drop)).await.unwrap();

    // Four jobs that succeed, queued behind busy writers: one transaction on PostgreSQL.
    let held = hold_the_writers(&store).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let postgres = store.dialect() == Dialect::Postgres;
    let together = futures::future::join_all((0..4).map(|n| {
        let store = store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.execute_later("INSERT INTO t (v) VALUES (?)", params![format!("together-{n}")])?;
                    match postgres {
                        true => tx.query_one("SELECT txid_current()", params![], |row| row.get::<i64>(0)),
                        false => Ok(0),
                    }
                })
                .await
                .unwrap()
        }
    }))
    .await;
    for job in held {
        job.await.unwrap().unwrap();
    }
    if postgres {
        // The two writer connections may split the queue between them, but never one job each.
        let mut transactions = together.clone();
        transactions.dedup();
        assert!(transactions.len() <= 2, "the four queued jobs shared transactions: {together:?}");
    }

    // Queued with others: one fails by its own error after writing, one by the database's (a
    // duplicate key, kept for later and so found only at the next statement or the COMMIT).
    let held = hold_the_writers(&store).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let insert = |value: &'static str, own_error: bool| {
        let store = store.clone();
        async move {
            store
                .write(move |tx| {
                    tx.execute_later("INSERT INTO t (v) VALUES (?)", params![value])?;
                    if own_error { Err(StoreError::Closed) } else { Ok(()) }
                })
                .await
        }
    };
    // The duplicate first: its error reaches the server inside the batch (kept for later, it
    // leaves with the next job's statement or the COMMIT) and fails the others' transaction.
    let results = futures::future::join_all([insert("together-0", false), insert("a", false), insert("b", true), insert("c", false)]).await;
    for job in held {
        job.await.unwrap().unwrap();
    }
    assert!(matches!(&results[0], Err(err) if epay_proxy::store::unique_violation(err).is_some()), "{:?}", results[0]);
    assert!(results[1].is_ok(), "{:?}", results[1]);
    assert!(matches!(results[2], Err(StoreError::Closed)), "{:?}", results[2]);
    assert!(results[3].is_ok(), "{:?}", results[3]);
    let kept = store.read(|db| db.query_all("SELECT v FROM t ORDER BY v", params![], |row| row.get::<String>(0))).await.unwrap();
    assert_eq!(kept, ["a", "c", "together-0", "together-1", "together-2", "together-3"]);
}

/// A row another session keeps locked holds up only the job that wants it: the batch it came
/// in gives up waiting soon (`SET LOCAL lock_timeout`), and the other jobs of that batch
/// commit alone while the row is still locked; the blocked job commits once it is free.
#[tokio::test]
async fn a_locked_row_does_not_hold_up_the_rest_of_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(dir.path());
    if !database.is_postgres() {
        return; // SQLite has one writer and no other session to hold a row.
    }
    let store = Store::open(&database.url).await.unwrap();
    store.write(|tx| tx.execute("CREATE TABLE t (v TEXT PRIMARY KEY, n INTEGER)", params![]).map(drop)).await.unwrap();
    store.write(|tx| tx.execute("INSERT INTO t (v, n) VALUES ('locked', 0)", params![]).map(drop)).await.unwrap();

    // Another session locks the row until told to let go (at most 30 s).
    let (locked, let_go) = (std::sync::mpsc::channel::<()>(), std::sync::mpsc::channel::<()>());
    let url = database.url.clone();
    let holder = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.query("SELECT n FROM t WHERE v = 'locked' FOR UPDATE", &[]).unwrap();
        locked.0.send(()).unwrap();
        let _ = let_go.1.recv_timeout(Duration::from_secs(30));
        tx.commit().unwrap();
    });
    locked.1.recv().unwrap();

    let held = hold_the_writers(&store).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let blocked = {
        let store = store.clone();
        tokio::spawn(async move { store.write(|tx| tx.execute("UPDATE t SET n = n + 1 WHERE v = 'locked'", params![])).await })
    };
    let free = futures::future::join_all((0..3).map(|n| {
        let store = store.clone();
        async move { store.write(move |tx| tx.execute("INSERT INTO t (v, n) VALUES (?, 1)", params![format!("free-{n}")])).await }
    }));
    // Sooner than the session's own lock timeout (10 s), while the row is still locked.
    let free = tokio::time::timeout(Duration::from_secs(8), free).await.expect("the other jobs committed while the row stayed locked");
    assert!(free.iter().all(|r| matches!(r, Ok(1))), "{free:?}");
    let _ = let_go.0.send(());
    holder.join().unwrap();
    assert!(matches!(blocked.await.unwrap(), Ok(1)), "the blocked job commits once the row is free");
    for job in held {
        job.await.unwrap().unwrap();
    }
}

/// An order of `amount_minor` for the tests below, stored through the checkout's own path.
async fn stored_order(store: &Store, amount_minor: u64) -> OrderRow {
    let open = std::sync::Arc::new(OpenOrders::new(0, 100));
    let new = NewOrder { description: "start".into(), ..NewOrder::example(amount_minor, PaymentMethod::P2p) };
    let begun =
        store.write(move |tx| orders::begin_checkout(tx, new.clone(), &open, &std::sync::atomic::AtomicBool::new(false))).await.unwrap();
    let orders::Begin::Start(order) = begun else { panic!("a new order is started") };
    order
}

/// A job that holds a writer connection until told to let go (10 s at most); returned once it
/// runs.
async fn hold_a_writer(store: &Store) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<Result<(), StoreError>>) {
    let (running, runs) = tokio::sync::oneshot::channel::<()>();
    let (release, let_go) = std::sync::mpsc::channel::<()>();
    let store = store.clone();
    let job = tokio::spawn(async move {
        let mut running = Some(running);
        store
            .write(move |_tx| {
                if let Some(running) = running.take() {
                    let _ = running.send(());
                }
                let _ = let_go.recv_timeout(Duration::from_secs(10));
                Ok(())
            })
            .await
    });
    runs.await.unwrap();
    (release, job)
}

/// The transaction a job runs in (PostgreSQL; 0 on SQLite, whose writer has one at a time).
fn transaction(tx: &mut epay_proxy::store::Tx<'_>, postgres: bool) -> Result<i64, StoreError> {
    match postgres {
        true => tx.query_one("SELECT txid_current()", params![], |row| row.get::<i64>(0)),
        false => Ok(0),
    }
}

/// Whether another session finds order `id` locked (PostgreSQL).
fn locked_elsewhere(url: &str, id: i64) -> bool {
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    match client.query("SELECT id FROM orders WHERE id = $1 FOR UPDATE NOWAIT", &[&id]) {
        Ok(_) => false,
        Err(err) => err.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE),
    }
}

/// Jobs that name the order they lock (`Store::write_locking`, as postLinks and status answers
/// do) and come in one batch: on PostgreSQL their orders are read and locked together before
/// any of them runs, and each job still reads its order as the jobs before it left it, also
/// when two jobs name the same order (one by id, one by invoice).
#[tokio::test]
async fn a_batch_locks_the_orders_its_jobs_name_at_once_and_no_job_reads_a_stale_order() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(dir.path());
    let store = Store::open(&database.url).await.unwrap();
    let (shared, first, second) = (stored_order(&store, 1_000).await, stored_order(&store, 2_000).await, stored_order(&store, 3_000).await);
    let postgres = database.is_postgres();

    // One writer connection held (on PostgreSQL the other too, `PG_WRITERS` being two, until the
    // batch is queued), so that the four jobs below wait in the queue and the first writer takes
    // them as one batch.
    let (release, held) = hold_a_writer(&store).await;
    let other = if postgres { Some(hold_a_writer(&store).await) } else { None };
    // Two jobs name one order: each appends to it and says what it read, locked.
    let append = |key: OrderKey, id: i64| {
        let store = store.clone();
        async move {
            store
                .write_locking(Some(key.clone()), move |tx| {
                    let read = match &key {
                        OrderKey::Id(id) => orders::lock_by_id(tx, *id)?,
                        OrderKey::Invoice(invoice) => orders::lock_by_invoice(tx, invoice)?,
                    };
                    tx.execute("UPDATE orders SET description = description || '+' WHERE id = ?", params![id])?;
                    Ok((read.unwrap().description, transaction(tx, postgres)?))
                })
                .await
                .unwrap()
        }
    };
    // Two jobs name an order each, and look whether the other's is locked already.
    let look = |mine: i64, other: i64| {
        let (store, url) = (store.clone(), database.url.clone());
        async move {
            store
                .write_locking(Some(OrderKey::Id(mine)), move |tx| {
                    let read = orders::lock_by_id(tx, mine)?.unwrap();
                    Ok((read.id, read.description, postgres && locked_elsewhere(&url, other), transaction(tx, postgres)?))
                })
                .await
                .unwrap()
        }
    };
    let batch = tokio::spawn(futures::future::join(
        futures::future::join(append(OrderKey::Id(shared.id), shared.id), append(OrderKey::Invoice(shared.invoice_id.clone()), shared.id)),
        futures::future::join(look(first.id, second.id), look(second.id, first.id)),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.send(()).unwrap();
    let (mut appended, looked) = batch.await.unwrap();
    held.await.unwrap().unwrap();
    if let Some((release, held)) = other {
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
    }
    // The four shared one transaction (else the rest proves nothing about a batch).
    let transactions = [appended.0.1, appended.1.1, looked.0.3, looked.1.3];
    assert!(transactions.iter().all(|t| *t == transactions[0]), "one batch: {transactions:?}");
    // Each saw the other's append, whichever ran first: nothing was read before the other wrote.
    let mut reads = [std::mem::take(&mut appended.0.0), std::mem::take(&mut appended.1.0)];
    reads.sort();
    assert_eq!(reads, ["start", "start+"]);
    let (one, two) = looked;
    assert_eq!((one.0, one.1.as_str(), two.0, two.1.as_str()), (first.id, "start", second.id, "start"));
    if postgres {
        // Each found the other's order locked. For the one that ran second that is no news;
        // the one that ran first can only have found it so because the batch had locked both.
        assert!(one.2 && two.2, "both orders were locked before their jobs ran: {one:?} {two:?}");
    }
}

/// What a postLink about order `id` says happened (every field the move writes, none empty,
/// each its order's own).
fn outcome_of(id: i64) -> Outcome {
    let amount = |minor: i64| Some(epay_api_types::Amount::parse(&format!("{}.{:02}", minor / 100, minor % 100)).unwrap());
    Outcome {
        transaction_id: Some(format!("tx-{id}")),
        card_mask: Some(format!("4400...{id:04}")),
        approval_code: Some(format!("ap-{id}")),
        reference: Some(format!("ref-{id}")),
        failure_reason: Some(format!("reason-{id}")),
        failure_code: Some(1000 + id),
        fee: amount(100 + id),
        amount_bonus: amount(200 + id),
        card_id: Some(format!("card-{id}")),
        card_type: Some(format!("type-{id}")),
        ..Outcome::default()
    }
}

/// Queues one postLink per order as one batch (the writers held until all are queued): each
/// job moves its order to `confirming` with `outcome_of` and records its notification.
async fn postlinks_in_one_batch(store: &Store, stored: &[OrderRow], postgres: bool) {
    let (release, held) = hold_a_writer(store).await;
    let other = if postgres { Some(hold_a_writer(store).await) } else { None };
    let postlink = |order: &OrderRow| {
        let (store, id, invoice) = (store.clone(), order.id, order.invoice_id.clone());
        async move {
            store
                .write_locking(Some(OrderKey::Invoice(invoice.clone())), move |tx| {
                    orders::lock_by_invoice(tx, &invoice)?;
                    let outcome = outcome_of(id);
                    orders::set_outcome(tx, id, OrderState::Confirming, &outcome)?;
                    let body = format!("{{\"invoiceId\": \"{invoice}\"}}");
                    let note = NewNotification {
                        order_id: Some(id),
                        endpoint: Endpoint::Postlink,
                        invoice_id: Some(&invoice),
                        transaction_id: outcome.transaction_id.as_deref(),
                        code: Some("ok"),
                        verdict: Verdict::Accepted,
                        reason: None,
                        raw_body: &body,
                        source: Some("127.0.0.1"),
                    };
                    notifications::insert(tx, &note)
                })
                .await
        }
    };
    let batch = tokio::spawn(futures::future::join_all(stored.iter().map(postlink).collect::<Vec<_>>()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    release.send(()).unwrap();
    let written = batch.await.unwrap();
    held.await.unwrap().unwrap();
    if let Some((release, held)) = other {
        release.send(()).unwrap();
        held.await.unwrap().unwrap();
    }
    assert!(written.iter().all(Result::is_ok), "{written:?}");
}

/// Order `id` as the store has it: its row, its history, its notifications.
async fn as_stored(store: &Store, id: i64) -> (OrderRow, Vec<orders::HistoryRow>, Vec<notifications::NotificationRow>) {
    store
        .read(move |db| Ok((orders::find_by_id(db, id)?.unwrap(), orders::history(db, id)?, notifications::read_for_order(db, id)?)))
        .await
        .unwrap()
}

/// PostLinks of one batch, on PostgreSQL: each job moves its own order and records its
/// notification with the same two statements, and those leave as one statement each for the
/// whole batch (`store/db/merge.rs`), counted only once they succeeded. Every order ends as it
/// would have alone: every field of its outcome, one history row at the move's time, its own
/// notification. Sent again, the orders stay `confirming`: the move without a history row is
/// merged too.
#[tokio::test]
async fn the_moves_and_notifications_of_a_batch_leave_as_one_statement_each_and_land_as_if_alone() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(dir.path());
    let store = Store::open(&database.url).await.unwrap();
    let mut stored = Vec::new();
    for amount in [1_000, 2_000, 3_000, 4_000] {
        stored.push(stored_order(&store, amount).await);
    }
    let postgres = database.is_postgres();

    let merged_before = store.statements_merged();
    postlinks_in_one_batch(&store, &stored, postgres).await;
    // The four moves (with their history rows) as one statement, the four notifications as another.
    assert_eq!(store.statements_merged() - merged_before, if postgres { 2 } else { 0 }, "statements that ran several writes");
    if postgres {
        let ids: Vec<i64> = stored.iter().map(|order| order.id).collect();
        let writers = store
            .read(move |db| {
                let sql = "SELECT DISTINCT xmin::text FROM orders WHERE id IN (?, ?, ?, ?)";
                db.query_all(sql, params![ids[0], ids[1], ids[2], ids[3]], |row| row.get::<String>(0))
            })
            .await
            .unwrap();
        assert_eq!(writers.len(), 1, "the four orders were written by one transaction: {writers:?}");
    }
    for order in &stored {
        let id = order.id;
        let (row, history, notes) = as_stored(&store, id).await;
        let outcome = outcome_of(id);
        assert_eq!(row.status, OrderState::Confirming);
        assert_eq!(
            (&row.transaction_id, &row.card_mask, &row.approval_code, &row.reference, &row.failure_reason),
            (&outcome.transaction_id, &outcome.card_mask, &outcome.approval_code, &outcome.reference, &outcome.failure_reason),
        );
        assert_eq!((row.failure_code, row.fee_minor, row.amount_bonus_minor), (Some(1000 + id), Some(100 + id), Some(200 + id)));
        assert_eq!((&row.card_id, &row.card_type), (&outcome.card_id, &outcome.card_type));
        assert!(row.next_check_ms.is_some() && row.check_attempts == 0, "due for the status API: {:?}", row.next_check_ms);
        assert_eq!(row.version, order.version + 1, "one move of order {id}");
        let states: Vec<OrderState> = history.iter().map(|entry| entry.status).collect();
        assert_eq!(states.iter().filter(|state| **state == OrderState::Confirming).count(), 1, "order {id}: {states:?}");
        let moved = history.last().unwrap();
        assert_eq!((moved.status, moved.at), (OrderState::Confirming, row.updated_at), "the history row of order {id}'s move");
        assert_eq!(notes.len(), 1, "order {id}'s notifications");
        assert_eq!(notes[0].invoice_id.as_deref(), Some(order.invoice_id.as_str()));
        assert_eq!(notes[0].transaction_id, outcome.transaction_id);
    }

    // Again: the orders stay where they are, so the moves write no history row.
    let merged_before = store.statements_merged();
    postlinks_in_one_batch(&store, &stored, postgres).await;
    assert_eq!(store.statements_merged() - merged_before, if postgres { 2 } else { 0 }, "statements that ran several writes");
    for order in &stored {
        let id = order.id;
        let (row, history, notes) = as_stored(&store, id).await;
        assert_eq!((row.status, row.version), (OrderState::Confirming, order.version + 2));
        assert_eq!(history.iter().filter(|entry| entry.status == OrderState::Confirming).count(), 1, "order {id}");
        assert_eq!(notes.len(), 2, "order {id}'s notifications");
    }
}
