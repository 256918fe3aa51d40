//! Binding listeners, serving, and the graceful shutdown sequence.

mod delivered;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;

use crate::http::{self, AppState};
use crate::storage::Store;
use crate::telemetry;

/// How long, after a handover, connections still open to this process may
/// carry one more request before the idle ones are closed.
const HANDOVER_LINGER: Duration = Duration::from_secs(3);

/// Above the load balancer's idle timeout (60 s on the ALB): the balancer,
/// not the app, must be the side that closes an idle connection, or it may
/// send a request on one the app is closing (a 502).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);

#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub reuse_port: bool,
    pub drain_delay: Duration,
    pub shutdown_grace: Duration,
    pub metrics_bind: Option<SocketAddr>,
    pub trust_proxy: bool,
    pub request_timeout: Duration,
    pub max_connections: u32,
    /// Key material for session cookies (at least 64 bytes).
    pub session_key: secrecy::SecretString,
    /// Sent in the `x-payments-instance` header of /healthz and /readyz.
    pub instance_id: axum::http::HeaderValue,
    /// Longest a connection may wait for a complete request head, idle
    /// keep-alive included: a client that connects and sends nothing, or
    /// sends its headers slowly, is disconnected after it.
    pub idle_timeout: Duration,
    /// Stripe, when a secret key is configured.
    pub stripe: Option<crate::stripe::Stripe>,
    /// The site's own base URL, for links that leave the site (Checkout
    /// return URLs, emailed links). No trailing slash.
    pub public_url: String,
    /// What the donation page offers and accepts.
    pub donations: crate::domain::donation::DonationConfig,
    /// Who donor mail is from, as the messages written to the outbox say.
    pub letterhead: crate::mail::Letterhead,
    /// Delivers the outbox, when SMTP is configured (the worker runs beside
    /// the server; see `cli::serve`).
    pub mailer: Option<crate::mail::Mailer>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            reuse_port: false,
            drain_delay: Duration::ZERO,
            shutdown_grace: Duration::from_secs(30),
            metrics_bind: None,
            trust_proxy: false,
            request_timeout: Duration::from_secs(30),
            max_connections: 16,
            session_key: secrecy::SecretString::from(crate::storage::accounts::new_secret()),
            instance_id: http::ops::random_instance(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            stripe: None,
            public_url: "http://127.0.0.1:8080".into(),
            donations: Default::default(),
            letterhead: Default::default(),
            mailer: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {reason}")]
pub struct BindError {
    addr: SocketAddr,
    reason: String,
}

/// Binds with SO_REUSEADDR and, when asked, SO_REUSEPORT, so that a new
/// instance can listen on the same port while the old one drains.
pub fn bind(addr: SocketAddr, reuse_port: bool) -> Result<TcpListener, BindError> {
    let err = |e: std::io::Error| BindError {
        addr,
        reason: match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "the address is already in use (another instance without --reuse-port?)".into()
            }
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            std::io::ErrorKind::AddrNotAvailable => {
                "the address is not available on this host".into()
            }
            _ => e.to_string(),
        },
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    socket.set_reuseaddr(true).map_err(err)?;
    if reuse_port {
        socket.set_reuseport(true).map_err(err)?;
    }
    socket.set_nodelay(true).map_err(err)?;
    socket.bind(addr).map_err(err)?;
    socket.listen(1024).map_err(err)
}

/// A bound, not yet serving, application.
pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    config: ServeConfig,
}

