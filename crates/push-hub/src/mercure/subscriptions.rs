//! Active subscriptions (mercure.md §7, opt-in): the subscription events the hub publishes when
//! a subscriber connects and disconnects, and the API that lists who is connected.
//!
//! Each connection gets a subscriber id (`urn:uuid:` and a random UUID, assigned by the hub,
//! never taken from the client) and, per selector it named, a subscription topic in the
//! reserved namespace (so no publisher can forge one):
//! - 0.x: `/.well-known/mercure/subscriptions/{selector}/{subscriber}`, a JSON-LD document;
//! - 1.0: `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}`, JSON, SSE
//!   `event: mercure`;
//!
//! each variable percent-encoded once. The events are **private** updates on that topic:
//! reading them needs a token whose subscribe selectors match it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH, LINK};
use http::request::Parts;
use http::{Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use push_core::{Audience, Broker, Event, Topic};
use serde_json::{Value, json};

use super::query::{MatchType, Matcher};
use super::resume::generate_id;
use super::subscribe::Checked;
use super::{HUB_PATH, Revision};
use crate::auth::Authorizer;

/// The subscriptions collection's path.
const COLLECTION: &str = "/.well-known/mercure/subscriptions";

/// What a path variable keeps unescaped: RFC 3986's unreserved characters (Go's
/// `url.QueryEscape` also keeps these; it writes a space as `+`, we as `%20`).
const VARIABLE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The connected subscribers, by subscriber id.
#[derive(Debug, Default)]
pub(super) struct Registry {
    active: Arc<Mutex<HashMap<Arc<str>, Arc<Entry>>>>,
}

/// One connected subscriber.
#[derive(Debug)]
struct Entry {
    subscriber: Arc<str>,
    revision: Revision,
    matchers: Vec<Matcher>,
    payload: Option<Value>,
}

impl Entry {
    /// The subscription topic of one of its matchers.
    fn topic(&self, matcher: &Matcher) -> String {
        let enc = |s: &str| utf8_percent_encode(s, VARIABLE).to_string();
        match self.revision {
            Revision::V0 => format!(
                "{COLLECTION}/{}/{}",
                enc(&matcher.text),
                enc(&self.subscriber)
            ),
            Revision::V1 => format!(
                "{COLLECTION}/{}/{}/{}",
                v1_type(matcher.kind),
                enc(&matcher.text),
                enc(&self.subscriber)
            ),
        }
    }

    /// The document of one of its subscriptions (the event's data and the API's item).
    fn document(&self, matcher: &Matcher, active: bool) -> Value {
        let id = self.topic(matcher);
        let payload = self.payload.clone().unwrap_or(Value::Null);
        match self.revision {
            Revision::V0 => json!({
                "@context": "https://mercure.rocks/",
                "id": id,
                "type": "Subscription",
                "topic": matcher.text,
                "subscriber": &*self.subscriber,
                "active": active,
                "payload": payload,
            }),
            Revision::V1 => json!({
                "id": id,
                "type": "subscription",
                "match_type": v1_type(matcher.kind),
                "match": matcher.text,
                "subscriber": &*self.subscriber,
                "active": active,
                "payload": payload,
            }),
        }
    }
}

/// A 0.x `topic` selector reported in a 1.0 document: exact when it is one.
fn v1_type(kind: MatchType) -> &'static str {
    match kind {
        MatchType::UrlPattern => "urlpattern",
        MatchType::Topic | MatchType::Exact => "exact",
    }
}

/// Held by a connected subscriber's stream: dropping it says the subscriber left.
pub(super) struct Connected<B: Broker + Clone> {
    broker: B,
    entry: Arc<Entry>,
    active: Arc<Mutex<HashMap<Arc<str>, Arc<Entry>>>>,
    announced: Option<tokio::task::JoinHandle<()>>,
}

impl<B: Broker + Clone> Drop for Connected<B> {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.entry.subscriber);
        let broker = self.broker.clone();
        let entry = Arc::clone(&self.entry);
        let announced = self.announced.take();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                // After the connect event, never before it: a reader sees them in order.
                if let Some(announced) = announced {
                    let _ = announced.await;
                }
                announce(&broker, &entry, false).await;
            });
        }
    }
}

/// Publishes one subscription event per selector of `entry`: private, on its subscription
/// topic, `event: mercure` in 1.0. A selector too long to make a topic of is not announced
/// (the topic could not exist).
async fn announce<B: Broker>(broker: &B, entry: &Entry, active: bool) {
    for matcher in &entry.matchers {
        let Ok(topic) = Topic::new(&entry.topic(matcher)) else {
            continue;
        };
        let mut event = Event::new(entry.document(matcher, active).to_string())
            .with_audience(Audience::Private)
            .with_id(generate_id());
        if entry.revision == Revision::V1 {
            event = event.with_event("mercure");
        }
        // A broker that refuses (closed, at its topic limit) loses only this notice; the
        // subscription itself is unaffected.
        let _ = broker.publish(&[topic], event).await;
    }
}

