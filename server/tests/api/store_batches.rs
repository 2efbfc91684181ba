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
