//! The command line: every flag with its `PUSH_HUB_…` environment variable and a `--help` line
//! that says what it does and why its default is what it is.
//!
//! The defaults are sized for a small deployment (2 cores, 1 GiB): tens of thousands of idle
//! subscribers, history bounded in count, age and bytes, and timeouts that keep slow or silent
//! peers from holding sockets for free.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use ipnet::IpNet;

use units::{bytes, duration};

mod units;

/// push-hub: a Mercure-compatible server-push hub. SSE (Mercure), WebSocket (`/ws`), long
/// polling (`/poll`) and HTTP/2 push share one port, one topic space and one set of cursors.
///
/// Every flag can also be set by the environment variable shown beside it.
#[derive(Debug, Clone, Parser)]
#[command(name = "push-hub", version, about, long_about = None, max_term_width = 100)]
#[non_exhaustive]
pub struct Args {
    /// Where to listen (HTTP/1.1, h2c and TLS on the same port).
    #[arg(long, env = "PUSH_HUB_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// The JWT key of both roles: an HMAC secret, a PEM public key, or @FILE to read either
    /// from a file. Without any key the hub makes a random development key and prints a
    /// publisher token for it.
    #[arg(
        long,
        env = "PUSH_HUB_JWT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub jwt_key: Option<String>,

    /// The publishers' JWT key (overrides --jwt-key for publishing); as --jwt-key.
    #[arg(
        long,
        env = "PUSH_HUB_PUBLISHER_JWT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub publisher_jwt_key: Option<String>,

    /// The subscribers' JWT key (overrides --jwt-key for subscribing); as --jwt-key.
    #[arg(
        long,
        env = "PUSH_HUB_SUBSCRIBER_JWT_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub subscriber_jwt_key: Option<String>,

