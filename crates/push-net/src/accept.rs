//! The listener and the one accept loop every server path uses.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::ServerConfig;

/// The first pause after an accept failed for lack of resources; each further failure in a row
/// doubles it, up to [`MAX_ACCEPT_PAUSE`].
pub const MIN_ACCEPT_PAUSE: Duration = Duration::from_millis(5);
/// The longest pause between accept attempts while resources are exhausted: a freed descriptor
/// is used within a second, and a server out of descriptors wakes at most once a second.
pub const MAX_ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// Binds a TCP listener on `addr` with `SO_REUSEADDR` (a restart does not wait for old
/// connections in `TIME_WAIT`) and the configured [`backlog`](ServerConfig::with_backlog).
///
/// # Errors
/// Whatever the socket, bind or listen calls return (the address in use, no permission).
pub fn bind(addr: SocketAddr, config: &ServerConfig) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(config.backlog)
}

/// Sets what every accepted connection gets: `TCP_NODELAY` (pushed events are small and must
/// not wait for Nagle's algorithm) and, on Linux, `TCP_USER_TIMEOUT` at the
/// [write-stall timeout](ServerConfig::with_write_stall_timeout), so bytes already in the kernel that
/// the peer does not take (a zero window) abort the connection after that long, and
/// `TCP_NOTSENT_LOWAT` at [`unsent_low_water`](ServerConfig::with_unsent_low_water), so the socket
/// takes writes again as soon as a slow reader drains some of its unsent bytes (a reader that
/// reads is not mistaken for a stalled one behind a multi-MiB autotuned send buffer).
///
/// [`Acceptor::accept`] calls it; call it yourself on streams accepted another way.
pub fn configure_stream(stream: &TcpStream, config: &ServerConfig) {
    // All are optimisations of a socket that works without them: a failure (another kind of
    // socket, an old kernel) is no reason to refuse the connection.
    let _ = stream.set_nodelay(true);
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    let _ = socket2::SockRef::from(stream).set_tcp_user_timeout(Some(config.write_stall_timeout));
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = socket2::SockRef::from(stream).set_tcp_notsent_lowat(config.unsent_low_water);
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "fuchsia")))]
    let _ = config;
}

/// A listener whose [`accept`](Self::accept) survives what a busy server meets: a connection
/// that failed before it was accepted is skipped, and running out of file descriptors (or
/// kernel memory) pauses accepting — 5 ms, doubling to at most a second, reset by the next
/// success — instead of ending the server or spinning on a listener that stays readable.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use push_net::{Acceptor, ServerConfig};
///
/// let config = ServerConfig::default();
/// let mut acceptor = Acceptor::bind("127.0.0.1:8080".parse().unwrap(), &config)?;
/// loop {
///     let (stream, _peer) = acceptor.accept().await?; // only a broken listener is an error
///     tokio::spawn(async move { drop(stream) });
/// }
/// # }
/// # fn main() { let _ = run; }
/// ```
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    config: ServerConfig,
    pause: Duration,
}

impl Acceptor {
    /// Binds `addr` (see [`bind`]) and accepts with `config`.
    ///
    /// # Errors
    /// As [`bind`].
    pub fn bind(addr: SocketAddr, config: &ServerConfig) -> io::Result<Self> {
        Ok(Self::new(bind(addr, config)?, config))
    }

    /// Accepts on a listener bound elsewhere (its backlog is then whatever it was given).
    pub fn new(listener: TcpListener, config: &ServerConfig) -> Self {
        Self {
            listener,
            config: config.clone(),
            pause: Duration::ZERO,
        }
    }

