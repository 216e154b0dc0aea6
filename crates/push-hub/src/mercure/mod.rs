//! The Mercure protocol (both revisions) over the broker's own model.

mod config;
mod cors;
mod form;
mod head;
mod query;
mod revision_tmp;
mod text;

pub use config::{DEFAULT_HEARTBEAT, DEFAULT_MAX_BODY, DEFAULT_MAX_ID_LEN, MercureConfig};
pub use form::{FormError, RESERVED, Update, is_reserved, parse_publish};
pub use head::{LAST_EVENT_ID, MERCURE_LAST_EVENT_ID, stream_head};
pub use query::{MAX_SELECTOR_PARAMS, MatchType, Matcher, QueryError, SubscribeQuery, parse_subscribe};
pub use revision_tmp::Revision;
