//! RFC 8030 §5–8: what a push service's answer means for the message and the subscription.
//!
//! | status | meaning | [`Outcome`] |
//! |---|---|---|
//! | 2xx (201) | accepted | `Delivered` |
//! | 404, 410 | the subscription is gone: remove it | `Gone` |
//! | 413 | the body is too large | `TooLarge` |
//! | 429, 5xx | try again, after `Retry-After` when given | `Retry` |
//! | anything else (400, 401, 403, …) | refused; retrying the same request will not help | `Rejected` |

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};

/// The longest `Retry-After` taken from a push service (a day): a larger value, or a date
/// further out, is cut to it, so a hostile or broken answer cannot park a message forever.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// What a push service's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The push service took the message.
    Delivered,
    /// The subscription no longer exists (404, 410): remove it, never send to it again.
    Gone,
    /// The body is larger than the push service accepts (413).
    TooLarge,
    /// Overloaded or failing (429, 5xx): try again, not before `after` when the service said.
    Retry {
        /// `Retry-After`, as a delay from now, at most [`MAX_RETRY_AFTER`].
        after: Option<Duration>,
    },
    /// Refused for good (a bad VAPID token, a malformed request, …).
    Rejected(StatusCode),
}

impl Outcome {
    /// Classifies a push service's answer; `now` turns a `Retry-After` date into a delay.
    pub fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Self {
        match status.as_u16() {
            200..=299 => Self::Delivered,
            404 | 410 => Self::Gone,
            413 => Self::TooLarge,
            429 | 500..=599 => Self::Retry {
                after: retry_after(headers, now),
            },
            _ => Self::Rejected(status),
        }
    }
}

/// `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date; anything else is ignored.
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let delay = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Saturates: a value beyond u64 is "very long", cut below.
        Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = httpdate::parse_http_date(text).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, retry_after: Option<&str>) -> Outcome {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, value.parse().unwrap());
        }
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        Outcome::classify(StatusCode::from_u16(status).unwrap(), &headers, now)
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(classify(201, None), Outcome::Delivered);
        assert_eq!(classify(202, None), Outcome::Delivered);
        assert_eq!(classify(404, None), Outcome::Gone);
        assert_eq!(classify(410, None), Outcome::Gone);
        assert_eq!(classify(413, None), Outcome::TooLarge);
        assert_eq!(classify(429, None), Outcome::Retry { after: None });
        assert_eq!(classify(503, None), Outcome::Retry { after: None });
        for status in [301, 400, 401, 403, 418] {
            assert_eq!(
                classify(status, None),
                Outcome::Rejected(StatusCode::from_u16(status).unwrap())
            );
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date_and_is_bounded() {
        let after = |v| match classify(429, Some(v)) {
            Outcome::Retry { after } => after,
            other => panic!("{other:?}"),
        };
        assert_eq!(after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            after("Sun, 06 Nov 1994 08:50:07 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(after("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(after("99999999999999999999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(
            after("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(after("-5"), None);
        assert_eq!(after("soon"), None);
        assert_eq!(after(""), None);
    }
}
