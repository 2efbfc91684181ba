//! A few connections shared by async callers: a job borrows one on tokio's blocking pool and
//! gives it back. A connection found broken is dropped, and a new one is opened when needed
//! (a PostgreSQL server that restarted, say).

use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::Conn;
use crate::store::StoreError;

type Open = dyn Fn() -> Result<Conn, StoreError> + Send + Sync;

#[derive(Clone)]
pub struct Pool {
    idle: Arc<Mutex<Vec<Conn>>>,
    permits: Arc<Semaphore>,
    open: Arc<Open>,
}

impl Pool {
    /// At most `size` connections, each opened by `open` when first needed.
    pub fn new(size: usize, open: impl Fn() -> Result<Conn, StoreError> + Send + Sync + 'static) -> Pool {
        Pool { idle: Arc::default(), permits: Arc::new(Semaphore::new(size)), open: Arc::new(open) }
    }

    /// A new connection, to replace one found broken (the server restarted, say).
    pub fn reconnect(&self, conn: &mut Conn) -> Result<(), StoreError> {
        *conn = self.connect()?;
        Ok(())
    }

    /// Opens a connection, trying again a few times: a server that is ending sessions (a
    /// failover, an operator's `pg_terminate_backend`) may end one while it starts.
    fn connect(&self) -> Result<Conn, StoreError> {
        let mut tries = 0;
        loop {
            match (self.open)() {
                Err(err) if tries < 4 => {
                    tries += 1;
                    tracing::warn!(error = %err, tries, "cannot open a store connection; trying again");
                    std::thread::sleep(std::time::Duration::from_millis(10 * tries));
                }
                opened => return opened,
            }
        }
    }

    /// Runs `job` with a connection of the pool, off the async threads.
    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| StoreError::Closed)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = pool.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
            let mut conn = match idle {
                Some(conn) => conn,
                None => pool.connect()?,
            };
            // A job that panicked may have left a transaction open: its connection is dropped.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn))).map_err(|_| StoreError::JobPanicked)?;
            if conn.is_usable() {
                pool.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
            }
            result
        })
        .await
        .map_err(|_| StoreError::JobPanicked)?
    }
}
