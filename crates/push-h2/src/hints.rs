//! Link-driven pushes, and 103 Early Hints / 102 Processing when push is off.

use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

use bytes::Bytes;
use http::header::{ETAG, LINK};
use http::{HeaderMap, Response, StatusCode};

use crate::link::{MAX_LINKS, preload_link_header};
use crate::{
    Error, ParentState, ParentStream, PushDelivery, PushOutcome, PushRequest, PushedStream,
    SkipReason,
};

/// A response the application has for a pushed target: its head (status, `etag`, …) and body.
#[derive(Debug)]
pub struct Resource {
    /// The pushed response's head; a final status. Its `etag` keys the diary.
    pub response: Response<()>,
    /// The body (empty for a `HEAD` push).
    pub body: Bytes,
}

/// What [`ParentStream::preload`] did: one outcome per preload link, the pushes still to be
/// answered, and whether 103 Early Hints went out instead.
#[derive(Debug)]
#[must_use = "pushed bodies are only sent by `send` or `send_now`"]
pub struct Preloads {
    outcomes: Vec<(String, Option<SkipReason>)>,
    pending: Vec<(PushedStream, Resource)>,
    hinted: bool,
}

impl Preloads {
    /// Each preload link's target and, if it was not pushed, why.
    pub fn outcomes(&self) -> &[(String, Option<SkipReason>)] {
        &self.outcomes
    }

    /// How many pushes were promised.
    pub fn pushed(&self) -> usize {
        self.pending.len()
    }

    /// True when push was off and 103 Early Hints carried the links instead.
    pub fn hinted(&self) -> bool {
        self.hinted
    }

    /// Sends every pushed body, all at once as flow control allows (a client that reads one
    /// resource before another is never kept waiting on the other), each stopping at once if the
    /// client resets it. The deliveries come back in the order of the pushes.
    ///
    /// Every response is checked before any is sent, so an invalid one (a 1xx status, a body on
    /// a `HEAD` push) is an error before any pushed response goes out (the promised streams are
    /// then reset); a connection error on one push lets the others finish, and the first error
    /// is returned.
    pub async fn send(self) -> Result<Vec<PushDelivery>, Error> {
        for (stream, resource) in &self.pending {
            stream.check(&resource.response, &resource.body)?;
        }
        let sends = self
            .pending
            .into_iter()
            .map(|(stream, resource)| stream.send(resource.response, resource.body));
        futures_util::future::join_all(sends)
            .await
            .into_iter()
            .collect()
    }

    /// Queues every pushed body at once (see [`PushedStream::send_now`]).
    pub fn send_now(self) -> Result<(), Error> {
        for (stream, resource) in self.pending {
            stream.send_now(resource.response, resource.body)?;
        }
        Ok(())
    }
}

impl ParentStream {
    /// Pushes what the `Link: <…>; rel=preload` headers in `headers` (the response about to be
    /// sent) name, asking `resolve` for each resource; `nopush` links, foreign targets and
    /// resources the policy skips are reported, not pushed. When the client has push disabled,
    /// sends 103 Early Hints with the same links instead (if the final response is not sent yet).
    ///
    /// Call before [`send_response`](Self::send_response), then answer the pushes with
    /// [`Preloads::send`] (or `send_now`).
    pub fn preload(
        &mut self,
        headers: &HeaderMap,
        mut resolve: impl FnMut(&PushRequest) -> Option<Resource>,
    ) -> Result<Preloads, Error> {
        let mut links = Vec::new();
        for value in headers.get_all(LINK) {
            preload_link_header(value.as_bytes(), &mut links);
        }
        let mut preloads = Preloads {
            outcomes: Vec::new(),
            pending: Vec::new(),
            hinted: false,
        };
        let mut disabled = false;
        for link in links.iter().filter(|l| l.is_preload()).take(MAX_LINKS) {
            let target = link.target().to_owned();
            let reason = if self.connection().push_disabled() {
                Some(SkipReason::PushDisabled)
            } else if link.is_nopush() {
                Some(SkipReason::NoPush)
            } else {
                self.push_link(link.target(), &mut resolve, &mut preloads)?
            };
            disabled |= reason == Some(SkipReason::PushDisabled);
            preloads.outcomes.push((target, reason));
        }
        if disabled && self.state() == ParentState::AwaitingResponse {
            preloads.hinted = self.send_early_hints(headers)?;
        }
        Ok(preloads)
    }

    /// [`push`](Self::push) for `resource`: its `ETag` keys the diary, its body's length the
    /// size limits.
    pub(crate) fn push_resource(
        &mut self,
        request: &PushRequest,
        resource: &Resource,
    ) -> Result<PushOutcome, Error> {
        let etag = resource
            .response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok());
        self.push(request, etag, Some(resource.body.len() as u64))
    }

    fn push_link(
        &mut self,
        target: &str,
        resolve: &mut impl FnMut(&PushRequest) -> Option<Resource>,
        preloads: &mut Preloads,
    ) -> Result<Option<SkipReason>, Error> {
        let Ok(request) = PushRequest::get(self.context(), target) else {
            return Ok(Some(SkipReason::NotPushable));
        };
        let Some(resource) = resolve(&request) else {
            return Ok(Some(SkipReason::Unresolved));
        };
        Ok(match self.push_resource(&request, &resource)? {
            PushOutcome::Pushed(stream) => {
                preloads.pending.push((stream, resource));
                None
            }
            PushOutcome::NotPushed(reason) => Some(reason),
        })
    }

    /// Sends `103 Early Hints` carrying every `Link` header of `headers` that names a preload.
    /// Returns false (and sends nothing) when there is none.
    pub fn send_early_hints(&mut self, headers: &HeaderMap) -> Result<bool, Error> {
        let mut hints = Response::new(());
        *hints.status_mut() = StatusCode::EARLY_HINTS;
        let mut scratch = Vec::new();
        for value in headers.get_all(LINK) {
            scratch.clear();
            preload_link_header(value.as_bytes(), &mut scratch);
            if scratch.iter().any(|l| l.is_preload()) {
                hints.headers_mut().append(LINK, value.clone());
            }
        }
        if hints.headers().is_empty() {
            return Ok(false);
        }
        self.send_informational(hints)?;
        Ok(true)
    }

    /// Sends `102 Processing` (the client keeps waiting for the final response).
    pub fn send_processing(&mut self) -> Result<(), Error> {
        let mut processing = Response::new(());
        *processing.status_mut() = StatusCode::PROCESSING;
        self.send_informational(processing)
    }

    /// Runs `work`, sending `102 Processing` every `every` (at least 10 ms) until it completes.
    /// Stops sending (but keeps waiting for `work`) if a 1xx is no longer allowed.
    ///
    /// # Cancel safety
    /// Dropping the future drops `work`; the 102s already sent stay sent, the stream is unchanged.
    pub async fn with_processing<F: Future>(&mut self, every: Duration, work: F) -> F::Output {
        let every = every.max(Duration::from_millis(10));
        let mut work = pin!(work);
        let mut timer = pin!(tokio::time::sleep(every));
        let mut ticking = true;
        poll_fn(|cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            while ticking && timer.as_mut().poll(cx).is_ready() {
                ticking = self.send_processing().is_ok();
                timer.as_mut().reset(tokio::time::Instant::now() + every);
            }
            Poll::Pending
        })
        .await
    }
}
