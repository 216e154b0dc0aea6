//! The authorizer: a request head in, a [`Subscriber`] or [`Publisher`] (or the reason why not)
//! out.

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::HOST;
use http::request::Parts;
use push_core::{Access, Error, Pattern, Selector, Topic};
use serde_json::Value;

use super::claims::{self, Checks, Grants};
use super::error::{AuthError, Reason, Role};
use super::extract::{self, Source};
use super::jws;
use super::keys::{ConfigError, KeyRing};
use super::{AuthConfig, Revision};

/// Verifies the tokens of requests against the configured keys (see the [module](super)).
#[derive(Debug)]
pub struct Authorizer {
    publisher: KeyRing,
    subscriber: KeyRing,
    config: AuthConfig,
}

/// An authorized subscriber: what it may receive, and the token's payload.
#[derive(Clone, Debug)]
pub struct Subscriber {
    private: Option<Selector>,
    until: Option<Instant>,
    payload: Option<Value>,
    revision: Revision,
    anonymous: bool,
}

impl Subscriber {
    /// The access to open its subscription with: private updates on the topics its token's
    /// subscribe selectors match, until the token's `exp`.
    pub fn access(&self) -> Access {
        let mut access = Access::public();
        if let Some(private) = &self.private {
            access = access.with_private(private.clone());
        }
        if let Some(until) = self.until {
            access = access.with_until(until);
        }
        access
    }

    /// The token's `payload` (draft-07 `mercure.payload`, 1.0 a subscribe detail's
    /// `payload`), shown in subscription events.
    pub fn payload(&self) -> Option<&Value> {
        self.payload.as_ref()
    }

    /// The revision of the request.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// Whether the subscriber came without a token (anonymous: public updates only).
    pub fn is_anonymous(&self) -> bool {
        self.anonymous
    }
}

/// An authorized publisher: the topics its token lets it publish to.
#[derive(Clone, Debug)]
pub struct Publisher {
    publish: Vec<Pattern>,
    revision: Revision,
}

impl Publisher {
    /// Whether the token allows publishing to every one of `topics` (the canonical topic and
    /// its alternates): Mercure sends an update only when all of them are allowed.
    ///
    /// # Errors
    /// [`Reason::CannotPublish`] for a token without publish selectors,
    /// [`Reason::TopicNotAllowed`] naming the first topic none of them matches.
    pub fn check(&self, topics: &[Topic]) -> Result<(), AuthError> {
        if self.publish.is_empty() {
            return Err(AuthError::new(Reason::CannotPublish, self.revision));
        }
        match topics
            .iter()
            .find(|t| !self.publish.iter().any(|p| p.matches(t)))
        {
            None => Ok(()),
            Some(topic) => Err(AuthError::new(
                Reason::TopicNotAllowed(topic.as_str().to_owned()),
                self.revision,
            )),
        }
    }

    /// The revision of the request.
    pub fn revision(&self) -> Revision {
        self.revision
    }
}