    /// The keys' algorithm: HS256/384/512 for a secret; RS*, PS*, ES256/384 or EdDSA for a PEM
    /// public key. A token signed with any other algorithm is refused.
    #[arg(
        long,
        env = "PUSH_HUB_JWT_ALG",
        default_value = "HS256",
        value_name = "ALG"
    )]
    pub jwt_alg: String,

    /// Let subscribers without a token receive public updates (a token is still checked when
    /// one is presented).
    #[arg(long, env = "PUSH_HUB_ANONYMOUS")]
    pub anonymous: bool,

    /// An origin allowed to call the hub from a browser (CORS, credentials allowed); repeat
    /// the flag, or separate with commas in the environment variable.
    #[arg(
        long,
        env = "PUSH_HUB_CORS_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub cors_origin: Vec<String>,

    /// An origin from which a cookie-authenticated publish is accepted (CSRF protection);
    /// repeatable. The --cors-origin origins are accepted too.
    #[arg(
        long,
        env = "PUSH_HUB_PUBLISH_ORIGIN",
        value_delimiter = ',',
        value_name = "ORIGIN"
    )]
    pub publish_origin: Vec<String>,

    /// The name of the cookie holding a subscriber's token (EventSource cannot send headers).
    #[arg(
        long,
        env = "PUSH_HUB_COOKIE_NAME",
        default_value = "mercureAuthorization"
    )]
    pub cookie_name: String,

    /// The TLS certificate chain (PEM). With --tls-key, the port speaks TLS too (ALPN h2 and
    /// http/1.1), beside plain HTTP.
    #[arg(
        long,
        env = "PUSH_HUB_TLS_CERT",
        requires = "tls_key",
        value_name = "FILE"
    )]
    pub tls_cert: Option<PathBuf>,

    /// The TLS private key (PEM) of --tls-cert.
    #[arg(
        long,
        env = "PUSH_HUB_TLS_KEY",
        requires = "tls_cert",
        value_name = "FILE"
    )]
    pub tls_key: Option<PathBuf>,

    /// Where the history is kept across restarts (an embedded, crash-safe store).
    #[arg(
        long,
        env = "PUSH_HUB_DATA_DIR",
        default_value = "push-hub-data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// Keep the history in memory only: a restart is then an announced gap for every client.
    #[arg(long, env = "PUSH_HUB_IN_MEMORY")]
    pub in_memory: bool,

    /// The most events kept per topic for resuming clients.
    #[arg(
        long,
        env = "PUSH_HUB_HISTORY_COUNT",
        default_value_t = 1024,
        value_name = "N"
    )]
    pub history_count: usize,

    /// How long an event is kept for resuming clients (e.g. 90s, 10m, 1h).
    #[arg(long, env = "PUSH_HUB_HISTORY_AGE", default_value = "10m", value_parser = duration, value_name = "AGE")]
    pub history_age: Duration,

    /// The most bytes of history kept per topic (e.g. 16MiB).
    #[arg(long, env = "PUSH_HUB_HISTORY_BYTES", default_value = "16MiB", value_parser = bytes, value_name = "SIZE")]
    pub history_bytes: usize,

    /// The most bytes of history kept in all (e.g. 256MiB): the bound that keeps a small
    /// machine's memory safe whatever the publishers do.
    #[arg(long, env = "PUSH_HUB_TOTAL_HISTORY_BYTES", default_value = "256MiB", value_parser = bytes, value_name = "SIZE")]
    pub total_history_bytes: usize,

    /// The most topics holding history at once; a publish that would start one more is
    /// refused with 503 (a flood of new topics cannot grow memory without bound).
    #[arg(
        long,
        env = "PUSH_HUB_MAX_TOPICS",
        default_value_t = 65_536,
        value_name = "N"
    )]
    pub max_topics: usize,

    /// The most events a subscriber may fall behind before --overflow applies.
    #[arg(
        long,
        env = "PUSH_HUB_QUEUE_COUNT",
        default_value_t = 512,
        value_name = "N"
    )]
    pub queue_count: usize,

    /// The most bytes of events a subscriber may fall behind before --overflow applies.
    #[arg(long, env = "PUSH_HUB_QUEUE_BYTES", default_value = "1MiB", value_parser = bytes, value_name = "SIZE")]
    pub queue_bytes: usize,

    /// What happens to a subscriber that falls behind: gap (skip its backlog and tell it) or
    /// close (end its stream; it resumes from its cursor).
    #[arg(long, env = "PUSH_HUB_OVERFLOW", value_enum, default_value_t = OverflowArg::Gap)]
    pub overflow: OverflowArg,

    /// The SSE keep-alive interval: a comment line when nothing else was sent, so proxies do
    /// not cut idle streams (30s stays under the 60s idle timeout of common proxies, such as
    /// nginx's proxy_read_timeout). 0 turns it off.
    #[arg(long, env = "PUSH_HUB_KEEP_ALIVE", default_value = "30s", value_parser = duration, value_name = "INTERVAL")]
    pub keep_alive: Duration,

    /// Turn on the active-subscriptions API (/.well-known/mercure/subscriptions) and the
    /// subscription events (each connection then publishes two events).
    #[arg(long, env = "PUSH_HUB_SUBSCRIPTIONS")]
    pub subscriptions: bool,

    /// The hub's public URL (https://example.com/.well-known/mercure), when clients reach it
    /// through a proxy: the 1.0 token audience and relative URL patterns resolve against it.
    /// Default: http:// and each request's Host.
    #[arg(long, env = "PUSH_HUB_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<url::Url>,

    /// The most connections held at once; more are answered 503 with Retry-After. Raise the
    /// process's file-descriptor limit (ulimit -n) to match.
    #[arg(
        long,
        env = "PUSH_HUB_MAX_CONNECTIONS",
        default_value_t = 65_536,
        value_name = "N"
    )]
    pub max_connections: usize,

    /// The most streams (SSE, WebSocket, held polls) one client address may hold; more are
    /// answered 429 with Retry-After. 0: no limit.
    #[arg(
        long,
        env = "PUSH_HUB_MAX_STREAMS_PER_CLIENT",
        default_value_t = 256,
        value_name = "N"
    )]
    pub max_streams_per_client: usize,

    /// The most streams one token may hold; more are answered 429. 0: no limit.
    #[arg(
        long,
        env = "PUSH_HUB_MAX_STREAMS_PER_TOKEN",
        default_value_t = 1024,
        value_name = "N"
    )]
    pub max_streams_per_token: usize,

    /// Publishes per second allowed per token and per client address (bursts of as many);
    /// more are answered 429 with Retry-After. 0: no limit.
    #[arg(
        long,
        env = "PUSH_HUB_PUBLISH_RATE",
        default_value_t = 1000,
        value_name = "PER_SECOND"
    )]
    pub publish_rate: u32,

    /// The largest publish body accepted; larger ones are answered 413.
    #[arg(long, env = "PUSH_HUB_MAX_PUBLISH_BYTES", default_value = "1MiB", value_parser = bytes, value_name = "SIZE")]
    pub max_publish_bytes: usize,

    /// The time a connection has to send a complete request head (slow clients cannot hold a
    /// socket open for free); also the idle limit of keep-alive connections.
    #[arg(long, env = "PUSH_HUB_REQUEST_TIMEOUT", default_value = "10s", value_parser = duration, value_name = "TIMEOUT")]
    pub request_timeout: Duration,

    /// The time a publish body has to arrive.
    #[arg(long, env = "PUSH_HUB_BODY_TIMEOUT", default_value = "30s", value_parser = duration, value_name = "TIMEOUT")]
    pub body_timeout: Duration,

    /// How long a write may make no progress before the connection is dropped (a client that
    /// stopped reading).
    #[arg(long, env = "PUSH_HUB_WRITE_STALL_TIMEOUT", default_value = "30s", value_parser = duration, value_name = "TIMEOUT")]
    pub write_stall_timeout: Duration,

    /// A reverse proxy whose X-Forwarded-For / Forwarded headers are believed (an address or
    /// a CIDR block); repeatable. From any other peer those headers are ignored.
    #[arg(
        long,
        env = "PUSH_HUB_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxy: Vec<IpNet>,

    /// How long a shutdown (SIGTERM, SIGINT) waits for connections to end before exiting.
    #[arg(long, env = "PUSH_HUB_SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = duration, value_name = "TIMEOUT")]
    pub shutdown_timeout: Duration,

    /// The reconnection delay suggested to clients at shutdown; each stream gets a random one
    /// between this and twice this, so clients do not all come back at once.
    #[arg(long, env = "PUSH_HUB_SHUTDOWN_RETRY", default_value = "5s", value_parser = duration, value_name = "DELAY")]
    pub shutdown_retry: Duration,

    /// The log format: text for people, json for log collectors. Tokens are never logged.
    #[arg(long, env = "PUSH_HUB_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to log, as a tracing filter (e.g. info, push_hub=debug).
    #[arg(
        long,
        env = "PUSH_HUB_LOG",
        default_value = "info",
        value_name = "FILTER"
    )]
    pub log: String,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--overflow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OverflowArg {
    /// Skip the subscriber's backlog and deliver a gap; it continues live.
    Gap,
    /// End the subscriber's stream; it resumes from its cursor.
    Close,
}

