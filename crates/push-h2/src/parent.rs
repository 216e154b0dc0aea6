//! The parent stream's state machine: what may be sent, and when.

use core::task::{Context, Poll};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, SendStream};
use http::{HeaderMap, Method, Request, Response, StatusCode};

use crate::error::is_push_disabled;
use crate::policy::PageBudget;
use crate::{
    CacheDigest, Error, PushConnection, PushContext, PushOutcome, PushRequest, PushedStream,
    SkipReason,
};

/// Where the parent stream is. Transitions only go forward:
///
/// ```text
///   AwaitingResponse ──send_response(end=false)──► Streaming ──send_data(end=true) / trailers──► Ended
///          │  ▲ 1xx, pushes                          │ pushes                                    ▲
///          └──┘                                      └──────────────── send_reset ───────────────┘
///          └──── send_response(end=true) / send_reset ────────────────────────────────────────────┘
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentState {
    /// No final response yet: informational responses and pushes are allowed.
    AwaitingResponse,
    /// The final response is sent and the body is streaming: pushes are allowed, 1xx is not.
    Streaming,
    /// The final frame (END_STREAM or RST_STREAM) is queued: nothing more may be sent.
    Ended,
}

/// A client request's stream, through which every response frame and push goes, so that none of
/// them can be invalid: no push after the final frame, no 1xx after the final response, no 101,
/// no data before headers.
///
/// It wraps h2's [`SendResponse`] and, once the response is sent, its [`SendStream`]; both stay
/// private so the state cannot be bypassed.
#[derive(Debug)]
pub struct ParentStream {
    respond: SendResponse<Bytes>,
    body: Option<SendStream<Bytes>>,
    state: ParentState,
    conn: PushConnection,
    context: PushContext,
    page: PageBudget,
    digest: Option<CacheDigest>,
}

impl ParentStream {
    /// Wraps the stream of `request` (as accepted from `h2::server::Connection::accept`) on the
    /// connection `conn`.
    pub fn new<B>(
        conn: &PushConnection,
        request: &Request<B>,
        respond: SendResponse<Bytes>,
    ) -> Self {
        Self {
            respond,
            body: None,
            state: ParentState::AwaitingResponse,
            // Once push is known to be off, pushes are never built: skip copying headers.
            context: PushContext::build(conn.config(), request, !conn.push_disabled()),
            conn: conn.clone(),
            page: PageBudget::default(),
            digest: None,
        }
    }

    /// Skips pushes of resources in `digest` (what the client says it has, usually from
    /// [`CacheDigest::from_cookies`]).
    pub fn set_digest(&mut self, digest: Option<CacheDigest>) {
        self.digest = digest;
    }

    /// The state.
    pub fn state(&self) -> ParentState {
        self.state
    }

    /// What pushes of this stream inherit.
    pub fn context(&self) -> &PushContext {
        &self.context
    }

    /// The connection.
    pub fn connection(&self) -> &PushConnection {
        &self.conn
    }

    /// A `GET` push request for `target`, resolved against this request.
    pub fn push_request(&self, target: &str) -> Result<PushRequest, Error> {
        PushRequest::get(&self.context, target)
    }

