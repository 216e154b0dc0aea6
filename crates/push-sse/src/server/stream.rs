//! The one SSE state type: a subscription's deliveries, keep-alives, a deadline and a shutdown
//! signal in; `text/event-stream` bytes out. The [`Body`](super::Body) of every
//! [`Endpoint`](super::Endpoint) response is one, and so is any leaner serving path.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use push_core::{Cursor, Delivery, Gap, Subscription};
use tokio::time::{Instant, Sleep};

use super::{Config, EventId};
use crate::{encode_comment, encode_published, encode_published_with_event_id, encode_retry};

/// A signal that ends a stream cleanly, with the last frame it gives (a `retry:` hint) if any.
type Ending = Pin<Box<dyn Future<Output = Option<Bytes>> + Send>>;

/// The state of one served event stream: what to write next, as [`Bytes`] frames.
///
/// It is the building block of every way this crate serves SSE: the [`Endpoint`]'s response
/// [`Body`](super::Body) wraps one, and a server with its own connection handling (a raw
/// HTTP/1.1 writer, an HTTP/2 stream) drives one directly, as a [`Stream`] of frames or with
/// [`poll_frame`](Self::poll_frame). There is no second SSE writer.
///
/// What it writes, each as one frame:
/// - first, `retry:` if [`Config::retry`] is set, and a `:ok` comment (it flushes the response
///   head through proxies and tells the client the stream is open);
/// - a [`Gap`] set by [`with_gap`](Self::with_gap), announced before anything else;
/// - each event as soon as the subscription yields it, encoded once per event and shared by
///   every subscriber, with its **cursor** as the SSE `id` (so `Last-Event-ID` resumes exactly),
///   or its own id with [`EventId::Own`];
/// - a [`Gap`] as an event named `gap` whose data is `{"reason":…,"resume":CURSOR}` and whose
///   `id` is the resume cursor; an event SSE cannot carry (see
///   [`check_encodable`](crate::check_encodable)) as a gap of reason `unencodable` at its
///   cursor, never silently dropped;
/// - a keep-alive comment when nothing was sent for [`Config::keep_alive`].
///
/// With [`Config::coalesce`], the events that arrive within the window after one is yielded
/// are held in the subscription's queue and yielded together when it closes (see
/// [`Config::with_coalesce`]): a busy stream's events come in runs, which a writer that
/// gathers ready frames sends in one write.
///
/// It ends when the subscription closes (an overflowing subscriber is cut and resumes from its
/// `Last-Event-ID`; a grant that expired ends it too), at the deadline set by
/// [`with_until`](Self::with_until) (an authorization's expiry: even an idle stream ends on
/// time), or when the signal set by [`with_shutdown`](Self::with_shutdown) completes (with
/// [`with_shutdown_retry`](Self::with_shutdown_retry), after a last `retry:` field: a server
/// that stops tells each client when to come back). The signal and the deadline are polled
/// when the subscription has nothing ready, and every [`SIGNALS_EVERY`] frames while it has:
/// a stream draining a backlog ends within that many frames of them, and does not pay a poll
/// of each per frame.
///
/// It uses tokio's timer: poll it inside a tokio runtime.
///
/// # Cancel safety
/// No frame is ever half written between polls: dropping the stream at any point loses nothing
/// the client was told about, and drops the subscription (freeing its slot in the broker).
///
/// [`Endpoint`]: super::Endpoint
pub struct EventStream<S> {
    subscription: S,
    keep_alive: Option<KeepAlive>,
    preamble: Option<Bytes>,
    own_ids: bool,
    until: Option<Pin<Box<Sleep>>>,
    /// The shutdown signal, which also owns the guard of [`with_guard`](Self::with_guard)
    /// (so a guard costs the stream no field: an idle stream's size is what a lean server
    /// holds per subscriber).
    shutdown: Option<Ending>,
    /// The coalescing window, when configured (boxed: a stream without one pays a word).
    coalesce: Option<Box<Coalesce>>,
    /// Frames given in a row since the signals were polled ([`SIGNALS_EVERY`]).
    unsignalled: u8,
    done: bool,
}

/// The most frames a stream gives in a row without polling its shutdown signal and deadline
/// (also polled whenever the subscription has nothing ready): a backlogged stream ends within
/// this many frames of them, and a burst does not poll them per frame.
pub const SIGNALS_EVERY: u8 = 32;

impl<S> core::fmt::Debug for EventStream<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventStream")
            .field("done", &self.done)
            .field("until", &self.until.as_ref().map(|s| s.deadline()))
            .finish_non_exhaustive()
    }
}

