//! Accepting connections. axum::serve sets no timer, so a client that trickles its headers,
//! or connects and says nothing, or keeps an HTTP/2 connection open without a stream, would
//! hold a connection (and a file descriptor) for ever. This loop bounds all of them:
//!
//! - the first byte must come within the header timeout, and hyper's own header-read timeout
//!   bounds the rest of the headers;
//! - a connection with no request in flight and no byte read or written for the idle timeout
//!   is closed, HTTP/1 keep-alive and HTTP/2 alike (requests themselves are bounded by the
//!   router's timeouts).
//!
//! It also gives every request its peer address (the rate limiters' key), and on shutdown lets
//! requests in flight finish for a bounded time.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

/// Connections the kernel may queue before they are accepted. Tokio's default (1,024)
/// overflows when a burst of checkouts meets the sandbox's token requests on the same
/// listener, and an overflowing queue resets connections; Linux caps this at `somaxconn`.
pub const ACCEPT_BACKLOG: u32 = 4096;

/// Binds `addr` for serving, with `ACCEPT_BACKLOG`.
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Requests in flight at shutdown get this long to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// The first request's headers must arrive within this time.
    pub header: Duration,
    /// No request in flight and no byte either way for this long: the connection closes.
    pub idle: Duration,
}

pub async fn run(listener: TcpListener, router: Router, timeouts: Timeouts, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(timeouts.header);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Answers go out as they are written: without this, Nagle's algorithm may hold a
        // response back until the client acknowledges the previous one.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = {
            let (router, activity) = (router.clone(), activity.clone());
            tower::service_fn(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let in_flight = InFlight::enter(&activity);
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await;
                    drop(in_flight);
                    response
                }
            })
        };
        let io = Watched { io: stream, activity: activity.clone() };
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            tokio::select! {
                served = connection => if let Err(err) = served {
                    tracing::debug!(error = %err, %peer, "connection ended with an error");
                },
                why = activity.expired(timeouts) => tracing::debug!(%peer, why, "connection closed"),
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    Ok(())
}

/// What a connection has done: when it last moved a byte, whether it ever sent one, and how
/// many of its requests are being handled.
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened` of the last byte read or written.
    last_ms: AtomicU64,
    spoke: AtomicBool,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Activity {
        Activity { opened: Instant::now(), last_ms: AtomicU64::new(0), spoke: AtomicBool::new(false), in_flight: AtomicUsize::new(0) }
    }

    fn moved(&self) {
        self.last_ms.store(self.opened.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }

    /// Resolves, with the reason, once the connection has overstayed its welcome.
    async fn expired(&self, timeouts: Timeouts) -> &'static str {
        tokio::time::sleep_until(self.opened + timeouts.header).await;
        if !self.spoke.load(Ordering::Relaxed) {
            return "no request within the header timeout";
        }
        loop {
            tokio::time::sleep_until(self.last() + timeouts.idle).await;
            if self.in_flight.load(Ordering::Relaxed) == 0 {
                if Instant::now() >= self.last() + timeouts.idle {
                    return "idle";
                }
            } else {
                // A request is being handled (the router's timeouts bound it): look again soon.
                tokio::time::sleep(timeouts.idle.min(Duration::from_secs(1))).await;
            }
        }
    }
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn enter(activity: &Arc<Activity>) -> InFlight {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.moved();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that reports every byte it moves to its connection's `Activity`.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.spoke.store(true, Ordering::Relaxed);
            self.activity.moved();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        polled
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.moved();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
