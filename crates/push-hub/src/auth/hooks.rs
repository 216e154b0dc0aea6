//! The push-http request hooks of the hub's `/ws` and `/poll` endpoints: Mercure's selectors
//! from the query, access from the Mercure token.

use std::sync::Arc;

use http::StatusCode;
use http::request::Parts;
use push_core::{Access, Error, Pattern, Selector, Topic};
use push_http::query::{MAX_QUERY_TOPIC_PARAMS, Pair, Query, form_decode, pairs};
use push_http::{Hooks, Refusal};

use super::Authorizer;
use crate::mercure::{hub_url, url_pattern};

/// [`Hooks`] for the hub's other transports: the topics of a request are its `topic`
/// selectors (draft-07: `*`, URI templates, exact topics) and the 1.0 `match` / `match_exact`
/// / `match_urlpattern` ones; its access is its Mercure token's, as on `/.well-known/mercure`.
///
/// ```
/// use std::sync::Arc;
/// use push_http::Hooks;
/// use push_http::query::Query;
/// use push_hub::auth::{AuthConfig, Authorizer, HubHooks};
///
/// let config = AuthConfig { anonymous: true, ..AuthConfig::default() };
/// let hooks = HubHooks::new(Arc::new(Authorizer::new(config).unwrap()));
/// let (parts, ()) = http::Request::get("/poll?topic=/books/{id}&match=news")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let selector = hooks.topics(&parts, &Query::of(&parts.uri)).unwrap();
/// assert_eq!(selector.patterns().len(), 2);
/// ```
#[derive(Clone, Debug)]
pub struct HubHooks {
    authorizer: Arc<Authorizer>,
    public_url: Option<url::Url>,
}

impl HubHooks {
    /// Hooks that authorize with `authorizer`.
    pub fn new(authorizer: Arc<Authorizer>) -> Self {
        Self {
            authorizer,
            public_url: None,
        }
    }

    /// The hub's public URL, which relative `match_urlpattern` values resolve against, as on
    /// `/.well-known/mercure` (without one: the request's `Host` and the hub's path).
    pub fn with_public_url(mut self, url: Option<url::Url>) -> Self {
        self.public_url = url;
        self
    }

    /// The authorizer.
    pub fn authorizer(&self) -> &Arc<Authorizer> {
        &self.authorizer
    }
}

/// The selector of a subscribe query: every `topic`, `match`, `match_exact` and
/// `match_urlpattern` parameter (a URL pattern must be absolute here; [`HubHooks`] resolves a
/// relative one against the hub's URL).
///
/// # Errors
/// [`Error::SelectorEmpty`] without any (a WebSocket may subscribe later),
/// [`Error::QueryInvalid`] for a value that does not decode, [`Error::SelectorTooLarge`] past
/// [`MAX_QUERY_TOPIC_PARAMS`] parameters, a topic or pattern error for a value that is not
/// one; a refusal (400) for another `match…` parameter, a name 1.0 reserves.
pub fn selector_from_query(query: &[u8]) -> Result<Selector, Refusal> {
    selector_from_pairs(pairs(query), || None)
}

/// [`selector_from_query`] over parameters already split; `base` gives the URL relative URL
/// patterns resolve against (asked for at the first one).
fn selector_from_pairs<'q>(
    pairs: impl Iterator<Item = Pair<'q>>,
    base: impl FnOnce() -> Option<url::Url>,
) -> Result<Selector, Refusal> {
    let base = std::cell::LazyCell::new(base);
    let mut patterns = Vec::new();
    for pair in pairs {
        let Some(name) = pair.name.as_deref() else {
            continue;
        };
        let kind = match name {
            "topic" => Kind::Topic,
            "match" | "match_exact" => Kind::Exact,
            "match_urlpattern" => Kind::UrlPattern,
            other if other.starts_with("match") => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "unknown match parameter: 1.0 defines match, match_exact and match_urlpattern",
                ));
            }
            _ => continue,
        };
        if patterns.len() == MAX_QUERY_TOPIC_PARAMS {
            return Err(Error::SelectorTooLarge.into());
        }
        let value = form_decode(pair.value).ok_or(Error::QueryInvalid)?;
        patterns.push(match kind {
            Kind::Topic => Pattern::parse(&value)?,
            Kind::Exact if value == "*" => Pattern::All,
            Kind::Exact => Pattern::Exact(Topic::new(&value)?),
            Kind::UrlPattern => url_pattern(&value, base.as_ref())?,
        });
    }
    Ok(Selector::new(patterns)?)
}

enum Kind {
    Topic,
    Exact,
    UrlPattern,
}

impl Hooks for HubHooks {
    fn topics(&self, request: &Parts, query: &Query<'_>) -> Result<Selector, Refusal> {
        selector_from_pairs(query.iter(), || hub_url(self.public_url.as_ref(), request))
    }

    fn authorize(
        &self,
        request: &Parts,
        _selector: &Selector,
    ) -> impl Future<Output = Result<Access, Refusal>> + Send {
        // Verification is CPU work on the head alone: done now, the future is ready.
        let result = self
            .authorizer
            .subscriber(request)
            .map(|s| s.access())
            .map_err(|e| e.into_refusal());
        core::future::ready(result)
    }

    /// A login (STOMP's `CONNECT`) is good when its token would let it subscribe or publish:
    /// a bad, expired or wrongly signed token, or none where anonymous subscribers are not
    /// allowed, is refused at once with the subscriber check's answer.
    fn authenticate(&self, request: &Parts) -> impl Future<Output = Result<(), Refusal>> + Send {
        let result = match self.authorizer.subscriber(request) {
            Ok(_) => Ok(()),
            Err(refused) => match self.authorizer.publisher(request) {
                Ok(_) => Ok(()),
                Err(_) => Err(refused.into_refusal()),
            },
        };
        core::future::ready(result)
    }
}

/// `SEND` over STOMP is a publish: the connection's token (the `CONNECT` frame's, or the
/// upgrade request's) must be a publisher's whose selectors allow the topic, as for a Mercure
/// publish.
impl push_stomp::Publish for HubHooks {
    fn authorize_send(
        &self,
        request: &Parts,
        topic: &Topic,
    ) -> impl Future<Output = Result<(), Refusal>> + Send {
        // Verification is CPU work on the head alone: done now, the future is ready.
        let result = self
            .authorizer
            .publisher(request)
            .and_then(|publisher| publisher.check(core::slice::from_ref(topic)))
            .map_err(|e| e.into_refusal());
        core::future::ready(result)
    }
}
