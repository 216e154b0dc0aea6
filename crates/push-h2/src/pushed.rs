//! A promised stream: its response and body, stopped at once when the client resets it.

use core::future::poll_fn;
use core::task::Poll;

use bytes::Bytes;
use h2::Reason;
use h2::server::SendPushedResponse;
use http::{Response, StatusCode};

use crate::{Error, PushConnection, SkipReason};

/// The result of asking to push: pushed (a promise was queued; now send its response), or not
/// pushed and why. Not pushing is never an error: serve the page anyway.
#[must_use = "a pushed stream must be answered with `send` or `send_now`"]
#[derive(Debug)]
pub enum PushOutcome {
    /// The `PUSH_PROMISE` is queued; answer it with [`PushedStream::send`] or
    /// [`PushedStream::send_now`].
    Pushed(PushedStream),
    /// Nothing was sent.
    NotPushed(SkipReason),
}

impl PushOutcome {
    /// True for [`PushOutcome::Pushed`].
    pub fn is_pushed(&self) -> bool {
        matches!(self, Self::Pushed(_))
    }

    /// Why the push was skipped, if it was.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            Self::Pushed(_) => None,
            Self::NotPushed(reason) => Some(*reason),
        }
    }

    /// The pushed stream, if any.
    pub fn into_pushed(self) -> Option<PushedStream> {
        match self {
            Self::Pushed(stream) => Some(stream),
            Self::NotPushed(_) => None,
        }
    }
}

/// How a pushed body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushDelivery {
    /// The whole body (and END_STREAM) is queued.
    Sent,
    /// The client reset the stream (usually CANCEL: it has the resource; or REFUSED_STREAM:
    /// too many streams). The body was not produced further, and the diary says "client has it".
    Cancelled(Reason),
    /// The client's flow-control window stayed shut for
    /// [`PushConfig::stall_timeout`](crate::PushConfig::stall_timeout): the server reset the
    /// stream with CANCEL. The client does not have the resource (the diary does not say it has).
    Stalled,
}

/// A promised resource waiting for its response.
///
/// It counts as in flight for the connection's concurrency limit until its body is fully
/// queued, it is reset, or it is dropped (dropping it unanswered resets it with CANCEL, as h2 does).
#[derive(Debug)]
pub struct PushedStream {
    inner: SendPushedResponse<Bytes>,
    conn: PushConnection,
    path: Box<str>,
    etag: Option<Box<str>>,
    head: bool,
    done: bool,
}

impl PushedStream {
    pub(crate) fn new(
        inner: SendPushedResponse<Bytes>,
        conn: PushConnection,
        path: Box<str>,
        etag: Option<&str>,
        head: bool,
    ) -> Self {
        Self {
            inner,
            conn,
            path,
            etag: etag.map(Into::into),
            head,
            done: false,
        }
    }

    /// The promised path (and query).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Sends the response and its body in flow-controlled chunks of at most
    /// [`PushConfig::max_chunk`](crate::PushConfig::max_chunk) bytes, watching for the client's
    /// RST_STREAM between chunks: on a reset it stops at once and returns
    /// [`PushDelivery::Cancelled`]. Each wait for flow-control capacity is bounded by
    /// [`PushConfig::stall_timeout`](crate::PushConfig::stall_timeout): past it the stream is
    /// reset with CANCEL and the result is [`PushDelivery::Stalled`].
    ///
    /// The response must have a final status (not 1xx); a pushed `HEAD` takes an empty body.
    ///
    /// # Cancel safety
    /// Dropping the future leaves the stream as it is: whatever was queued is sent, the rest is
    /// not; h2 resets the stream when its last handle goes.
    pub async fn send(
        mut self,
        response: Response<()>,
        mut body: Bytes,
    ) -> Result<PushDelivery, Error> {
        self.check(&response, &body)?;
        let mut stream = match self.inner.send_response(response, body.is_empty()) {
            Ok(stream) => stream,
            Err(error) => return self.failed(error),
        };
        let max_chunk = self.conn.config().max_chunk;
        let stall = self.conn.config().stall_timeout;
        while !body.is_empty() {
            stream.reserve_capacity(body.len().min(max_chunk));
            let wait = poll_fn(|cx| {
                if let Poll::Ready(reset) = stream.poll_reset(cx) {
                    return Poll::Ready(Err(reset));
                }
                stream.poll_capacity(cx).map(Ok)
            });
            let Ok(event) = tokio::time::timeout(stall, wait).await else {
                stream.send_reset(Reason::CANCEL);
                self.finish();
                return Ok(PushDelivery::Stalled);
            };
            let granted = match event {
                Err(Ok(reason)) => return Ok(self.cancelled(reason)),
                Err(Err(error)) | Ok(Some(Err(error))) => return self.failed(error),
                Ok(None) => return Ok(self.cancelled(Reason::CANCEL)),
                Ok(Some(Ok(granted))) => granted,
            };
            if granted == 0 {
                continue;
            }
            let chunk = body.split_to(granted.min(body.len()).min(max_chunk));
            if let Err(error) = stream.send_data(chunk, body.is_empty()) {
                return self.failed(error);
            }
        }
        self.finish();
        Ok(PushDelivery::Sent)
    }

    /// Queues the response and the whole body at once, without waiting for flow control (h2
    /// buffers it). Cheapest for small resources; a reset still discards whatever is unsent, but
    /// is not observed here.
    pub fn send_now(mut self, response: Response<()>, body: Bytes) -> Result<PushDelivery, Error> {
        self.check(&response, &body)?;
        let result = self
            .inner
            .send_response(response, body.is_empty())
            .and_then(|mut stream| {
                if body.is_empty() {
                    Ok(())
                } else {
                    stream.send_data(body, true)
                }
            });
        match result {
            Ok(()) => {
                self.finish();
                Ok(PushDelivery::Sent)
            }
            Err(error) => self.failed(error),
        }
    }

    /// Whether `response` and `body` can answer this push (a final status, no body on `HEAD`).
    pub(crate) fn check(&self, response: &Response<()>, body: &Bytes) -> Result<(), Error> {
        let status = response.status();
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::SwitchingProtocols);
        }
        if status.is_informational() {
            return Err(Error::NotFinal(status));
        }
        if self.head && !body.is_empty() {
            return Err(Error::BodyOnHead);
        }
        Ok(())
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.conn.finished();
        }
    }

    fn cancelled(&mut self, reason: Reason) -> PushDelivery {
        self.conn.reset(&self.path, self.etag.as_deref(), reason);
        self.finish();
        PushDelivery::Cancelled(reason)
    }

    fn failed(&mut self, error: h2::Error) -> Result<PushDelivery, Error> {
        match error.reason() {
            Some(reason) if error.is_reset() && error.is_remote() => Ok(self.cancelled(reason)),
            _ => {
                self.finish();
                Err(error.into())
            }
        }
    }
}

impl Drop for PushedStream {
    fn drop(&mut self) {
        if !self.done {
            self.inner.send_reset(Reason::CANCEL);
            self.finish();
        }
    }
}