impl Application {
    /// Binds the listeners (port 0 picks a free port, as tests do).
    pub fn build(store: Store, config: ServeConfig) -> Result<Application, BindError> {
        let listener = bind(config.bind, config.reuse_port)?;
        let metrics_listener = match config.metrics_bind {
            Some(addr) => Some(bind(addr, config.reuse_port)?),
            None => None,
        };
        store.set_letterhead(config.letterhead.clone());
        let state = AppState {
            store,
            draining: Arc::new(AtomicBool::new(false)),
            metrics: telemetry::metrics_handle(),
            max_connections: config.max_connections,
            trust_proxy: config.trust_proxy,
            request_timeout: config.request_timeout,
            cookie_key: http::dashboard::session::cookie_key(
                secrecy::ExposeSecret::expose_secret(&config.session_key).as_bytes(),
            ),
            login_limiter: Default::default(),
            instance: config.instance_id.clone(),
            stripe: config.stripe.clone().map(Arc::new),
            public_url: config.public_url.clone().into(),
            donations: Arc::new(config.donations.clone()),
            donate_limiter: Arc::new(http::public::RateLimiter::per_minute(
                config.donations.forms_per_minute,
            )),
        };
        Ok(Application {
            listener,
            metrics_listener,
            state,
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.config.bind)
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then: `/readyz` turns 503 at once;
    /// after the drain delay the listener closes; in-flight requests get up
    /// to the shutdown grace to finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = Shutdown> + Send,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            metrics_listener,
            state,
            config,
        } = self;
        // Set when the listener closes, with how long open connections may
        // still carry requests before the idle ones are closed.
        let (close_tx, close_rx) = watch::channel(None::<Duration>);
        let closed = |mut rx: watch::Receiver<Option<Duration>>| async move {
            match rx.wait_for(Option::is_some).await {
                Ok(linger) => linger.unwrap_or_default(),
                Err(_) => Duration::ZERO,
            }
        };

        let store = state.store.clone();
        let draining = state.draining.clone();
        let purge = tokio::spawn(purge_idempotency_keys(store.clone()));
        let metrics_server = metrics_listener.map(|l| {
            let app = http::metrics_router(state.clone());
            tokio::spawn(serve_connections(
                l,
                app,
                config.idle_timeout,
                closed(close_rx.clone()),
            ))
        });
        let app = http::router(state);
        let server = tokio::spawn(serve_connections(
            listener,
            app,
            config.idle_timeout,
            closed(close_rx.clone()),
        ));

        let how = shutdown.await;
        // From now on every response says `Connection: close`, so a client's
        // kept-alive connections end after their next request instead of
        // being closed under it.
        draining.store(true, Ordering::SeqCst);
        let linger = match how {
            Shutdown::Drain => {
                tracing::info!(drain_delay = ?config.drain_delay, "shutting down: readiness is now 503");
                tokio::time::sleep(config.drain_delay).await;
                Duration::ZERO
            }
            Shutdown::Handover => {
                tracing::info!(
                    "handing over: closing the listener now (another process serves this port)"
                );
                // The load balancer still holds kept-alive connections to this
                // process and may send on any of them: let them carry one more
                // request (answered with `Connection: close`) before the idle
                // ones are closed, instead of racing its next request.
                HANDOVER_LINGER.min(config.shutdown_grace)
            }
        };
        tracing::info!(grace = ?config.shutdown_grace, "closing the listener; finishing in-flight requests");
        let _ = close_tx.send(Some(linger));

        let finished = tokio::time::timeout(config.shutdown_grace, async {
            let result = server.await;
            if let Some(m) = metrics_server {
                let _ = m.await;
            }
            result
        })
        .await;
        purge.abort();
        store.close().await;
        match finished {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(std::io::Error::other(join.to_string())),
            Err(_) => {
                tracing::warn!("shutdown grace elapsed with requests still running; exiting");
                Ok(())
            }
        }
    }
}

/// Accepts HTTP/1.1 connections until `stop` resolves, then closes the
/// listener, lets idle connections go and waits for in-flight requests.
///
/// Written out instead of `axum::serve` for one setting it does not expose:
/// hyper's header read timeout, which needs a timer. hyper starts it whenever
/// a connection waits for a request head, so it bounds both a slow sender
/// and an idle keep-alive connection.
async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    idle_timeout: Duration,
    stop: impl Future<Output = Duration>,
) -> std::io::Result<()> {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout);
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    let linger = loop {
        let (stream, peer) = tokio::select! {
            linger = &mut stop => break linger,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning; the listener stays open.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        // The client gets everything written to it before the socket closes.
        let stream = delivered::Delivered::new(stream, idle_timeout);
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or timed out: nothing to report.
            let _ = connection.await;
        });
    };
    drop(listener);
    let lingering = tokio::time::Instant::now() + linger;
    while graceful.count() > 0 && tokio::time::Instant::now() < lingering {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    graceful.shutdown().await;
    Ok(())
}

/// Keys are kept at least 24 hours; older ones are deleted hourly.
async fn purge_idempotency_keys(store: Store) {
    let mut interval = tokio::time::interval(Duration::from_secs(3600));
    loop {
        interval.tick().await;
        match store.purge_idempotency_keys().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "purged expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
        }
    }
}

/// How to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGTERM/SIGINT: report not-ready for the drain delay so load balancers
    /// stop sending, then close the listener.
    Drain,
    /// SIGUSR2: a new instance already serves this port (SO_REUSEPORT), so
    /// close the listener at once; in-flight requests still finish.
    Handover,
}

/// Listens for SIGTERM or SIGINT (drain) and SIGUSR2 (handover); the
/// future resolves on the first. The handlers are installed here, before the
/// caller binds its listener: a signal that arrives once the port answers
/// must never meet the default action, which for SIGUSR2 kills the process.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = Shutdown> + Send> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut handover = signal(SignalKind::user_defined2())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {
                tracing::info!("received SIGINT");
                Shutdown::Drain
            }
            _ = terminate.recv() => {
                tracing::info!("received SIGTERM");
                Shutdown::Drain
            }
            _ = handover.recv() => {
                tracing::info!("received SIGUSR2");
                Shutdown::Handover
            }
        }
    })
}
