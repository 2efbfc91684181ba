//! Group commit on PostgreSQL, as SQLite's writer does it (`writer.rs`): jobs that arrive while
//! a transaction is being written go together into the next one, on one of a few connections
//! of this instance, so `BEGIN`, the transaction's id and `COMMIT` (and the server's WAL flush)
//! are paid once per batch instead of once per job (docs/performance.md, "PostgreSQL").
//!
//! A batch has no savepoints (a subtransaction per job costs the server more than it saves):
//! when a job of it fails, or the connection is lost before the COMMIT, nothing of the batch
//! was committed, and every job of it runs again alone, in a transaction of its own, where its
//! own error is its answer. A job must therefore do nothing but its statements, as before
//! (a lost connection already ran jobs again). Lost at the COMMIT, the transaction's id tells
//! whether the batch committed; when even that cannot be told, every job of it is answered
//! with that error and none runs again.
//!
//! A batch waits a second at most for a row lock (another instance's batch, an operator's
//! session): a blocked row must not hold up the unrelated writes queued with it. Its jobs then
//! run alone, waiting as briefly; one still blocked runs last, with the usual patience.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Notify, oneshot};

use super::db::Pool;
use super::orders::{self, OrderKey};
use super::{Conn, RUNS_ON_LOST_CONNECTIONS, STORE_BATCH_JOBS, STORE_WRITE, StoreError, Tx};

/// The most jobs one transaction carries (bounds the time its row locks are held).
const MAX_BATCH: usize = 64;

/// A job of `Store::write`, with its caller's answer.
trait BatchJob: Send {
    /// Runs the job in `tx`, keeping what it returned for `answer`.
    fn run(&mut self, tx: &mut Tx<'_>) -> Result<(), StoreError>;
    /// Tells the caller: what the job returned once its transaction committed, or the error.
    fn answer(self: Box<Self>, outcome: Result<(), StoreError>);
    /// Whether its caller gave up waiting (a request timed out): nothing is done in its name.
    fn abandoned(&self) -> bool;
    /// The order it locks first, if it named it (`Store::write_locking`).
    fn locks(&self) -> Option<&OrderKey>;
}

struct Pending<T, F> {
    locks: Option<OrderKey>,
    job: F,
    value: Option<T>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> BatchJob for Pending<T, F>
where
    T: Send,
    F: FnMut(&mut Tx<'_>) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        let job = &mut self.job;
        self.value = Some(std::panic::catch_unwind(AssertUnwindSafe(|| job(tx))).unwrap_or(Err(StoreError::JobPanicked))?);
        Ok(())
    }

    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn locks(&self) -> Option<&OrderKey> {
        self.locks.as_ref()
    }

    fn answer(self: Box<Self>, outcome: Result<(), StoreError>) {
        let Pending { value, reply, .. } = *self;
        let _ = reply.send(outcome.and_then(|()| value.ok_or(StoreError::JobPanicked)));
    }
}

type Job = Box<dyn BatchJob>;

#[derive(Clone)]
pub(super) struct Writer {
    jobs: flume::Sender<Job>,
    /// Statements sent that ran several writes at once (`db/merge.rs`).
    merged: Arc<AtomicU64>,
}

impl Writer {
    /// `connections` threads, each with a connection of `pool`'s kind, taking batches from one
    /// queue: while one commits, another runs the next batch. `commits` is told after a commit
    /// that made a webhook event due.
    pub(super) fn start(connections: usize, pool: Pool, commits: Arc<Notify>) -> Writer {
        let (jobs, queue) = flume::unbounded::<Job>();
        let merged = Arc::new(AtomicU64::new(0));
        for n in 0..connections {
            let (queue, pool, commits, merged) = (queue.clone(), pool.clone(), commits.clone(), merged.clone());
            std::thread::Builder::new()
                .name(format!("store-write-{n}"))
                .spawn(move || {
                    let mut conn = None;
                    let mut batch = Vec::with_capacity(MAX_BATCH);
                    while let Ok(job) = queue.recv() {
                        batch.push(job);
                        batch.extend(queue.try_iter().take(MAX_BATCH - 1));
                        batch.retain(|job| !job.abandoned());
                        if batch.is_empty() {
                            continue;
                        }
                        if run_batch(&mut conn, &pool, std::mem::take(&mut batch), &merged) {
                            commits.notify_one();
                        }
                    }
                })
                .expect("spawn a store writer thread");
        }
        Writer { jobs, merged }
    }

    pub(super) fn statements_merged(&self) -> u64 {
        self.merged.load(Ordering::Relaxed)
    }

