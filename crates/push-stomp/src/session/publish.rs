//! Who may `SEND`: the publish side of authorization, which `push_http::Hooks` (subscriptions
//! only) does not cover.

use core::future::Future;

use http::request::Parts;
use push_core::Topic;
use push_http::Refusal;

/// Decides whether a connection may publish to a topic with `SEND`.
///
/// `request` is the WebSocket upgrade request's head with the credentials of the `CONNECT`
/// frame applied (see [`Session`](crate::Session)), the same head the subscription hooks read.
/// A refusal is answered with an `ERROR` frame carrying its message, and the connection closes.
pub trait Publish: Clone + Send + Sync + 'static {
    /// `Ok(())` when `request` may publish to `topic`.
    fn authorize_send(
        &self,
        request: &Parts,
        topic: &Topic,
    ) -> impl Future<Output = Result<(), Refusal>> + Send;
}

/// Nobody publishes over STOMP (the default): every `SEND` is refused with 403.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPublish;

impl Publish for NoPublish {
    async fn authorize_send(&self, _request: &Parts, _topic: &Topic) -> Result<(), Refusal> {
        Err(Refusal::forbidden("publishing over STOMP is not enabled"))
    }
}

/// Everyone publishes to every topic: for tests, demos and servers behind their own gate.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenPublish;

impl Publish for OpenPublish {
    async fn authorize_send(&self, _request: &Parts, _topic: &Topic) -> Result<(), Refusal> {
        Ok(())
    }
}