    /// The listener's address.
    ///
    /// # Errors
    /// As [`TcpListener::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The configuration accepted connections are served with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The next connection, [configured](configure_stream). Transient failures are retried
    /// here (see the type's docs); only an error that no retry can fix (the listener is not a
    /// listening socket any more) is returned.
    ///
    /// # Cancel safety
    /// Cancel safe: dropping the future loses no connection (one accepted is returned at
    /// once), and a pause in progress is simply cut short.
    pub async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        loop {
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.pause = Duration::ZERO;
                    configure_stream(&stream, &self.config);
                    return Ok((stream, peer));
                }
                Err(e) => match classify(&e) {
                    Failure::Connection => {}
                    Failure::Resources => {
                        self.pause = next_pause(self.pause);
                        tokio::time::sleep(self.pause).await;
                    }
                    Failure::Fatal => return Err(e),
                },
            }
        }
    }
}

/// The pause after `previous` (zero after a success).
fn next_pause(previous: Duration) -> Duration {
    previous
        .saturating_mul(2)
        .clamp(MIN_ACCEPT_PAUSE, MAX_ACCEPT_PAUSE)
}

/// What an accept error means for the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// One pending connection failed (reset, aborted, refused, timed out, a protocol or
    /// network error or a firewall's refusal Linux reports on the new socket): accept the next
    /// at once.
    Connection,
    /// Out of descriptors, buffers or memory, or anything not known to be permanent: pause.
    Resources,
    /// The listener itself is unusable (EBADF, EINVAL, ENOTSOCK, EOPNOTSUPP, EFAULT, ENOSYS):
    /// retrying cannot help.
    Fatal,
}

fn classify(e: &io::Error) -> Failure {
    use io::ErrorKind as K;
    match e.kind() {
        // The new connection timed out, was refused, aborted or reset before it was accepted.
        K::ConnectionAborted
        | K::ConnectionReset
        | K::ConnectionRefused
        | K::TimedOut
        | K::Interrupted
        | K::WouldBlock => {
            return Failure::Connection;
        }
        // EINVAL (not listening) and ENOSYS / unsupported operations.
        K::InvalidInput | K::Unsupported => return Failure::Fatal,
        _ => {}
    }
    match e.raw_os_error() {
        // accept(2), "Error handling": errors already pending on the new connection.
        Some(code) if PER_CONNECTION.contains(&code) => Failure::Connection,
        Some(code) if FATAL.contains(&code) => Failure::Fatal,
        // EMFILE, ENFILE, ENOBUFS, ENOMEM and whatever else: keep the server, but never spin.
        _ => Failure::Resources,
    }
}

#[cfg(target_os = "linux")]
mod errno {
    // The values of <errno.h> on Linux (every architecture Rust supports shares them).
    pub(super) const EPROTO: i32 = 71;
    pub(super) const ENOPROTOOPT: i32 = 92;
    pub(super) const ENETDOWN: i32 = 100;
    pub(super) const ENETUNREACH: i32 = 101;
    pub(super) const EHOSTDOWN: i32 = 112;
    pub(super) const EHOSTUNREACH: i32 = 113;
    pub(super) const ENONET: i32 = 64;
    pub(super) const EPERM: i32 = 1;
    pub(super) const EBADF: i32 = 9;
    pub(super) const ENOTSOCK: i32 = 88;
    pub(super) const EFAULT: i32 = 14;
    pub(super) const EOPNOTSUPP: i32 = 95;
    pub(super) const ETIMEDOUT: i32 = 110;
    pub(super) const ECONNREFUSED: i32 = 111;
    pub(super) const ECONNABORTED: i32 = 103;
    pub(super) const ECONNRESET: i32 = 104;
}