impl Args {
    /// The arguments with every default, as if the hub were started without flags or
    /// environment (for tests and embedding).
    pub fn defaults() -> Self {
        Self::parse_from(["push-hub"])
    }
}

/// Reads `KEY` as given, or the file it names when it starts with `@`.
///
/// # Errors
/// The file's I/O error.
pub fn key_text(key: &str) -> std::io::Result<String> {
    match key.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path),
        None => Ok(key.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_flag() {
        let args = Args::defaults();
        assert_eq!(args.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(args.history_age, Duration::from_secs(600));
        assert_eq!(args.total_history_bytes, 256 << 20);
        assert!(args.jwt_key.is_none() && !args.in_memory);
    }

    #[test]
    fn flags_and_lists() {
        let args = Args::parse_from([
            "push-hub",
            "--addr",
            "[::1]:9000",
            "--cors-origin",
            "https://a.example",
            "--cors-origin",
            "https://b.example",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--in-memory",
            "--overflow",
            "close",
        ]);
        assert_eq!(args.cors_origin.len(), 2);
        assert!(args.trusted_proxy[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(args.in_memory);
        assert_eq!(args.overflow, OverflowArg::Close);
        assert!(Args::try_parse_from(["push-hub", "--tls-cert", "c.pem"]).is_err());
    }

    #[test]
    fn key_from_a_file() {
        let path = std::env::temp_dir().join(format!("push-hub-key-{}", std::process::id()));
        std::fs::write(&path, "s3cret").unwrap();
        assert_eq!(key_text(&format!("@{}", path.display())).unwrap(), "s3cret");
        assert_eq!(key_text("plain").unwrap(), "plain");
        std::fs::remove_file(path).unwrap();
    }
}
