//! Group commit, on the store itself (SQLite's writer and PostgreSQL's, `store/pg_writer.rs`):
//! jobs queued behind a busy writer share one transaction; one that fails there, by its own
//! error or by the database's, leaves nothing behind and costs the others nothing.

use std::time::Duration;

use epay_proxy::params;
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