#[cfg(target_os = "linux")]
const PER_CONNECTION: &[i32] = &[
    errno::EPROTO,
    errno::ENOPROTOOPT,
    errno::ENETDOWN,
    errno::ENETUNREACH,
    errno::EHOSTDOWN,
    errno::EHOSTUNREACH,
    errno::ENONET,
    // A firewall rule refused this connection.
    errno::EPERM,
    errno::ETIMEDOUT,
    errno::ECONNREFUSED,
    errno::ECONNABORTED,
    errno::ECONNRESET,
];
#[cfg(target_os = "linux")]
// EOPNOTSUPP: the socket is not of a type that accepts (a UDP socket, say).
const FATAL: &[i32] = &[
    errno::EBADF,
    errno::ENOTSOCK,
    errno::EFAULT,
    errno::EOPNOTSUPP,
];
#[cfg(not(target_os = "linux"))]
const PER_CONNECTION: &[i32] = &[];
#[cfg(not(target_os = "linux"))]
const FATAL: &[i32] = &[];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_up_to_a_second_and_restarts_at_the_minimum() {
        let mut pause = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..12 {
            pause = next_pause(pause);
            seen.push(pause);
        }
        assert_eq!(seen[0], MIN_ACCEPT_PAUSE);
        assert_eq!(seen[1], MIN_ACCEPT_PAUSE * 2);
        assert!(seen.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*seen.last().unwrap(), MAX_ACCEPT_PAUSE);
        assert_eq!(next_pause(Duration::ZERO), MIN_ACCEPT_PAUSE);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn descriptor_exhaustion_pauses_and_a_dead_listener_ends() {
        const EMFILE: i32 = 24;
        const ENFILE: i32 = 23;
        const ENOBUFS: i32 = 105;
        for code in [EMFILE, ENFILE, ENOBUFS] {
            assert_eq!(
                classify(&io::Error::from_raw_os_error(code)),
                Failure::Resources,
                "{code}"
            );
        }
        for code in [errno::EPROTO, errno::EHOSTUNREACH, errno::EPERM] {
            assert_eq!(
                classify(&io::Error::from_raw_os_error(code)),
                Failure::Connection
            );
        }
        assert_eq!(
            classify(&io::ErrorKind::ConnectionAborted.into()),
            Failure::Connection
        );
        assert_eq!(
            classify(&io::Error::from_raw_os_error(errno::EBADF)),
            Failure::Fatal
        );
        assert_eq!(
            classify(&io::Error::from_raw_os_error(22)), // EINVAL: not listening
            Failure::Fatal
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn every_accept_errno_has_its_class() {
        const EINVAL: i32 = 22;
        const ENOSYS: i32 = 38;
        const ENOMEM: i32 = 12;
        let per_connection = [
            errno::ETIMEDOUT,
            errno::ECONNREFUSED,
            errno::EPROTO,
            errno::ECONNABORTED,
            errno::ECONNRESET,
            errno::EPERM,
            errno::ENETUNREACH,
        ];
        for code in per_connection {
            let e = io::Error::from_raw_os_error(code);
            assert_eq!(classify(&e), Failure::Connection, "{e}");
        }
        let fatal = [
            errno::EOPNOTSUPP,
            EINVAL,
            errno::ENOTSOCK,
            errno::EBADF,
            errno::EFAULT,
            ENOSYS,
        ];
        for code in fatal {
            let e = io::Error::from_raw_os_error(code);
            assert_eq!(classify(&e), Failure::Fatal, "{e}");
        }
        let e = io::Error::from_raw_os_error(ENOMEM);
        assert_eq!(classify(&e), Failure::Resources, "{e}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn accepted_streams_get_the_unsent_low_water_mark() {
        let config = ServerConfig::default().with_unsent_low_water(200 * 1024);
        let mut acceptor = Acceptor::bind("127.0.0.1:0".parse().unwrap(), &config).unwrap();
        let addr = acceptor.local_addr().unwrap();
        let _client = TcpStream::connect(addr).await.unwrap();
        let (stream, _) = acceptor.accept().await.unwrap();
        let socket = socket2::SockRef::from(&stream);
        assert_eq!(socket.tcp_notsent_lowat().unwrap(), 200 * 1024);
        assert!(socket.tcp_nodelay().unwrap());
        assert_eq!(ServerConfig::default().unsent_low_water(), 128 * 1024);
    }
}