    /// Runs `job` in one of the next transactions and returns its result once that transaction
    /// is committed. An `Err` from the job rolls back only the job's own writes.
    /// `locks`: the order the job locks first, if it names it (`Store::write_locking`).
    pub(super) async fn write<T, F>(&self, locks: Option<OrderKey>, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Box::new(Pending { locks, job, value: None, reply })).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::JobPanicked)?
    }
}

/// Runs `jobs` together, or each alone when together they did not commit. Returns whether a
/// committed job made a webhook event due. `merged` counts the statements that ran several
/// writes at once, before their jobs are answered.
fn run_batch(conn: &mut Option<Conn>, pool: &Pool, mut jobs: Vec<Job>, merged: &AtomicU64) -> bool {
    let started = std::time::Instant::now();
    let count = jobs.len();
    let conn = match conn {
        Some(conn) => conn,
        None => match pool.open() {
            Ok(opened) => conn.insert(opened),
            Err(err) => {
                tracing::error!(error = %err, "cannot open a store connection to write");
                jobs.into_iter().for_each(|job| job.answer(Err(StoreError::Commit(err.to_string()))));
                return false;
            }
        },
    };
    let together = together(conn, pool, &mut jobs);
    merged.fetch_add(conn.take_merged(), Ordering::Relaxed);
    let due = match together {
        Together::Committed => {
            let due = conn.event_due();
            jobs.into_iter().for_each(|job| job.answer(Ok(())));
            due
        }
        Together::Unknown(err) => {
            jobs.into_iter().for_each(|job| job.answer(Err(StoreError::Commit(err.to_string()))));
            false
        }
        Together::NotCommitted => {
            tracing::debug!(jobs = count, "a write batch did not commit; its jobs run again one by one");
            // Alone, each first waits as briefly for a row lock as the batch did; one that
            // still finds its row locked runs last with the usual patience, so that it holds up
            // none of the others.
            let mut due = false;
            let mut waiting = Vec::new();
            for mut job in jobs {
                let outcome = transaction(conn, pool, |tx| job.run(tx), true);
                merged.fetch_add(conn.take_merged(), Ordering::Relaxed);
                match outcome {
                    Err(err) if err.is_lock_timeout() => waiting.push(job),
                    outcome => {
                        due |= outcome.is_ok() && conn.event_due();
                        job.answer(outcome);
                    }
                }
            }
            for mut job in waiting {
                let outcome = transaction(conn, pool, |tx| job.run(tx), false);
                merged.fetch_add(conn.take_merged(), Ordering::Relaxed);
                due |= outcome.is_ok() && conn.event_due();
                job.answer(outcome);
            }
            due
        }
    };
    metrics::histogram!(STORE_WRITE, "store" => "postgres").record(started.elapsed().as_secs_f64());
    metrics::histogram!(STORE_BATCH_JOBS, "store" => "postgres").record(count as f64);
    due
}

/// What became of a batch run in one transaction.
enum Together {
    Committed,
    /// Nothing of it was committed (a job failed, or the connection was lost before COMMIT).
    NotCommitted,
    /// Whether it committed cannot be told: nobody may run it again.
    Unknown(StoreError),
}

fn together(conn: &mut Conn, pool: &Pool, jobs: &mut [Job]) -> Together {
    // A single job runs alone at once: its own error is then already its answer.
    if jobs.len() < 2 || !conn.is_usable() {
        return Together::NotCommitted;
    }
    // The jobs that named their orders run first, those orders read and locked for them all
    // in one statement. An order read so is given to the first job that names it, and to no
    // other (that one may have written it): jobs that name an order write no other, so it is
    // still as read when that job runs. (The jobs of a batch came at once: any order of them
    // is one they could have come in.)
    jobs.sort_by_key(|job| job.locks().is_none());
    let keys: Vec<Option<OrderKey>> = jobs.iter().map(|job| job.locks().cloned()).collect();
    let mut all = |tx: &mut Tx<'_>| {
        let named: Vec<&OrderKey> = keys.iter().flatten().collect();
        let mut read = if named.len() > 1 { orders::lock_all(tx, &named)? } else { Vec::new() };
        jobs.iter_mut().zip(&keys).try_for_each(|(job, key)| {
            // Each job reads for itself what it locked (`Tx::locked_state`), as it would alone.
            tx.forget_locked();
            let own = key.as_ref().and_then(|key| read.iter().position(|order| key.names(order)));
            tx.prefetch(own.map(|at| read.swap_remove(at)));
            let ran = job.run(tx);
            tx.prefetch(None);
            ran
        })
    };
    match run_once(conn, &mut all, true) {
        Ok(()) => Together::Committed,
        Err((Ended::AtCommit { id, .. }, _)) => match commit_outcome(conn, pool, id) {
            Ok(true) => Together::Committed,
            Ok(false) => Together::NotCommitted,
            Err(err) => Together::Unknown(err),
        },
        Err((Ended::Failed(_) | Ended::Lost(_), _)) => {
            // The failed job may have panicked mid-statement: the next ones get a fresh connection.
            if !conn.is_usable() {
                let _ = pool.reconnect(conn);
            }
            Together::NotCommitted
        }
    }
}