impl Registry {
    /// Registers a subscriber that passed the checks and announces it; the guard its stream
    /// holds until it leaves.
    pub(super) fn connect<B: Broker + Clone>(&self, broker: &B, checked: &Checked) -> Connected<B> {
        let entry = Arc::new(Entry {
            subscriber: generate_id().into(),
            revision: checked.revision,
            matchers: checked.query.matchers.clone(),
            payload: checked.subscriber.payload().cloned(),
        });
        self.active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(Arc::clone(&entry.subscriber), Arc::clone(&entry));
        let announced = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let broker = broker.clone();
            let entry = Arc::clone(&entry);
            runtime.spawn(async move { announce(&broker, &entry, true).await })
        });
        Connected {
            broker: broker.clone(),
            entry,
            active: Arc::clone(&self.active),
            announced,
        }
    }

    /// Answers `GET /.well-known/mercure/subscriptions[/…]` (see [`answer_for`]).
    pub(super) fn answer<B: Broker>(
        &self,
        broker: &B,
        authorizer: &Authorizer,
        request: &Parts,
    ) -> Response<String> {
        let entries: Vec<Arc<Entry>> = self
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let head = broker.head();
        let last = if head.offset() == 0 {
            "earliest".to_owned()
        } else {
            head.to_string()
        };
        answer_for(&entries, &last, authorizer, request)
    }
}

/// The API's answer over `entries` with `last` as the cursor to subscribe to the events from.
///
/// The request's path must be one the token may subscribe to (0.x: else 401; 1.0: 403). The
/// collection, a filter by selector (0.x `/{selector}`, 1.0 `/{match_type}/{match}`) or one
/// subscription (with the subscriber id; 404 when not connected), each subscription shown in
/// the request's revision. `If-None-Match` equal to the cursor is a `304`.
fn answer_for(
    entries: &[Arc<Entry>],
    last: &str,
    authorizer: &Authorizer,
    request: &Parts,
) -> Response<String> {
    let revision = Revision::of(request);
    let subscriber = match authorizer.subscriber(request) {
        Ok(subscriber) => subscriber,
        Err(e) => return e.into_response(revision),
    };
    let path = request.uri.path();
    let allowed = Topic::new(path).is_ok_and(|t| subscriber.access().grants(&[t]));
    if !allowed {
        let status = match revision {
            Revision::V0 => StatusCode::UNAUTHORIZED,
            Revision::V1 => StatusCode::FORBIDDEN,
        };
        return push_http::head::text_response(
            status,
            format_args!("the token's subscribe selectors do not match {path}"),
        );
    }
    let Some(asked) = segments(path) else {
        return push_http::head::text_response(
            StatusCode::NOT_FOUND,
            "no such subscription resource",
        );
    };
    let full = match revision {
        Revision::V0 => 2,
        Revision::V1 => 3,
    };
    if asked.len() > full {
        return push_http::head::text_response(
            StatusCode::NOT_FOUND,
            "no such subscription resource",
        );
    }
    let mut found = Vec::new();
    for entry in entries {
        let view = Entry {
            subscriber: Arc::clone(&entry.subscriber),
            revision,
            matchers: Vec::new(),
            payload: entry.payload.clone(),
        };
        for matcher in &entry.matchers {
            let own = segments(&view.topic(matcher)).unwrap_or_default();
            if own.starts_with(&asked) {
                found.push(view.document(matcher, true));
            }
        }
    }
    let etag = match revision {
        Revision::V0 => last.to_owned(),
        Revision::V1 => format!("\"{last}\""),
    };
    let unchanged = request
        .headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == etag || v.trim().trim_matches('"') == last);
    let body = if unchanged {
        None
    } else if asked.len() == full {
        let Some(mut one) = found.pop() else {
            return push_http::head::text_response(
                StatusCode::NOT_FOUND,
                "no such active subscription",
            );
        };
        if revision == Revision::V0 {
            one["lastEventID"] = Value::from(last);
        }
        Some(one)
    } else {
        Some(match revision {
            Revision::V0 => json!({
                "@context": "https://mercure.rocks/",
                "id": path,
                "type": "Subscriptions",
                "lastEventID": last,
                "subscriptions": found,
            }),
            Revision::V1 => json!({
                "id": path,
                "type": "subscriptions",
                "subscriptions": found,
            }),
        })
    };
    let mut response = Response::new(body.as_ref().map_or_else(String::new, Value::to_string));
    if body.is_none() {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let headers = response.headers_mut();
    let (content_type, cache) = match revision {
        Revision::V0 => ("application/ld+json", None),
        Revision::V1 => ("application/json", Some("must-revalidate")),
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(cache) = cache {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    if revision == Revision::V1
        && let Ok(link) = HeaderValue::from_str(&format!(
            "<{HUB_PATH}>; rel=\"mercure\"; last-event-id=\"{last}\"; type=\"mercure\"; content-type=\"application/json\""
        ))
    {
        headers.insert(LINK, link);
    }
    response
}

/// The decoded path segments after the collection's path; `None` for a path outside it or a
/// segment that does not decode to UTF-8.
fn segments(path: &str) -> Option<Vec<String>> {
    let rest = path.strip_prefix(COLLECTION)?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    rest.strip_prefix('/')?
        .split('/')
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        })
        .collect()
}

#[cfg(test)]
#[path = "subscriptions_tests.rs"]
mod tests;
