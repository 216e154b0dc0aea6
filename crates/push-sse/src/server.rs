//! The server side: an `http::Response` whose streaming body is fed by a push-core
//! [`Subscription`], with resume, gaps, keep-alives and graceful shutdown.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use push_core::{Broker, Cursor, Delivery, Gap, Selector, Subscription};
use tokio::time::{Instant, Sleep};

use crate::{Error, encode_comment, encode_published, encode_retry};

/// The query parameters accepted instead of the `Last-Event-ID` header, for clients that cannot
/// set headers (the first is this crate's, the second Mercure's spelling).
pub const LAST_EVENT_ID_PARAMS: [&str; 2] = ["last_event_id", "lastEventID"];

/// How an SSE response behaves.
///
/// ```
/// use std::time::Duration;
/// let config = push_sse::SseConfig::default()
///     .keep_alive(Some(Duration::from_secs(30)))
///     .retry(Some(Duration::from_secs(2)));
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct SseConfig {
    keep_alive: Option<Duration>,
    retry: Option<Duration>,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            keep_alive: Some(Duration::from_secs(15)),
            retry: None,
        }
    }
}

impl SseConfig {
    /// Sends a comment when nothing was sent for this long (default 15 s; `None`: never), so
    /// proxies and load balancers do not cut an idle stream.
    #[must_use]
    pub fn keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.keep_alive = interval.filter(|d| !d.is_zero());
        self
    }

    /// Sends `retry:` first, setting the client's reconnection delay (default: not sent).
    #[must_use]
    pub fn retry(mut self, delay: Option<Duration>) -> Self {
        self.retry = delay;
        self
    }
}

/// The cursor a client resumes from: the `Last-Event-ID` header when present and non-empty, else
/// one of the [`LAST_EVENT_ID_PARAMS`] in `query` (the raw query string, without `?`).
///
/// # Errors
/// The cursor's parse error when the value is not a cursor.
///
/// ```
/// use http::HeaderMap;
/// let mut headers = HeaderMap::new();
/// assert_eq!(push_sse::resume_cursor(&headers, Some("topic=a&last_event_id=5-2")).unwrap().unwrap().offset(), 2);
/// headers.insert("last-event-id", "5-3".parse().unwrap());
/// assert_eq!(push_sse::resume_cursor(&headers, Some("last_event_id=5-2")).unwrap().unwrap().offset(), 3);
/// ```
pub fn resume_cursor(headers: &HeaderMap, query: Option<&str>) -> Result<Option<Cursor>, Error> {
    if let Some(value) = headers.get("last-event-id") {
        let value = value.as_bytes().trim_ascii();
        if !value.is_empty() {
            return Cursor::parse_bytes(value).map(Some).map_err(Error::Cursor);
        }
    }
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if LAST_EVENT_ID_PARAMS.contains(&key) && !value.is_empty() {
            return Cursor::parse(value).map(Some).map_err(Error::Cursor);
        }
    }
    Ok(None)
}

/// Opens a subscription on `broker` from the request's resume cursor and wraps it in a streaming
/// `text/event-stream` response with the headers proxies need.
///
/// # Errors
/// A malformed resume cursor ([`Error::Cursor`]) or the broker's refusal
/// ([`Error::Broker`]). Answer them with [`error_response`] (400 or 503).
pub fn subscribe<B: Broker>(
    broker: &B,
    selector: &Selector,
    headers: &HeaderMap,
    query: Option<&str>,
    config: &SseConfig,
) -> Result<http::Response<SseBody<B::Subscription>>, Error> {
    let from = resume_cursor(headers, query)?;
    let subscription = broker
        .subscribe(selector, from, &push_core::Access::public())
        .map_err(Error::Broker)?;
    Ok(response(SseBody::new(subscription, config)))
}

