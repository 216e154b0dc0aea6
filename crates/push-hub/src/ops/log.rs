//! The logs: `tracing` events, as text for people or JSON for collectors (`--log-format`),
//! filtered by `--log` (tracing's `EnvFilter` syntax).
//!
//! Nothing the hub logs carries a token: request lines name the path, never the query (where
//! 0.x clients may put `authorization=`), and no header is logged.

use tracing_subscriber::EnvFilter;

use crate::args::LogFormat;

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// `--log` is not a valid filter.
    #[error("--log: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber was set already.
    #[error("a logger is already installed")]
    Installed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Installs the global logger (to standard error).
///
/// # Errors
/// [`LogError`].
pub fn init(format: LogFormat, filter: &str) -> Result<(), LogError> {
    let filter = EnvFilter::try_new(filter)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.map_err(LogError::Installed)
}
