//! Why a request was not authorized, and how each revision answers it.

use core::fmt;
use std::borrow::Cow;

use http::header::{CACHE_CONTROL, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use push_http::Refusal;

use super::Revision;

/// Which role a token was presented for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `POST /.well-known/mercure`.
    Publisher,
    /// Every subscribing transport.
    Subscriber,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Publisher => "publisher",
            Self::Subscriber => "subscriber",
        })
    }
}

/// What exactly was wrong. Every message names the fault and never the token.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// A token was presented, but no key is configured to verify tokens for this role.
    NoKey(Role),
    /// No token, and the request needs one.
    Missing,
    /// The token is longer than the configured limit.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The token is not a well-formed JWS: what is wrong with it.
    Malformed(Cow<'static, str>),
    /// The token's header asks for something the hub never does (`alg: none`, a key or a key
    /// URL in the header, critical extensions).
    Unsupported(Cow<'static, str>),
    /// The token's algorithm is not the one of any key it could be verified with.
    WrongAlg {
        /// The token's `alg`.
        token: String,
        /// The algorithms of the keys it was matched against.
        expected: String,
    },
    /// The token names a key id (`kid`) that no configured key has.
    UnknownKid,
    /// The signature does not verify with the key(s) the token selects.
    BadSignature,
    /// The token's `exp` is past.
    Expired,
    /// The token's `nbf` is still to come.
    NotYetValid,
    /// The claims are not what either revision defines: what is wrong with them.
    InvalidClaims(Cow<'static, str>),
    /// The token grants no publishing at all.
    CannotPublish,
    /// The token's publish selectors do not match this topic.
    TopicNotAllowed(String),
    /// A cookie-authenticated publish from an origin that is not allowed (CSRF).
    BadOrigin(Cow<'static, str>),
    /// The token is presented in a way the request's revision does not allow.
    InvalidRequest(Cow<'static, str>),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoKey(role) => write!(
                f,
                "no {role} key is configured on this hub, so no {role} token can be verified"
            ),
            Self::Missing => f.write_str(
                "no token: send it as `Authorization: Bearer <token>`, in the cookie, or \
                 (0.x) as the `authorization` query parameter",
            ),
            Self::TooLong { len, max } => {
                write!(
                    f,
                    "the token is {len} bytes long, more than the hub's limit of {max}"
                )
            }
            Self::Malformed(what) => write!(f, "the token is malformed: {what}"),
            Self::Unsupported(what) => write!(f, "the token is refused: {what}"),
            Self::WrongAlg { token, expected } => write!(
                f,
                "the token is signed with {token}, but the hub's key expects {expected}"
            ),
            Self::UnknownKid => f.write_str("the token's key id (kid) names no configured key"),
            Self::BadSignature => {
                f.write_str("the token's signature does not verify with the hub's key")
            }
            Self::Expired => f.write_str("the token has expired (exp)"),
            Self::NotYetValid => f.write_str("the token is not valid yet (nbf)"),
            Self::InvalidClaims(what) => write!(f, "the token's claims are invalid: {what}"),
            Self::CannotPublish => f.write_str("the token grants no publishing (mercure.publish)"),
            Self::TopicNotAllowed(topic) => write!(
                f,
                "the token's publish selectors do not allow the topic {topic:?}"
            ),
            Self::BadOrigin(what) => write!(f, "a cookie-authenticated publish {what}"),
            Self::InvalidRequest(what) => f.write_str(what),
        }
    }
}

/// A request the authorizer turned down: the [`Reason`] and the revision to answer in.
///
/// ```
/// use http::StatusCode;
/// use push_hub::auth::{AuthError, Reason, Revision};
///
/// let v0 = AuthError::new(Reason::Expired, Revision::V0).into_refusal();
/// assert_eq!(v0.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(v0.message(), "the token has expired (exp)");
///
/// let v1 = AuthError::new(Reason::Expired, Revision::V1).into_refusal();
/// assert!(v1.headers()["www-authenticate"].to_str().unwrap().contains(r#"error="invalid_token""#));
/// ```
#[derive(Debug)]
pub struct AuthError {
    reason: Reason,
    revision: Revision,
    source: Option<jsonwebtoken::errors::Error>,
}

impl AuthError {
    /// An error for `reason`, answered as `revision` answers.
    pub fn new(reason: Reason, revision: Revision) -> Self {
        Self {
            reason,
            revision,
            source: None,
        }
    }

    pub(crate) fn with_source(mut self, source: jsonwebtoken::errors::Error) -> Self {
        self.source = Some(source);
        self
    }

    /// What was wrong.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }

    /// The revision of the request, which decides the answer.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The status the request's revision answers with: 0.x answers every failure 401, as
    /// Mercure's hub does; 1.0 follows RFC 6750 (400 for a malformed presentation, 403 for a
    /// valid token without the grant, 401 for the rest).
    pub fn status(&self) -> StatusCode {
        self.status_in(self.revision)
    }

    fn status_in(&self, revision: Revision) -> StatusCode {
        match (revision, &self.reason) {
            (Revision::V0, _) => StatusCode::UNAUTHORIZED,
            (Revision::V1, Reason::InvalidRequest(_)) => StatusCode::BAD_REQUEST,
            (
                Revision::V1,
                Reason::CannotPublish | Reason::TopicNotAllowed(_) | Reason::BadOrigin(_),
            ) => StatusCode::FORBIDDEN,
            (Revision::V1, _) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `WWW-Authenticate` challenge of the answer in `revision` (RFC 6750 §3).
    fn challenge(&self, revision: Revision) -> Option<String> {
        let error = match (revision, &self.reason) {
            (Revision::V0, _) | (Revision::V1, Reason::Missing) => return Some("Bearer".into()),
            (Revision::V1, Reason::BadOrigin(_)) => return None,
            (Revision::V1, Reason::InvalidRequest(_)) => "invalid_request",
            (Revision::V1, Reason::CannotPublish | Reason::TopicNotAllowed(_)) => {
                "insufficient_scope"
            }
            (Revision::V1, _) => "invalid_token",
        };
        // The description is our own text; quotes and backslashes are left out so it stays
        // one quoted-string.
        let description: String = self
            .reason
            .to_string()
            .chars()
            .filter(|c| *c != '"' && *c != '\\' && (' '..='~').contains(c))
            .collect();
        Some(format!(
            r#"Bearer error="{error}", error_description="{description}""#
        ))
    }

    /// The answer as a push-http [`Refusal`], in the request's revision: what the `/ws` and
    /// `/poll` hooks return.
    pub fn into_refusal(self) -> Refusal {
        let revision = self.revision;
        self.into_refusal_in(revision)
    }

    /// The answer as a [`Refusal`] in `revision` (a caller that decided the revision itself).
    pub fn into_refusal_in(self, revision: Revision) -> Refusal {
        let mut refusal = Refusal::new(self.status_in(revision), self.reason.to_string());
        if let Some(value) = self
            .challenge(revision)
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            refusal = refusal.with_header(WWW_AUTHENTICATE, value);
        }
        refusal.with_header(CACHE_CONTROL, HeaderValue::from_static("no-store"))
    }

    /// The response in `revision`: `text/plain` with the message, the status and the
    /// challenge (0.x: 401; 1.0: RFC 6750).
    pub fn into_response(self, revision: Revision) -> Response<String> {
        self.into_refusal_in(revision).into_response()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.reason, f)
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<AuthError> for Refusal {
    fn from(error: AuthError) -> Self {
        error.into_refusal()
    }
}
