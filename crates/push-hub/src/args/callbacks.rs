//! The flags of the callbacks (webhooks) the hub delivers: `POST /.well-known/push/callbacks`
//! registers a URL that receives every event published on its topics (see
//! [`crate::callbacks`]).

use std::time::Duration;

use super::units::duration;

/// The callbacks' flags (flattened into [`Args`](super::Args)).
#[derive(Debug, Clone, clap::Args)]
#[non_exhaustive]
pub struct CallbacksArgs {
    /// Allow callbacks to loopback, private and link-local addresses, and plain http:// URLs
    /// (tests and closed networks). Without it only public https:// receivers are called;
    /// metadata addresses (169.254.169.254) stay refused either way.
    #[arg(long)]
    pub callbacks_allow_private: bool,

    /// Allow plain http:// callback URLs to public addresses (the signature protects the
    /// body's integrity, not its confidentiality).
    #[arg(long)]
    pub callbacks_allow_http: bool,

    /// The delays of the delivery attempts, comma-separated, the first counted from the event
    /// and each other from the preceding failure; their number is the number of attempts.
    /// The default is Standard Webhooks' schedule: 8 attempts over about 27 hours.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = duration,
        default_value = "0,5s,5m,30m,2h,5h,10h,10h",
        value_name = "DELAYS"
    )]
    pub callbacks_schedule: Vec<Duration>,

    /// How many attempts are made from memory before a delivery waits on disk only (the
    /// default 3 keeps a delivery in memory for its first ~5 minutes; a receiver down longer
    /// costs disk, not memory).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub callbacks_fast_attempts: u32,

    /// How long one attempt may take (connect to the last byte of the answer) before it counts
    /// as failed.
    #[arg(long, default_value = "15s", value_parser = duration, value_name = "TIMEOUT")]
    pub callbacks_timeout: Duration,

    /// The longest Retry-After a receiver's 429 or 503 is honoured for.
    #[arg(long, default_value = "6h", value_parser = duration, value_name = "DELAY")]
    pub callbacks_retry_after_max: Duration,

    /// The most registrations the hub keeps. Each event is matched against every active
    /// registration (about 1 µs each), and each costs about 1 KiB of memory: 10,000 is 10 MiB
    /// and 10 ms of matching per event on a 2-core host.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub callbacks_max: usize,

    /// The most deliveries of one registration in flight at once; a registration asks for up
    /// to this many (`in_flight`, default 1: in cursor order).
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub callbacks_max_in_flight: u32,

    /// How long the previous secret keeps signing after a rotation, so receivers can switch
    /// at their pace.
    #[arg(long, default_value = "24h", value_parser = duration, value_name = "DURATION")]
    pub callbacks_rotation: Duration,
}