    /// Pushes `GET target` (see [`push_request`](Self::push_request) and [`push`](Self::push)),
    /// doing no work at all once the connection knows the client disabled push.
    pub fn push_target(
        &mut self,
        target: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<PushOutcome, Error> {
        if let Some(refused) = self.refuse_early()? {
            return Ok(refused);
        }
        let request = self.push_request(target)?;
        self.push_owned(request, etag, size)
    }

    /// Promises `request` on this stream, unless the policy or the client says no.
    ///
    /// `etag` and `size` describe the resource: the diary and the cache digest key on the path and
    /// ETag, the byte limit counts `size` (an unknown size counts as 0).
    ///
    /// # Errors
    /// [`Error::StreamEnded`] once the parent's final frame is queued (nothing is sent); an
    /// [`Error::H2`] if the connection failed. A client that disabled push, a limit, the diary and
    /// the digest give [`PushOutcome::NotPushed`].
    pub fn push(
        &mut self,
        request: &PushRequest,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<PushOutcome, Error> {
        if let Some(refused) = self.refuse_early()? {
            return Ok(refused);
        }
        self.push_owned(request.clone(), etag, size)
    }

    /// [`push`](Self::push) of a request this stream may consume (no copy for h2).
    /// What every push answers before any work: an error once the parent has ended, and
    /// "not pushed" once the connection knows the client disabled push.
    fn refuse_early(&self) -> Result<Option<PushOutcome>, Error> {
        if self.state == ParentState::Ended {
            return Err(Error::StreamEnded);
        }
        if self.conn.push_disabled() {
            self.conn.skipped_disabled();
            return Ok(Some(PushOutcome::NotPushed(SkipReason::PushDisabled)));
        }
        Ok(None)
    }

    fn push_owned(
        &mut self,
        request: PushRequest,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<PushOutcome, Error> {
        let path = request.path_and_query();
        if let Err(reason) =
            self.conn
                .reserve(&mut self.page, self.digest.as_ref(), path, etag, size)
        {
            return Ok(PushOutcome::NotPushed(reason));
        }
        let path: Box<str> = path.into();
        let head = *request.method() == Method::HEAD;
        match self.respond.push_request(request.into_http()) {
            Ok(pushed) => Ok(PushOutcome::Pushed(PushedStream::new(
                pushed,
                self.conn.clone(),
                path,
                etag,
                head,
            ))),
            Err(error) => {
                self.conn.unreserve(&mut self.page, &path, etag, size);
                if is_push_disabled(&error) {
                    self.conn.disable();
                    Ok(PushOutcome::NotPushed(SkipReason::PushDisabled))
                } else if error.is_io() || error.is_go_away() {
                    Err(error.into())
                } else {
                    Ok(PushOutcome::NotPushed(SkipReason::Refused))
                }
            }
        }
    }

    /// Sends an informational (1xx) response. Only before the final response; never 101.
    pub fn send_informational(&mut self, response: Response<()>) -> Result<(), Error> {
        let status = response.status();
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::SwitchingProtocols);
        }
        if !status.is_informational() {
            return Err(Error::NotInformational(status));
        }
        match self.state {
            ParentState::AwaitingResponse => Ok(self.respond.send_informational(response)?),
            ParentState::Streaming => Err(Error::FinalResponseSent),
            ParentState::Ended => Err(Error::StreamEnded),
        }
    }

    /// Sends the final response (status 200 or more). With `end_of_stream` it has no body and the
    /// stream ends; otherwise send the body with [`send_data`](Self::send_data).
    pub fn send_response(
        &mut self,
        response: Response<()>,
        end_of_stream: bool,
    ) -> Result<(), Error> {
        let status = response.status();
        if status == StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::SwitchingProtocols);
        }
        if status.is_informational() {
            return Err(Error::NotFinal(status));
        }
        match self.state {
            ParentState::AwaitingResponse => {}
            ParentState::Streaming => return Err(Error::FinalResponseSent),
            ParentState::Ended => return Err(Error::StreamEnded),
        }
        match self.respond.send_response(response, end_of_stream) {
            Ok(stream) if !end_of_stream => {
                self.body = Some(stream);
                self.state = ParentState::Streaming;
                Ok(())
            }
            Ok(_) => {
                self.state = ParentState::Ended;
                Ok(())
            }
            Err(error) => {
                self.state = ParentState::Ended;
                Err(error.into())
            }
        }
    }

    /// Queues body data; `end_of_stream` ends the stream (no push may follow).
    pub fn send_data(&mut self, data: Bytes, end_of_stream: bool) -> Result<(), Error> {
        let body = self.streaming_body()?;
        let result = body.send_data(data, end_of_stream);
        if end_of_stream || result.is_err() {
            self.state = ParentState::Ended;
        }
        Ok(result?)
    }

    /// Sends trailers, which end the stream.
    pub fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Error> {
        let body = self.streaming_body()?;
        let result = body.send_trailers(trailers);
        self.state = ParentState::Ended;
        Ok(result?)
    }

    /// Resets the stream; nothing may follow.
    pub fn send_reset(&mut self, reason: Reason) {
        match (&mut self.body, self.state) {
            (_, ParentState::Ended) => {}
            (Some(body), _) => body.send_reset(reason),
            (None, _) => self.respond.send_reset(reason),
        }
        self.state = ParentState::Ended;
    }

    /// Asks for flow-control capacity for the body (see `h2::SendStream::reserve_capacity`).
    pub fn reserve_capacity(&mut self, capacity: usize) {
        if let (Some(body), ParentState::Streaming) = (&mut self.body, self.state) {
            body.reserve_capacity(capacity);
        }
    }

    /// Polls for body capacity; `None` when the stream is not streaming (or closed).
    pub fn poll_capacity(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<usize, Error>>> {
        match (&mut self.body, self.state) {
            (Some(body), ParentState::Streaming) => body
                .poll_capacity(cx)
                .map(|c| c.map(|r| r.map_err(Error::from))),
            _ => Poll::Ready(None),
        }
    }

    /// Resolves when the client resets this stream (for example, it closed an event stream).
    pub fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Result<Reason, Error>> {
        let polled = match &mut self.body {
            Some(body) => body.poll_reset(cx),
            None => self.respond.poll_reset(cx),
        };
        polled.map_err(Error::from)
    }

    fn streaming_body(&mut self) -> Result<&mut SendStream<Bytes>, Error> {
        match (self.state, &mut self.body) {
            (ParentState::Streaming, Some(body)) => Ok(body),
            (ParentState::AwaitingResponse, _) => Err(Error::NoResponse),
            _ => Err(Error::StreamEnded),
        }
    }
}