impl Authorizer {
    /// Parses every key of `config`.
    ///
    /// # Errors
    /// A [`ConfigError`] for a key that cannot verify anything (an empty secret, a PEM key
    /// named with an HMAC algorithm, a PEM that is not a public key of its algorithm's family,
    /// a key id used twice).
    pub fn new(config: AuthConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            publisher: KeyRing::new(Role::Publisher, &config.publisher)?,
            subscriber: KeyRing::new(Role::Subscriber, &config.subscriber)?,
            config,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Authorizes a subscriber: its token, or anonymous access when allowed and no token is
    /// presented (a token that is present but invalid is refused even then).
    ///
    /// # Errors
    /// An [`AuthError`] saying what was wrong, answered in the request's [`Revision`].
    pub fn subscriber(&self, request: &Parts) -> Result<Subscriber, AuthError> {
        self.subscriber_at(request, SystemTime::now())
    }

    /// [`subscriber`](Self::subscriber) at the wall-clock time `now`.
    pub(crate) fn subscriber_at(
        &self,
        request: &Parts,
        now: SystemTime,
    ) -> Result<Subscriber, AuthError> {
        let revision = Revision::of(request);
        let fail = |reason| AuthError::new(reason, revision);
        let presented =
            extract::presented(request, revision, &self.config.cookie_name).map_err(fail)?;
        let Some((token, _)) = presented else {
            return if self.config.anonymous {
                Ok(Subscriber {
                    private: None,
                    until: None,
                    payload: None,
                    revision,
                    anonymous: true,
                })
            } else {
                Err(fail(Reason::Missing))
            };
        };
        let grants = self.verify(&self.subscriber, &token, request, revision, now)?;
        let private = match grants.subscribe.len() {
            0 => None,
            _ => Some(
                private_selector(grants.subscribe, self.config.max_grant_selectors)
                    .map_err(fail)?,
            ),
        };
        Ok(Subscriber {
            private,
            until: grants.exp.and_then(|exp| deadline(exp, now)),
            payload: grants.payload,
            revision,
            anonymous: false,
        })
    }

    /// Authorizes a publisher. A token presented in a cookie also needs the request's
    /// `Origin` (or `Referer`'s origin) among the allowed publish origins: a browser sends the
    /// cookie with a forged cross-site form too.
    ///
    /// # Errors
    /// An [`AuthError`] saying what was wrong, answered in the request's [`Revision`].
    pub fn publisher(&self, request: &Parts) -> Result<Publisher, AuthError> {
        self.publisher_at(request, SystemTime::now())
    }

    /// [`publisher`](Self::publisher) at the wall-clock time `now`.
    pub(crate) fn publisher_at(
        &self,
        request: &Parts,
        now: SystemTime,
    ) -> Result<Publisher, AuthError> {
        let revision = Revision::of(request);
        let fail = |reason| AuthError::new(reason, revision);
        let presented =
            extract::presented(request, revision, &self.config.cookie_name).map_err(fail)?;
        let Some((token, source)) = presented else {
            return Err(fail(Reason::Missing));
        };
        if source == Source::Cookie {
            extract::check_origin(request, &self.config.publish_origins).map_err(fail)?;
        }
        let grants = self.verify(&self.publisher, &token, request, revision, now)?;
        Ok(Publisher {
            publish: grants.publish,
            revision,
        })
    }

    /// The grants of `token`, verified with `keys`.
    fn verify(
        &self,
        keys: &KeyRing,
        token: &str,
        request: &Parts,
        revision: Revision,
        now: SystemTime,
    ) -> Result<Grants, AuthError> {
        let fail = |reason| AuthError::new(reason, revision);
        let max = self.config.max_token_len;
        if token.len() > max {
            return Err(fail(Reason::TooLong {
                len: token.len(),
                max,
            }));
        }
        if keys.is_empty() {
            return Err(fail(Reason::NoKey(keys.role())));
        }
        let header = jws::read_header(token).map_err(fail)?;
        let claims = keys.verify(token, &header, revision)?;
        let derived;
        let audience = if self.config.audience.is_empty() {
            derived = hub_urls(request);
            &derived[..]
        } else {
            &self.config.audience[..]
        };
        let checks = Checks {
            now: now
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            leeway: self.config.leeway.as_secs_f64(),
            issuers: &self.config.issuers,
            audience,
        };
        claims::grants(claims, header.access_token, &checks).map_err(fail)
    }
}

/// The private grant of a subscribe claim, of at most `limit` distinct selectors
/// ([`AuthConfig::max_grant_selectors`](super::AuthConfig::max_grant_selectors)): a claim
/// that names `*` is every topic whatever else it names; past the limit otherwise, the token is
/// refused with a message that says so.
fn private_selector(patterns: Vec<Pattern>, limit: usize) -> Result<Selector, Reason> {
    if patterns.contains(&Pattern::All) {
        return Ok(Selector::all());
    }
    let count = patterns.len();
    Selector::with_limit(patterns, limit).map_err(|e| match e {
        Error::SelectorTooLarge => Reason::InvalidClaims(Cow::Owned(format!(
            "the subscribe claim names {count} selectors; this hub grants at most {limit} \
             distinct ones to a subscription (--max-grant-selectors)"
        ))),
        other => Reason::InvalidClaims(Cow::Owned(format!("the subscribe claim: {other}"))),
    })
}

/// The instant of the Unix time `exp`, seen from `now`; `None` when it is too far away to
/// represent (a token that never expires in practice).
fn deadline(exp: f64, now: SystemTime) -> Option<Instant> {
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let left = Duration::try_from_secs_f64((exp - now_secs).max(0.0)).ok()?;
    Instant::now().checked_add(left)
}

/// The hub URLs a 1.0 token's audience may name when none is configured: the request's
/// authority (`Host`, or the URI's for HTTP/2) under both schemes.
fn hub_urls(request: &Parts) -> Vec<String> {
    let host = request
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            request
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
    match host {
        Some(host) => ["https", "http"]
            .map(|scheme| format!("{scheme}://{host}/.well-known/mercure"))
            .into(),
        None => Vec::new(),
    }
}