impl<S: Subscription> EventStream<S> {
    /// A stream of `subscription`'s deliveries, as configured.
    pub fn new(subscription: S, config: &Config) -> Self {
        let mut preamble = BytesMut::new();
        if let Some(retry) = config.retry() {
            encode_retry(
                u64::try_from(retry.as_millis()).unwrap_or(u64::MAX),
                &mut preamble,
            );
        }
        // Cannot fail: the comment is a constant without a line break.
        let _ = encode_comment("ok", &mut preamble);
        Self {
            subscription,
            keep_alive: config.keep_alive().map(|interval| KeepAlive {
                interval,
                sleep: Box::pin(tokio::time::sleep(interval)),
                last_sent: Instant::now(),
            }),
            preamble: Some(preamble.freeze()),
            own_ids: config.event_id() == EventId::Own,
            until: None,
            shutdown: None,
            coalesce: config.coalesce().map(|window| {
                Box::new(Coalesce {
                    window,
                    sleep: Box::pin(tokio::time::sleep(window)),
                    holding: false,
                    armed: None,
                })
            }),
            unsignalled: 0,
            done: false,
        }
    }

    /// Announces `gap` first, after the opening comment and before any delivery: a loss the
    /// server found before opening the subscription (a `Last-Event-ID` it cannot place), which
    /// the broker cannot know about.
    #[must_use]
    pub fn with_gap(mut self, gap: &Gap) -> Self {
        let frame = encode_gap(gap);
        let mut preamble = BytesMut::from(self.preamble.take().unwrap_or_default());
        preamble.extend_from_slice(&frame);
        self.preamble = Some(preamble.freeze());
        self
    }

    /// Ends the stream at `deadline` (an authorization's expiry,
    /// [`Access::until`](push_core::Access::until)), even when nothing is published.
    #[must_use]
    pub fn with_until(mut self, deadline: std::time::Instant) -> Self {
        let deadline = Instant::from_std(deadline);
        self.until = Some(Box::pin(tokio::time::sleep_until(deadline)));
        self
    }

    /// Keeps `guard` while the stream runs and drops it when the stream ends or is dropped,
    /// whichever comes first: what a server ties to the life of a subscriber (a registry
    /// entry that says it is connected, and says so no longer when dropped).
    #[must_use]
    pub fn with_guard(mut self, guard: impl Send + 'static) -> Self {
        let signal = self.shutdown.take();
        self.shutdown = Some(Box::pin(async move {
            let _guard = guard;
            match signal {
                Some(signal) => signal.await,
                None => core::future::pending().await,
            }
        }));
        self
    }

    /// Ends the stream cleanly (after the frame in flight) when `signal` completes (or when
    /// an earlier signal does: signals add up, a guard set before is kept).
    #[must_use]
    pub fn with_shutdown(self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.ending(async move {
            signal.await;
            None
        })
    }

    /// Ends the stream as [`with_shutdown`](Self::with_shutdown) does, with a last `retry:`
    /// field holding the delay `signal` completes with: the reconnection delay a stopping
    /// server gives this client (each its own, so that clients do not all come back at once).
    #[must_use]
    pub fn with_shutdown_retry(
        self,
        signal: impl Future<Output = Duration> + Send + 'static,
    ) -> Self {
        self.ending(async move {
            let delay = signal.await;
            let mut frame = BytesMut::new();
            encode_retry(
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                &mut frame,
            );
            Some(frame.freeze())
        })
    }

    /// Adds `signal` to the signals that end the stream.
    fn ending(mut self, signal: impl Future<Output = Option<Bytes>> + Send + 'static) -> Self {
        self.shutdown = Some(match self.shutdown.take() {
            None => Box::pin(signal),
            Some(earlier) => Box::pin(async move {
                let signal = core::pin::pin!(signal);
                let earlier = core::pin::pin!(earlier);
                futures_util::future::select(earlier, signal)
                    .await
                    .factor_first()
                    .0
            }),
        });
        self
    }

    /// The cursor a client would resume from now.
    pub fn cursor(&self) -> Cursor {
        self.subscription.cursor()
    }

