//! Running an accepted connection: heartbeats, the bounded outgoing path, close handshakes and
//! the close codes for bad input, around an application [`Handler`].

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Sleep;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::budget::Exceeded;
use super::{Config, Handler, Outbox};
use super::{Ended, Error};
use crate::heartbeat::{Beat, Heartbeat};

/// The most replies queued by [`Handler::on_message`] before the connection stops reading from
/// the peer until they are written: a client that sends commands but never reads cannot grow it.
const OUTBOX_LIMIT: usize = 16;

/// The most messages written in one poll before yielding to other tasks.
const WRITE_BUDGET: usize = 64;

/// Runs a connection until it ends: the close handshake completes, the peer disappears, or the
/// peer is closed for bad input or silence.
///
/// Bad input closes with the RFC 6455 code before returning the error: 1009 for a message or
/// frame over the limits (or, on a [`Metered`](super::Metered) stream, a message over the
/// connection's share when the shared pool is spent), 1008 for a message in more frames than
/// allowed, 1007 for invalid UTF-8 in a text message, 1002 for a protocol error.
/// A dead peer (no answer to a ping within the timeout) is logged and returned as
/// [`Error::DeadPeer`].
pub fn run<S, H>(
    ws: WebSocketStream<S>,
    config: &Config,
    handler: H,
) -> impl Future<Output = Result<Ended, Error>> + use<S, H>
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handler,
{
    // A hand-built future rather than an `async fn`: an `async fn` keeps its arguments in its
    // state beside the driver they are moved into, and an idle connection is mostly this state,
    // so it would hold the WebSocket stream and the handler twice for its whole life. The timer
    // is made on the first poll (a tokio timer needs the runtime; building the future does not).
    let (ping, pong, close_timeout) = (
        config.ping_interval(),
        config.pong_timeout(),
        config.close_timeout(),
    );
    let mut state = Run::Start(ws, handler);
    poll_fn(move |cx| {
        if matches!(state, Run::Start(..)) {
            let Run::Start(ws, handler) = core::mem::replace(&mut state, Run::Moving) else {
                return Poll::Pending;
            };
            state = Run::Running(Driver {
                ws,
                handler,
                heartbeat: Heartbeat::new(now(), ping, pong),
                timer: Box::pin(tokio::time::sleep(ping)),
                close_timeout,
                outbox: Outbox::default(),
                pending: None,
                flush: false,
                closing: None,
                close_deadline: None,
                handler_done: false,
                read_done: false,
                fatal: None,
            });
        }
        match &mut state {
            Run::Running(driver) => driver.poll(cx),
            // Only between the two assignments above, never seen by a poll.
            Run::Start(..) | Run::Moving => Poll::Pending,
        }
    })
}

