//! The command line: every flag with its `PUSH_HUB_…` environment variable and a `--help` line
//! that says what it does and why its default is what it is.
//!
//! A flag is one field of [`Args`]: its doc comment (the `--help` text) and one
//! `#[arg(long, …)]` line with its default, value parser (the `units` module's durations and
//! sizes) and value name. The environment variable is not written there: [`Args`]' command
//! gives every flag `PUSH_HUB_` and its name in capitals (`--max-topics` →
//! `PUSH_HUB_MAX_TOPICS`), so a new flag cannot lack one or misspell it.
//!
//! The defaults are sized for a small deployment (2 cores, 1 GiB): tens of thousands of idle
//! subscribers, history bounded in count, age and bytes, and timeouts that keep slow or silent
//! peers from holding sockets for free.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Command, CommandFactory, Parser, ValueEnum};
use ipnet::IpNet;

use units::{bytes, duration};

mod callbacks;
mod units;
mod webpush;

pub use callbacks::CallbacksArgs;
pub use webpush::WebPushArgs;

/// push-hub: a Mercure-compatible server-push hub. SSE (Mercure), WebSocket (`/ws`), long
/// polling (`/poll`) and HTTP/2 push share one port, one topic space and one set of cursors.
///
/// Every flag can also be set by the environment variable `PUSH_HUB_` and its name in capitals
/// (shown beside it in `--help`). Parse with [`Parser::parse`] and the other [`Parser`] methods.
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct Args {
    /// Where to listen (HTTP/1.1, h2c and TLS on the same port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// The JWT key of both roles: an HMAC secret, a PEM public key (its text attached with =,
    /// as --jwt-key="$(cat key.pub)", since it starts with -), or @FILE to read either from a
    /// file. Repeat the flag to have several keys active at once (key rotation), each
    /// as kid=ID:KEY: a token whose header names `kid` ID is checked with that key only.
    /// Without any key the hub makes a random development key and prints a publisher token
    /// for it.
    #[arg(long, hide_env_values = true, value_name = "KEY")]
    pub jwt_key: Vec<String>,

    /// The publishers' JWT key (overrides --jwt-key for publishing); as --jwt-key.
    #[arg(long, hide_env_values = true, value_name = "KEY")]
    pub publisher_jwt_key: Vec<String>,

    /// The subscribers' JWT key (overrides --jwt-key for subscribing); as --jwt-key.
    #[arg(long, hide_env_values = true, value_name = "KEY")]
    pub subscriber_jwt_key: Vec<String>,

    /// The keys' algorithm: HS256/384/512 for a secret; RS*, PS*, ES256/384/512 or EdDSA for a
    /// PEM public key. A token signed with any other algorithm is refused.
    #[arg(long, default_value = "HS256", value_name = "ALG")]
    pub jwt_alg: String,

    /// Let subscribers without a token receive public updates (a token is still checked when
    /// one is presented).
    #[arg(long)]
    pub anonymous: bool,

    /// An origin allowed to call the hub from a browser (CORS, credentials allowed); repeat
    /// the flag, or separate with commas in the environment variable.
    #[arg(long, value_delimiter = ',', value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,

    /// An origin from which a cookie-authenticated publish is accepted (CSRF protection);
    /// repeatable. The --cors-origin origins are accepted too.
    #[arg(long, value_delimiter = ',', value_name = "ORIGIN")]
    pub publish_origin: Vec<String>,

    /// The name of the cookie holding a subscriber's token (EventSource cannot send headers).
    #[arg(long, default_value = "mercureAuthorization")]
    pub cookie_name: String,

    /// The most distinct topic selectors a subscriber's token may grant; a token granting
    /// more is refused (401, saying so). Each costs about 100 bytes for as long as the
    /// subscriber holding it is connected.
    #[arg(long, default_value_t = crate::auth::DEFAULT_MAX_GRANT_SELECTORS, value_name = "N")]
    pub max_grant_selectors: usize,

    /// The TLS certificate chain (PEM). With --tls-key, the port speaks TLS too (ALPN h2 and
    /// http/1.1), beside plain HTTP.
    #[arg(long, requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The TLS private key (PEM) of --tls-cert.
    #[arg(long, requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Where the history is kept across restarts (an embedded, crash-safe store).
    #[arg(long, default_value = "push-hub-data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Keep the history in memory only: a restart is then an announced gap for every client.
    #[arg(long)]
    pub in_memory: bool,

    /// The most events kept per topic for resuming clients.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub history_count: usize,

    /// How long an event is kept for resuming clients (e.g. 90s, 10m, 1h).
    #[arg(long, default_value = "10m", value_parser = duration, value_name = "AGE")]
    pub history_age: Duration,

    /// The most bytes of history kept per topic (e.g. 16MiB).
    #[arg(long, default_value = "16MiB", value_parser = bytes, value_name = "SIZE")]
    pub history_bytes: usize,

    /// The most bytes of history kept in all (e.g. 256MiB): the bound that keeps a small
    /// machine's memory safe whatever the publishers do.
    #[arg(long, default_value = "256MiB", value_parser = bytes, value_name = "SIZE")]
    pub total_history_bytes: usize,

    /// The most topics holding history at once; a publish that would start one more is
    /// refused with 503 (a flood of new topics cannot grow memory without bound).
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub max_topics: usize,

    /// The most events a subscriber may fall behind before --overflow applies.
    #[arg(long, default_value_t = 512, value_name = "N")]
    pub queue_count: usize,

    /// The most bytes of events a subscriber may fall behind before --overflow applies.
    #[arg(long, default_value = "1MiB", value_parser = bytes, value_name = "SIZE")]
    pub queue_bytes: usize,

    /// What happens to a subscriber that falls behind: gap (skip its backlog and tell it) or
    /// close (end its stream; it resumes from its cursor).
    #[arg(long, value_enum, default_value_t = OverflowArg::Gap)]
    pub overflow: OverflowArg,

    /// The SSE keep-alive interval: a comment line when nothing else was sent, so proxies do
    /// not cut idle streams (30s stays under the 60s idle timeout of common proxies, such as
    /// nginx's proxy_read_timeout). 0 turns it off.
    #[arg(long, default_value = "30s", value_parser = duration, value_name = "INTERVAL")]
    pub keep_alive: Duration,

    /// Turn on the active-subscriptions API (/.well-known/mercure/subscriptions) and the
    /// subscription events (each connection then publishes two events).
    #[arg(long)]
    pub subscriptions: bool,

    /// The hub's public URL (`https://example.com/.well-known/mercure`), when clients reach it
    /// through a proxy: the 1.0 token audience and relative URL patterns resolve against it.
    /// Default: http:// and each request's Host.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<url::Url>,

    /// The most connections held at once; more are answered 503 with Retry-After. Raise the
    /// process's file-descriptor limit (ulimit -n) to match.
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub max_connections: usize,

    /// The most streams (SSE, WebSocket, held polls) one client address may hold; more are
    /// answered 429 with Retry-After. 0: no limit.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_streams_per_client: usize,

    /// The most streams one token may hold; more are answered 429. 0: no limit.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_streams_per_token: usize,

    /// Publishes per second allowed per token and per client address (bursts of as many);
    /// more are answered 429 with Retry-After. 0: no limit.
    #[arg(long, default_value_t = 1000, value_name = "PER_SECOND")]
    pub publish_rate: u32,

    /// The largest publish body accepted; larger ones are answered 413.
    #[arg(long, default_value = "1MiB", value_parser = bytes, value_name = "SIZE")]
    pub max_publish_bytes: usize,

    /// The time a connection has to send a complete request head (slow clients cannot hold a
    /// socket open for free); also the idle limit of keep-alive connections.
    #[arg(long, default_value = "10s", value_parser = duration, value_name = "TIMEOUT")]
    pub request_timeout: Duration,

    /// The time a publish body has to arrive.
    #[arg(long, default_value = "30s", value_parser = duration, value_name = "TIMEOUT")]
    pub body_timeout: Duration,

    /// How long a write may make no progress before the connection is dropped (a client that
    /// stopped reading).
    #[arg(long, default_value = "30s", value_parser = duration, value_name = "TIMEOUT")]
    pub write_stall_timeout: Duration,

    /// A reverse proxy whose X-Forwarded-For / Forwarded headers are believed (an address or
    /// a CIDR block); repeatable. From any other peer those headers are ignored.
    #[arg(long, value_delimiter = ',', value_name = "CIDR")]
    pub trusted_proxy: Vec<IpNet>,

    /// How long a shutdown (SIGTERM, SIGINT) waits for connections to end before exiting.
    #[arg(long, default_value = "10s", value_parser = duration, value_name = "TIMEOUT")]
    pub shutdown_timeout: Duration,

    /// The reconnection delay suggested to clients at shutdown; each stream gets a random one
    /// between this and twice this, so clients do not all come back at once.
    #[arg(long, default_value = "5s", value_parser = duration, value_name = "DELAY")]
    pub shutdown_retry: Duration,

    /// The log format: text for people, json for log collectors. Tokens are never logged.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// What to log, as a tracing filter (e.g. info, push_hub=debug).
    #[arg(long, default_value = "info", value_name = "FILTER")]
    pub log: String,

    /// The most subscriptions with a pattern selector (a URI template, `*`) open at once;
    /// more are refused. Each publish to a new topic is matched against every one, so
    /// the bound keeps a flood of new topics cheap.
    #[arg(long, default_value_t = push_broker::Config::default().max_pattern_subscriptions(), value_name = "N")]
    pub max_pattern_subscriptions: usize,

    /// Gather the events an SSE stream receives within this window into one write (e.g.
    /// 100ms; 0: off, the default). The first event after a quiet period is written at once;
    /// only a busy stream waits, up to the window, for fewer write syscalls and less CPU.
    #[arg(long, default_value = "0s", value_parser = duration, value_name = "WINDOW")]
    pub sse_coalesce: Duration,

    /// Share topics with every hub on this Redis (7 or later): redis://HOST:PORT (AUTH as
    /// redis://USER:PASSWORD@HOST:PORT, a database as …/DB), or rediss:// for TLS. The history
    /// then lives in Redis (its age bounded by --history-age, its length by
    /// --redis-history-count) and --data-dir is not used; a client may resume on any hub.
    #[arg(long, hide_env_values = true, value_name = "URL")]
    pub redis: Option<String>,

    /// Durable publishing on Redis: acknowledge a publish only once N replicas have the event
    /// (WAIT), else answer 503. 0 (the default) acknowledges once the master has it, which a
    /// crash or failover of the master can still lose (the loss is then announced as a gap).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub redis_wait: u32,

    /// How long a durable publish (--redis-wait) waits for the replicas.
    #[arg(long, default_value = "1s", value_parser = duration, value_name = "TIMEOUT")]
    pub redis_wait_timeout: Duration,

    /// --redis names a Redis Cluster: one or more of its nodes' URLs, comma-separated (the
    /// hub learns the rest of the topology from them).
    #[arg(long)]
    pub redis_cluster: bool,

    /// For rediss://: trust this CA certificate (a PEM file) instead of the Web PKI roots (a
    /// Redis with a private CA's or a self-signed certificate).
    #[arg(long, value_name = "FILE")]
    pub redis_ca: Option<PathBuf>,

    /// With --redis: the events kept per partition (Redis has 16; a topic belongs to one), in
    /// place of --history-count and --history-bytes, which bound the in-process history per
    /// topic. Approximate: Redis trims whole stream nodes of 100 entries, every 64 publishes.
    /// 10 000 × 16 events of half a kilobyte are about 80 MB of Redis memory.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub redis_history_count: usize,
    /// The STOMP heart-beat the hub offers both ways (`CONNECTED`'s `heart-beat`): each side
    /// beats at the larger of its wish and the other's, and a client silent for twice the
    /// agreed interval is closed. 10s keeps idle connections through common proxies at one
    /// small frame per 10 s per client; 0 offers none.
    #[arg(long, default_value = "10s", value_parser = duration, value_name = "INTERVAL")]
    pub stomp_heart_beat: Duration,

    #[command(flatten, next_help_heading = "Callbacks (webhooks)")]
    #[allow(missing_docs)]
    pub callbacks: CallbacksArgs,

    #[command(flatten, next_help_heading = "Web Push")]
    #[allow(missing_docs)]
    pub webpush: WebPushArgs,
}

/// The prefix of every flag's environment variable.
const ENV_PREFIX: &str = "PUSH_HUB_";

impl CommandFactory for Args {
    fn command() -> Command {
        program(<Self as clap::Args>::augment_args(Command::new("push-hub")))
    }

    fn command_for_update() -> Command {
        program(<Self as clap::Args>::augment_args_for_update(Command::new(
            "push-hub",
        )))
    }
}

impl Parser for Args {}

/// The program around the flags: its version, its about line (the crate's description, not
/// [`Args`]' doc comment, which is for the library's readers), and every flag's environment
/// variable, [`ENV_PREFIX`] and the flag's name in capitals.
fn program(flags: Command) -> Command {
    flags
        .version(env!("CARGO_PKG_VERSION"))
        .about(env!("CARGO_PKG_DESCRIPTION"))
        .long_about(None)
        .max_term_width(100)
        .mut_args(|arg| {
            let name = format!("{ENV_PREFIX}{}", arg.get_id().as_str().to_ascii_uppercase());
            arg.env(name)
        })
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
mod tests;
