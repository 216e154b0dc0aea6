//! A refused WebSocket upgrade: the status and reason sent to the client.

use core::fmt;

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};

/// A refused upgrade: the status to answer with (403 for the Origin policy, 400 for a malformed
/// upgrade) and a short reason, also sent as the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    reason: &'static str,
}

impl Refusal {
    pub(crate) const fn new(status: StatusCode, reason: &'static str) -> Self {
        Self { status, reason }
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Why the upgrade was refused.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The refusal as a response with the reason as a plain-text body.
    pub fn response(&self) -> Response<String> {
        let mut response = Response::new(format!("{}\n", self.reason));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_response_carries_status_and_reason() {
        let refusal = Refusal::new(StatusCode::FORBIDDEN, "origin not allowed");
        let response = refusal.response();
        assert_eq!(response.status(), 403);
        assert_eq!(response.body(), "origin not allowed\n");
        assert_eq!(refusal.to_string(), "403 origin not allowed");
    }
}
