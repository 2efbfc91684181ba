//! A few connections shared by async callers, run on the pool's own threads: a job is sent to
//! whichever thread is free, borrows the connection used last (so a light load keeps using a
//! few warm connections) and gives it back, and its result comes back. The threads are the
//! pool's, not tokio's blocking pool, so nothing else that runs there (argon2 at sign-in, file
//! reads) can queue ahead of a checkout's read or a postLink's write. A connection found
//! broken is dropped, and a new one is opened when needed (a PostgreSQL server that
//! restarted, say).

use std::sync::{Arc, Mutex};

use super::Conn;
use crate::store::error::StoreError;

type Open = dyn Fn() -> Result<Conn, StoreError> + Send + Sync;
type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct Pool {
    jobs: flume::Sender<Job>,
    idle: Arc<Mutex<Vec<Conn>>>,
    open: Arc<Open>,
}

impl Pool {
    /// `size` threads named `{name}-{n}`, so at most `size` connections (each opened by `open`
    /// when first needed). The threads end when the last clone of the pool is dropped.
    pub fn new(name: &str, size: usize, open: impl Fn() -> Result<Conn, StoreError> + Send + Sync + 'static) -> Pool {
        let (jobs, queue) = flume::unbounded::<Job>();
        for n in 0..size {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    while let Ok(job) = queue.recv() {
                        job();
                    }
                })
                .expect("spawn a store connection thread");
        }
        Pool { jobs, idle: Arc::default(), open: Arc::new(open) }
    }

    /// A new connection of the pool's kind, for a thread that keeps its own.
    pub fn open(&self) -> Result<Conn, StoreError> {
        connect(&*self.open)
    }

    /// A new connection, to replace one found broken (the server restarted, say).
    pub fn reconnect(&self, conn: &mut Conn) -> Result<(), StoreError> {
        *conn = connect(&*self.open)?;
        Ok(())
    }

    /// Runs `job` with a connection of the pool, on the pool's threads.
    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let (idle, open) = (self.idle.clone(), self.open.clone());
        let work: Job = Box::new(move || {
            // The caller gave up (its request timed out): nothing is done in its name.
            if answer.is_closed() {
                return;
            }
            // A job (or a connect) that panicked may have left a transaction open: its
            // connection is dropped, and the thread goes on with the next job.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let last_used = idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
                let mut conn = last_used.map_or_else(|| connect(&*open), Ok)?;
                let result = job(&mut conn);
                if conn.is_usable() {
                    idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
                }
                result
            }))
            .unwrap_or(Err(StoreError::JobPanicked));
            let _ = answer.send(result);
        });
        self.jobs.send(work).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::JobPanicked)?
    }
}

/// Opens a connection, trying again a few times: a server that is ending sessions (a
/// failover, an operator's `pg_terminate_backend`) may end one while it starts.
fn connect(open: &Open) -> Result<Conn, StoreError> {
    let mut tries = 0;
    loop {
        match open() {
            Err(err) if tries < 4 => {
                tries += 1;
                tracing::warn!(error = %err, tries, "cannot open a store connection; trying again");
                std::thread::sleep(std::time::Duration::from_millis(10 * tries));
            }
            opened => return opened,
        }
    }
}