/// The state of [`run`]'s future: not yet polled, then running.
enum Run<S, H> {
    Start(WebSocketStream<S>, H),
    Moving,
    Running(Driver<S, H>),
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

struct Driver<S, H> {
    ws: WebSocketStream<S>,
    handler: H,
    heartbeat: Heartbeat,
    timer: Pin<Box<Sleep>>,
    close_timeout: Duration,
    outbox: Outbox,
    /// A message taken from the outbox or the handler that the socket could not take yet.
    pending: Option<Message>,
    flush: bool,
    /// The close code and whether the peer started the handshake, once it started.
    closing: Option<(u16, bool)>,
    close_deadline: Option<Instant>,
    handler_done: bool,
    read_done: bool,
    /// A read error, reported once our close frame is written.
    fatal: Option<tungstenite::Error>,
}

impl<S, H> Driver<S, H>
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handler,
{
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Result<Ended, Error>> {
        let mut written = 0;
        loop {
            let mut progress = false;
            if !self.read_done
                && self.outbox.0.len() < OUTBOX_LIMIT
                && (self.closing.is_some() || self.handler.poll_ready(cx).is_ready())
            {
                match Pin::new(&mut self.ws).poll_next(cx) {
                    Poll::Ready(Some(Ok(message))) => {
                        progress = true;
                        self.heartbeat.handle_received(now());
                        // An answered ping makes the next deadline the next ping, which may be
                        // earlier than the pong deadline the timer is set to.
                        if self.close_deadline.is_none()
                            && self.heartbeat.poll_timeout() < self.timer.deadline().into_std()
                        {
                            self.reset_timer();
                        }
                        self.on_frame(message);
                    }
                    Poll::Ready(Some(Err(e))) => {
                        progress = true;
                        self.read_done = true;
                        if let Some(ended) = self.on_read_error(e) {
                            return Poll::Ready(ended);
                        }
                    }
                    Poll::Ready(None) => return Poll::Ready(Ok(self.ended())),
                    Poll::Pending => {}
                }
            }
            if self.timer.as_mut().poll(cx).is_ready() {
                if let Some(result) = self.on_timer() {
                    return Poll::Ready(result);
                }
                progress = true;
            }
            while written < WRITE_BUDGET {
                if self.pending.is_none() {
                    self.pending = self.next_outgoing(cx);
                }
                let Some(message) = self.pending.take() else {
                    break;
                };
                match Pin::new(&mut self.ws).poll_ready(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => return Poll::Ready(self.on_write_error(e)),
                    Poll::Pending => {
                        self.pending = Some(message);
                        break;
                    }
                }
                if let (Message::Close(frame), None) = (&message, self.closing) {
                    self.start_closing(frame.as_ref().map_or(1005, |f| f.code.into()), false);
                }
                if let Err(e) = Pin::new(&mut self.ws).start_send(message) {
                    return Poll::Ready(self.on_write_error(e));
                }
                written += 1;
                self.flush = true;
                progress = true;
            }
            if written >= WRITE_BUDGET {
                // Let other connections run; come back at once (the handler was not polled
                // again, so nothing else would wake this task). What is buffered is flushed
                // then, together with the rest of the burst: one write instead of two.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.flush {
                match Pin::new(&mut self.ws).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {
                        self.flush = false;
                        if let Some(e) = self.fatal.take() {
                            // Our close frame for the bad input is out: report the input.
                            return Poll::Ready(Err(e.into()));
                        }
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(self.on_write_error(e)),
                    Poll::Pending => {}
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    fn next_outgoing(&mut self, cx: &mut Context<'_>) -> Option<Message> {
        if let Some(m) = self.outbox.0.pop_front() {
            return Some(m);
        }
        if self.closing.is_some() || self.handler_done {
            return None;
        }
        match self.handler.poll_outgoing(cx) {
            Poll::Ready(Some(m)) => {
                if let Message::Close(frame) = &m {
                    // The close deadline runs from now, even if the socket is too full to take
                    // the close frame yet.
                    self.start_closing(frame.as_ref().map_or(1005, |f| f.code.into()), false);
                }
                Some(m)
            }
            Poll::Ready(None) => {
                self.handler_done = true;
                None
            }
            Poll::Pending => None,
        }
    }

    fn on_frame(&mut self, message: Message) {
        match message {
            Message::Text(_) | Message::Binary(_) if self.closing.is_none() => {
                self.handler.on_message(message, &mut self.outbox);
            }
            // tungstenite queued the pong or the close reply: get it written.
            Message::Ping(_) => self.flush = true,
            Message::Close(frame) => {
                if self.closing.is_none() {
                    self.start_closing(frame.map_or(1005, |f| f.code.into()), true);
                }
                self.flush = true;
            }
            _ => {}
        }
    }

    fn start_closing(&mut self, code: u16, by_peer: bool) {
        self.closing = Some((code, by_peer));
        self.close_deadline = Some(now() + self.close_timeout);
        self.outbox.0.clear();
        self.pending = None;
        self.reset_timer();
    }

    /// Maps a read error to a close code and queues the close frame; `Some` when there is
    /// nothing left to do.
    fn on_read_error(&mut self, e: tungstenite::Error) -> Option<Result<Ended, Error>> {
        use tungstenite::error::ProtocolError;
        let (code, reason) = match &e {
            tungstenite::Error::Capacity(_) => (CloseCode::Size, "message too big"),
            tungstenite::Error::Utf8(_) => (CloseCode::Invalid, "invalid UTF-8"),
            tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                return Some(Ok(Ended::Dropped));
            }
            tungstenite::Error::Protocol(_) => (CloseCode::Protocol, "protocol error"),
            tungstenite::Error::Io(io) => match Exceeded::from_io(io) {
                // The meter of a `Metered` stream refused the peer's next frame.
                Some(exceeded) => (CloseCode::from(exceeded.close_code()), exceeded.reason()),
                None => return Some(Ok(Ended::Dropped)),
            },
            _ => return Some(Err(e.into())),
        };
        tracing::debug!(error = %e, code = u16::from(code), "closing the connection on bad input");
        if self.closing.is_some() {
            return Some(Err(e.into()));
        }
        self.outbox.push(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })));
        self.fatal = Some(e);
        None
    }

    fn on_write_error(&mut self, e: tungstenite::Error) -> Result<Ended, Error> {
        if let Some(fatal) = self.fatal.take() {
            return Err(fatal.into());
        }
        match e {
            tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                Ok(self.ended())
            }
            tungstenite::Error::Io(_) => Ok(Ended::Dropped),
            e => Err(e.into()),
        }
    }

    fn on_timer(&mut self) -> Option<Result<Ended, Error>> {
        let now = now();
        if let Some(deadline) = self.close_deadline {
            if now >= deadline {
                tracing::debug!("the peer did not complete the close handshake in time");
                return Some(Err(self
                    .fatal
                    .take()
                    .map_or(Error::CloseTimeout, Into::into)));
            }
        } else {
            match self.heartbeat.handle_timeout(now) {
                Some(Beat::Ping(payload)) => {
                    self.outbox
                        .0
                        .push_front(Message::Ping(payload.to_vec().into()));
                }
                Some(Beat::Dead) => {
                    tracing::info!("closing a dead peer: no answer to a ping in time");
                    return Some(Err(Error::DeadPeer));
                }
                None => {}
            }
        }
        self.reset_timer();
        None
    }

    fn reset_timer(&mut self) {
        let at = self
            .close_deadline
            .unwrap_or_else(|| self.heartbeat.poll_timeout());
        self.timer.as_mut().reset(at.into());
    }

    fn ended(&self) -> Ended {
        match self.closing {
            Some((code, by_peer)) => Ended::Closed { code, by_peer },
            None => Ended::Dropped,
        }
    }
}
