//! WAL checkpoints beside the writer. SQLite's automatic checkpoint runs inside the commit
//! that crosses its threshold, so every request of that batch waits for the WAL to be copied
//! into the database and fsynced. Here a connection of its own does it every second
//! (`PASSIVE`: it never blocks the writer or a reader), and folds the WAL away entirely
//! (`TRUNCATE`) when the proxy stops.

use std::sync::mpsc;
use std::time::Duration;

/// A checkpoint longer than this is logged.
const SLOW: Duration = Duration::from_millis(50);
/// How often the WAL is copied into the database.
const INTERVAL: Duration = Duration::from_millis(200);

/// Stops the checkpoint thread when dropped, after a last, complete checkpoint.
pub struct Checkpoints {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts checkpointing through `conn`, a connection of its own to the store's file.
pub fn start(conn: rusqlite::Connection) -> Checkpoints {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                let started = std::time::Instant::now();
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))) {
                    Ok((wal_pages, copied)) if started.elapsed() > SLOW => {
                        let ms = started.elapsed().as_millis() as u64;
                        tracing::warn!(ms, wal_pages, copied, "a WAL checkpoint took long");
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed"),
                }
            }
            if let Err(err) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                tracing::warn!(error = %err, "final WAL checkpoint failed");
            }
        })
        .expect("spawn sqlite checkpoint thread");
    Checkpoints { stop: Some(stop), thread: Some(thread) }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
