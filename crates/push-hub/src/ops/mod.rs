//! Operations: the metrics and the broker wrapper that feeds them, the graceful shutdown, the
//! quotas, the client address behind trusted proxies, and the logs.

pub mod backend;
pub mod forwarded;
pub mod log;
pub mod metered;
pub mod metrics;
pub mod quota;
pub mod shutdown;
mod stamps;
