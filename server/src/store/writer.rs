//! Group commit on SQLite's single writer.
//!
//! Every write runs on one connection owned by a dedicated thread. Jobs that arrive while a
//! transaction is being written are batched into the next one: each job runs inside its own
//! SAVEPOINT (a failing job rolls back alone), the batch ends with one COMMIT, and only then
//! is every caller answered. With `synchronous=FULL` that is one fsync per batch instead of
//! one per request, and a caller that got an answer knows its write is on disk.
//!
//! Jobs are plain functions run on this thread: a statement is a call into SQLite, with no
//! thread hop and no await in between.

use std::panic::AssertUnwindSafe;

use tokio::sync::{mpsc, oneshot};

use super::checkpoint::Checkpoints;
use super::{Conn, StoreError, Tx};

/// Told, after the batch's COMMIT, whether the job's writes are durable.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// Runs one job on the writer connection; `true` when its writes should be kept.
type Job = Box<dyn FnOnce(&mut Tx<'_>) -> (bool, Completion) + Send>;

/// The most jobs one transaction carries (bounds the latency a large batch adds).
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread; `checkpoints` stops (with a last, complete checkpoint) after
    /// the writer's last commit.
    pub(super) fn start(conn: Conn, commits: std::sync::Arc<tokio::sync::Notify>, checkpoints: Checkpoints) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>(4 * MAX_BATCH);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                run(conn, queue, &commits);
                drop(checkpoints);
            })
            .expect("spawn sqlite writer thread");
        Writer { jobs }
    }

    /// Runs `job` in the next transaction and returns its result once that transaction is
    /// committed. An `Err` from the job rolls back only the job's own writes.
    pub(super) async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |tx| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| job(tx))).unwrap_or(Err(StoreError::JobPanicked));
            let keep = result.is_ok();
            let done: Completion = Box::new(move |committed| {
                let _ = reply.send(committed.and(result));
            });
            (keep, done)
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        // A dropped reply means the batch never started (BEGIN failed): nothing was written.
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

fn run(mut conn: Conn, mut queue: mpsc::Receiver<Job>, commits: &tokio::sync::Notify) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(job) = queue.blocking_recv() {
        batch.push(job);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&mut Tx::new(&mut conn), batch.drain(..));
        commits.notify_one();
    }
    // Every sender is gone: the process is shutting down (the caller then checkpoints).
}

/// A batch that holds the writer longer than this is logged: every caller waits for it.
const SLOW_BATCH_MS: u128 = 50;

fn run_batch(tx: &mut Tx<'_>, jobs: impl Iterator<Item = Job>) {
    let started = std::time::Instant::now();
    if let Err(err) = tx.batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %err, "cannot begin a write transaction; failing the batch");
        return;
    }
    let mut completions: Vec<(Completion, Option<StoreError>)> = Vec::with_capacity(MAX_BATCH);
    for job in jobs {
        if let Err(err) = tx.batch("SAVEPOINT job") {
            tracing::error!(error = %err, "cannot open a savepoint");
            continue; // dropping the job answers its caller with StoreError::Closed
        }
        // A state an earlier job remembered may be rolled back with it.
        tx.forget_locked();
        let (keep, done) = job(tx);
        // A kept job's savepoint stays open: COMMIT releases them all, and a later failing job
        // rolls back to its own savepoint, the innermost one of that name.
        let failed = if keep { None } else { tx.batch("ROLLBACK TO job").err() };
        completions.push((done, failed));
    }
    let jobs_done = started.elapsed();
    let committed = match tx.commit() {
        Ok(_) => Ok(()),
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the whole batch is rolled back");
            let _ = tx.rollback();
            Err(err.to_string())
        }
    };
    metrics::histogram!(super::STORE_WRITE, "store" => "sqlite").record(started.elapsed().as_secs_f64());
    metrics::histogram!(super::STORE_BATCH_JOBS, "store" => "sqlite").record(completions.len() as f64);
    if started.elapsed().as_millis() > SLOW_BATCH_MS {
        let (jobs_ms, commit_ms) = (jobs_done.as_millis() as u64, (started.elapsed() - jobs_done).as_millis() as u64);
        tracing::warn!(jobs = completions.len(), jobs_ms, commit_ms, "a write batch held the writer for long");
    }
    for (done, failed) in completions {
        match (&committed, failed) {
            (Ok(()), None) => done(Ok(())),
            (Ok(()), Some(err)) => done(Err(err)),
            (Err(msg), _) => done(Err(StoreError::Commit(msg.clone()))),
        }
    }
}