/// A `200 OK` `text/event-stream` response around `body`, with `Cache-Control: no-cache` and
/// `X-Accel-Buffering: no` (so nginx-style proxies pass each event at once).
pub fn response<B>(body: B) -> http::Response<B> {
    let mut response = http::Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// A plain-text error response for `error`: 400 for a malformed cursor, 503 when the broker is
/// closed or unavailable.
pub fn error_response(error: &Error) -> http::Response<String> {
    let status = match error {
        Error::Broker(_) => http::StatusCode::SERVICE_UNAVAILABLE,
        _ => http::StatusCode::BAD_REQUEST,
    };
    let mut response = http::Response::new(format!("{error}\n"));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A streaming `text/event-stream` body fed by a subscription.
///
/// Each event is one frame, written as soon as the subscription yields it (its SSE encoding is
/// computed once per event and shared by every subscriber). The SSE `id` of every event is its
/// cursor, so a reconnecting `EventSource` resumes exactly. A [`Gap`] becomes an event named
/// `gap` whose data is `{"reason":…,"resume":CURSOR}` and whose `id` is the resume cursor. The body
/// ends when the subscription closes (an overflowing subscriber is cut and will resume from its
/// `Last-Event-ID`), or when the shutdown future set by [`with_shutdown`](Self::with_shutdown)
/// completes. Dropping the body (the client went away) drops the subscription and frees its slot.
///
/// # Cancel safety
/// The body holds no partially written frame between polls: dropping it at any point loses
/// nothing the client was told about.
pub struct SseBody<S> {
    subscription: S,
    keep_alive: Option<KeepAlive>,
    preamble: Option<Bytes>,
    shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    done: bool,
}

impl<S> core::fmt::Debug for SseBody<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SseBody")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S: Subscription> SseBody<S> {
    /// A body streaming `subscription` as configured.
    pub fn new(subscription: S, config: &SseConfig) -> Self {
        let mut preamble = BytesMut::new();
        if let Some(retry) = config.retry {
            encode_retry(
                u64::try_from(retry.as_millis()).unwrap_or(u64::MAX),
                &mut preamble,
            );
        }
        // An immediate comment flushes the headers through proxies and lets the client know the
        // stream is open before the first event.
        let _ = encode_comment("ok", &mut preamble);
        Self {
            subscription,
            keep_alive: config.keep_alive.map(|interval| KeepAlive {
                interval,
                sleep: Box::pin(tokio::time::sleep(interval)),
                last_sent: Instant::now(),
            }),
            preamble: Some(preamble.freeze()),
            shutdown: None,
            done: false,
        }
    }

    /// Ends the stream cleanly (after the frame in flight) when `signal` completes.
    #[must_use]
    pub fn with_shutdown(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// The cursor a client would resume from now.
    pub fn cursor(&self) -> Cursor {
        self.subscription.cursor()
    }

    fn frame(&mut self, bytes: Bytes) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(keep_alive) = &mut self.keep_alive {
            keep_alive.last_sent = Instant::now();
        }
        Poll::Ready(Some(Ok(Frame::data(bytes))))
    }
}

/// The keep-alive timer. Sending a frame only notes the time; the timer is moved when it fires
/// early, so a busy stream costs no timer update per event.
struct KeepAlive {
    interval: Duration,
    sleep: Pin<Box<Sleep>>,
    last_sent: Instant,
}

impl KeepAlive {
    /// Ready when nothing was sent for a whole interval.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            ready!(self.sleep.as_mut().poll(cx));
            let due = self.last_sent + self.interval;
            if Instant::now() >= due {
                self.sleep.as_mut().reset(Instant::now() + self.interval);
                return Poll::Ready(());
            }
            self.sleep.as_mut().reset(due);
        }
    }
}

/// The `gap` event for `gap`, its id the resume cursor.
pub fn encode_gap(gap: &Gap) -> Bytes {
    encode_gap_parts(gap.reason.as_str(), gap.resume)
}

fn encode_gap_parts(reason: &str, resume: Cursor) -> Bytes {
    Bytes::from(format!(
        "event: gap\nid: {resume}\ndata: {{\"reason\":\"{reason}\",\"resume\":\"{resume}\"}}\n\n"
    ))
}

impl<S: Subscription> Body for SseBody<S> {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(preamble) = this.preamble.take() {
            return this.frame(preamble);
        }
        if let Some(shutdown) = &mut this.shutdown
            && shutdown.as_mut().poll(cx).is_ready()
        {
            this.done = true;
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.subscription).poll_next(cx) {
            Poll::Ready(Some(Delivery::Event(published))) => {
                let bytes = encode_published(&published).unwrap_or_else(|_| {
                    // An event SSE cannot carry (its type has a line break, its data is not
                    // UTF-8): announced as a gap at its cursor, never dropped silently.
                    encode_gap_parts("unencodable", published.cursor())
                });
                return this.frame(bytes);
            }
            Poll::Ready(Some(Delivery::Gap(gap))) => return this.frame(encode_gap(&gap)),
            Poll::Ready(Some(Delivery::Closed(_)) | None) => {
                this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if let Some(keep_alive) = &mut this.keep_alive {
            ready!(keep_alive.poll_due(cx));
            return this.frame(Bytes::from_static(b":\n\n"));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