/// How a transaction ended, when it did not end well.
enum Ended {
    /// The job's own error, or the database's: nothing was committed.
    Failed(StoreError),
    /// The connection was lost before the COMMIT was sent: nothing was committed.
    Lost(StoreError),
    /// The connection was lost at the COMMIT: the transaction `id` may or may not have
    /// committed; `value` is what the job returned.
    AtCommit { id: i64, error: StoreError },
}

/// One job in a transaction of its own (PostgreSQL). A lost connection (the server restarted,
/// or ended it: a failover, a pooler) never costs the caller's request: the job runs again
/// from the start on a new connection; lost at the COMMIT, the transaction's id tells whether
/// it committed (then its result stands) or not (then it runs again).
fn transaction<T>(
    conn: &mut Conn,
    pool: &Pool,
    mut job: impl FnMut(&mut Tx<'_>) -> Result<T, StoreError>,
    short_lock_wait: bool,
) -> Result<T, StoreError> {
    let mut runs = 0;
    let mut fresh = !conn.is_usable();
    loop {
        runs += 1;
        let connected = if fresh { pool.reconnect(conn) } else { Ok(()) };
        let error = match connected.map(|()| run_once(conn, &mut job, short_lock_wait)) {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err((Ended::Failed(error), _))) => return Err(error),
            // Could not connect (the server is ending sessions, restarting): try again.
            Err(error) | Ok(Err((Ended::Lost(error), _))) => error,
            Ok(Err((Ended::AtCommit { id, error }, value))) => match commit_outcome(conn, pool, id)? {
                true => return value.ok_or(error),
                false => error,
            },
        };
        tracing::warn!(error = %error, runs, "a store connection was lost; the write runs again on a new one");
        if runs >= RUNS_ON_LOST_CONNECTIONS {
            return Err(error);
        }
        std::thread::sleep(std::time::Duration::from_millis(5 * u64::from(runs)));
        fresh = true;
    }
}

/// One run of `job`: BEGIN (with the transaction's id), the job, COMMIT.
fn run_once<T>(
    conn: &mut Conn,
    job: &mut impl FnMut(&mut Tx<'_>) -> Result<T, StoreError>,
    short_lock_wait: bool,
) -> Result<T, (Ended, Option<T>)> {
    conn.begin(short_lock_wait);
    conn.set_writing(true);
    let result = job(&mut Tx::new(&mut *conn));
    conn.set_writing(false);
    match result {
        Ok(value) => match conn.commit() {
            Ok(()) => Ok(value),
            // The transaction's id is known before its COMMIT leaves: lost there, it may have
            // committed; lost before (its BEGIN unanswered), it did not.
            Err(error) if conn.lost_by(&error) => match conn.transaction_id() {
                Some(id) => Err((Ended::AtCommit { id, error }, Some(value))),
                None => Err((Ended::Lost(error), None)),
            },
            // A write sent with the COMMIT failed (the COMMIT then rolled back), or the COMMIT did.
            Err(error) => Err((Ended::Failed(error), None)),
        },
        Err(error) => {
            let lost = conn.lost_by(&error);
            let _ = conn.rollback();
            Err((if lost { Ended::Lost(error) } else { Ended::Failed(error) }, None))
        }
    }
}

/// Whether the transaction `id`, whose connection was lost at its COMMIT, committed: asked on
/// a new connection (and again on another if that one is lost too), and again while the
/// server is still ending the old session.
fn commit_outcome(conn: &mut Conn, pool: &Pool, id: i64) -> Result<bool, StoreError> {
    let mut last = None;
    for attempt in 0..50u64 {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if let Err(error) = pool.reconnect(conn) {
            last = Some(error);
            continue;
        }
        let Conn::Postgres(pg) = conn else { return Ok(false) };
        match pg.committed(id) {
            // The new connection ran none of it: what it made due is not known, so the
            // webhook worker is woken anyway.
            Ok(Some(true)) => {
                conn.made_event_due();
                return Ok(true);
            }
            Ok(Some(false)) => return Ok(false),
            Ok(None) => {}
            Err(error) => last = Some(error),
        }
    }
    Err(StoreError::Commit(format!("whether transaction {id} committed cannot be told after its connection was lost ({last:?})")))
}