    /// Whether the stream has ended (no more frames).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next frame: `Ready(Some(bytes))` to write, `Ready(None)` once the stream has ended,
    /// `Pending` until a delivery, a keep-alive, the deadline or the shutdown signal wakes the
    /// task.
    pub fn poll_frame(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if self.done {
            return Poll::Ready(None);
        }
        if let Some(preamble) = self.preamble.take() {
            return self.sent(preamble);
        }
        if self.unsignalled >= SIGNALS_EVERY
            && let Some(ended) = self.poll_signals(cx)
        {
            return ended;
        }
        let held = self.coalesce.as_mut().is_some_and(|c| c.poll_held(cx));
        let delivery = if held {
            // The window is open: what arrives waits in the subscription's queue.
            Poll::Pending
        } else {
            Pin::new(&mut self.subscription).poll_next(cx)
        };
        if let Some(coalesce) = self.coalesce.as_mut() {
            match &delivery {
                Poll::Ready(Some(Delivery::Event(_) | Delivery::Gap(_))) => {
                    coalesce.armed = Some(Instant::now());
                }
                Poll::Pending if !held => coalesce.open(cx),
                _ => {}
            }
        }
        match delivery {
            Poll::Ready(Some(Delivery::Event(published))) => {
                let encoded = if self.own_ids {
                    encode_published_with_event_id(&published)
                } else {
                    encode_published(&published)
                };
                let bytes = encoded.unwrap_or_else(|_| {
                    // An event SSE cannot carry (its type has a line break, its data is not
                    // UTF-8): announced as a gap at its cursor, never dropped silently.
                    encode_gap_parts("unencodable", published.cursor())
                });
                self.unsignalled += 1;
                return self.sent(bytes);
            }
            Poll::Ready(Some(Delivery::Gap(gap))) => {
                self.unsignalled += 1;
                return self.sent(encode_gap(&gap));
            }
            Poll::Ready(Some(Delivery::Closed(_)) | None) => {
                // A stopping server may close its broker at once: the `retry:` hint comes first.
                return self.poll_signals(cx).unwrap_or_else(|| self.end());
            }
            Poll::Pending => {}
        }
        // Nothing ready: the signals are polled (their wake-ups registered) before the sleep.
        if let Some(ended) = self.poll_signals(cx) {
            return ended;
        }
        if let Some(keep_alive) = &mut self.keep_alive {
            ready!(keep_alive.poll_due(cx));
            return self.sent(Bytes::from_static(b":\n\n"));
        }
        Poll::Pending
    }

    /// Polls the shutdown signal and the deadline: `Some` with the last frame or the end.
    fn poll_signals(&mut self, cx: &mut Context<'_>) -> Option<Poll<Option<Bytes>>> {
        self.unsignalled = 0;
        let shut = match self.shutdown.as_mut().map(|s| s.as_mut().poll(cx)) {
            Some(Poll::Ready(last)) => Some(last),
            _ => None,
        };
        let expired = self
            .until
            .as_mut()
            .is_some_and(|s| s.as_mut().poll(cx).is_ready());
        if let Some(Some(last)) = shut {
            // The last frame, then the end.
            let _ = self.end();
            return Some(Poll::Ready(Some(last)));
        }
        (shut.is_some() || expired).then(|| self.end())
    }

    fn sent(&mut self, bytes: Bytes) -> Poll<Option<Bytes>> {
        if let Some(keep_alive) = &mut self.keep_alive {
            keep_alive.last_sent = Instant::now();
        }
        Poll::Ready(Some(bytes))
    }

    fn end(&mut self) -> Poll<Option<Bytes>> {
        self.done = true;
        self.keep_alive = None;
        self.until = None;
        self.shutdown = None;
        self.coalesce = None;
        Poll::Ready(None)
    }
}

impl<S: Subscription> Stream for EventStream<S> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        self.get_mut().poll_frame(cx)
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

/// The coalescing window ([`Config::with_coalesce`]): open after a run of deliveries, closed
/// when its timer fires.
struct Coalesce {
    window: Duration,
    sleep: Pin<Box<Sleep>>,
    /// A window is open: the subscription is not polled until `sleep` fires.
    holding: bool,
    /// When the last delivery was yielded, if one was since the last window closed: when the
    /// subscription next has nothing ready, a window opens, to `window` after it (after a
    /// quiet period none was, so the first delivery goes out at once).
    armed: Option<Instant>,
}

impl Coalesce {
    /// Whether the window is still open (registering the timer's wake-up if so).
    fn poll_held(&mut self, cx: &mut Context<'_>) -> bool {
        if self.holding && self.sleep.as_mut().poll(cx).is_ready() {
            self.holding = false;
        }
        self.holding
    }

    /// The subscription has nothing ready: opens a window if the run just written asks for
    /// one.
    fn open(&mut self, cx: &mut Context<'_>) {
        let Some(last) = self.armed.take() else {
            return;
        };
        self.sleep.as_mut().reset(last + self.window);
        self.holding = true;
        // Registers the wake-up at the window's end.
        let _ = self.poll_held(cx);
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
