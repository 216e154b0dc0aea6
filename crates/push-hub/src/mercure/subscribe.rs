//! `GET /.well-known/mercure`: everything up to the first byte of the event stream.

use http::request::Parts;
use http::{StatusCode, response};
use push_core::{Access, Broker};
use push_http::HttpStatus as _;
use push_sse::server::{Body, EventStream};

use super::query::{SubscribeQuery, parse_subscribe};
use super::resume::{Resume, resume};
use super::{Answer, Mercure, Revision, text_answer};
use crate::auth::Subscriber;

/// A subscribe request that passed every check, before its subscription is opened (what a
/// `HEAD` stops at).
pub(super) struct Checked {
    pub(super) revision: Revision,
    pub(super) query: SubscribeQuery,
    pub(super) subscriber: Subscriber,
    pub(super) access: Access,
    pub(super) resume: Resume,
}

impl<B: Broker + Clone> Mercure<B> {
    /// Everything a `GET /.well-known/mercure` needs up to the first byte: reads the query,
    /// authorizes the subscriber, resolves the cursor, opens the subscription. The head and the
    /// [`EventStream`] to drive, or the complete answer when the request is refused (400 for a
    /// malformed query, the revision's 401 / 403 for authorization, 503 when the broker is
    /// full or closed).
    ///
    /// Used by the tower service and by the lean HTTP/1.1 path: the one SSE state type.
    ///
    /// # Errors
    /// The refusal, as a complete response (CORS headers included).
    #[allow(clippy::result_large_err)] // the error is the response itself, built once
    pub fn subscribe(
        &self,
        request: &Parts,
    ) -> Result<(response::Parts, EventStream<B::Subscription>), Answer<B>> {
        let query = request.uri.query().unwrap_or("");
        self.subscribe_with(request, query.as_bytes())
    }

    /// [`subscribe`](Self::subscribe) with the subscribe parameters `params` (a
    /// form-urlencoded string): the URL's query for `GET`, the query and the body joined for
    /// 1.0's `QUERY`.
    #[allow(clippy::result_large_err)]
    pub(super) fn subscribe_with(
        &self,
        request: &Parts,
        params: &[u8],
    ) -> Result<(response::Parts, EventStream<B::Subscription>), Answer<B>> {
        let checked = self.check_subscribe(request, params)?;
        let subscription = self
            .broker
            .subscribe(
                &checked.query.selector,
                checked.resume.from,
                &checked.access,
            )
            .map_err(|e| self.refuse(request, text_answer(e.status(), e)))?;
        let mut events = EventStream::new(subscription, &self.shared.sse);
        if let Some(gap) = &checked.resume.gap {
            events = events.with_gap(gap);
        }
        if let Some(until) = checked.access.until() {
            events = events.with_until(until);
        }
        if let Some(shutdown) = &self.shutdown {
            events = events.with_shutdown_retry(shutdown.farewell());
        }
        if let Some(registry) = &self.shared.subscriptions {
            events = events.with_guard(registry.connect(&self.broker, &checked));
        }
        let head = self.stream_head(request, &checked);
        Ok((head, events))
    }

    /// The checks of [`subscribe_with`](Self::subscribe_with) without opening the
    /// subscription. A `QUERY` request is 1.0's (the method is only in 1.0), so 1.0 answers it.
    #[allow(clippy::result_large_err)]
    pub(super) fn check_subscribe(
        &self,
        request: &Parts,
        params: &[u8],
    ) -> Result<Checked, Answer<B>> {
        let mut revision = Revision::of(request);
        let base = self.hub_url(request);
        let query = parse_subscribe(params, base.as_ref())
            .map_err(|e| self.refuse(request, text_answer(StatusCode::BAD_REQUEST, &e)))?;
        if query.v1 || super::query_method::is_query(&request.method) {
            revision = Revision::V1;
        }
        let subscriber = self
            .authorizer
            .subscriber(request)
            .map_err(|e| self.refuse(request, e.into_response(revision).map(Body::text)))?;
        let access = subscriber.access();
        let requested = requested_cursor(request, &query);
        let mut resume = resume(&self.broker, requested.as_deref());
        // 0.x answers only a cursor that was not empty; 1.0 any cursor that was sent.
        if revision == Revision::V0 && requested.as_deref() == Some("") {
            resume.answer = None;
        }
        Ok(Checked {
            revision,
            query,
            subscriber,
            access,
            resume,
        })
    }

    /// The head of a subscribe answer: mercure.md §2, the cursor header, CORS.
    pub(super) fn stream_head(&self, request: &Parts, checked: &Checked) -> response::Parts {
        let mut head = super::head::stream_head(checked.revision, checked.resume.answer.as_deref());
        self.shared.cors.apply(&request.headers, &mut head.headers);
        head
    }
}

/// The cursor the subscriber asks to resume from: the `Last-Event-ID` header when present and
/// not blank, else the query's parameter; `Some("")` when a cursor was sent but empty (a
/// blank header or an empty parameter), `None` when none was.
fn requested_cursor(request: &Parts, query: &SubscribeQuery) -> Option<String> {
    let header = request
        .headers
        .get("last-event-id")
        .map(|v| v.as_bytes().trim_ascii());
    match (header, query.last_event_id.as_deref()) {
        // An id is text; bytes that are not UTF-8 name no id the hub gave (an announced gap).
        (Some(value), _) if !value.is_empty() => Some(String::from_utf8_lossy(value).into_owned()),
        (_, Some(query)) => Some(query.to_owned()),
        (Some(_), None) => Some(String::new()),
        (None, None) => None,
    }
}
