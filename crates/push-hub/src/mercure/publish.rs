//! `POST /.well-known/mercure`: a form in, the update's id out.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::request::Parts;
use http::{Response, StatusCode};
use push_core::Broker;
use push_http::HttpStatus as _;
use push_http::head::TEXT_PLAIN_UTF8;
use push_sse::server::Body;

use super::form::parse_publish;
use super::resume::generate_id;
use super::{Answer, Mercure, Revision, text_answer};

/// The one media type a publish body is read as.
const FORM: &str = "application/x-www-form-urlencoded";

impl<B: Broker + Clone> Mercure<B> {
    /// Answers a publish: authorizes the publisher (its token, and CSRF for a cookie), reads
    /// the form, checks the token allows **every** topic (or nothing is sent), stores the
    /// update with its id (the publisher's, else a fresh `urn:uuid:`), and answers `200` with
    /// that id as `text/plain; charset=utf-8`.
    ///
    /// Refusals: 401 / 403 as the request's revision answers authorization failures, 400 for a
    /// malformed form (403 for a reserved topic in 0.x), 413 past the limits in 1.0, 415 for a
    /// body that is not a form, 503 when the broker cannot store it (closed, unavailable, at
    /// its topic limit). The body is what the service read within
    /// [`MercureConfig::max_body`](super::MercureConfig::max_body).
    pub async fn publish(&self, request: Parts, body: Bytes) -> Answer<B> {
        let answer = self.publish_inner(&request, &body).await;
        self.refuse(&request, answer)
    }

    async fn publish_inner(&self, request: &Parts, body: &[u8]) -> Answer<B> {
        let revision = Revision::of(request);
        let publisher = match self.authorizer.publisher(request) {
            Ok(publisher) => publisher,
            Err(e) => return e.into_response(revision).map(Body::text),
        };
        if !is_form(request) {
            return text_answer(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format_args!("a publish body is {FORM} (Content-Type)"),
            );
        }
        let mut update = match parse_publish(body, revision, self.shared.config.max_id_len()) {
            Ok(update) => update,
            Err(e) => return text_answer(e.status(revision), &e),
        };
        if let Err(e) = publisher.check(&update.topics) {
            return e.into_response(revision).map(Body::text);
        }
        let id = match update.event.id.take() {
            Some(id) => id,
            None => generate_id(),
        };
        update.event.id = Some(id.clone());
        match self.broker.publish(&update.topics, update.event).await {
            Ok(_) => {
                let mut response = Response::new(Body::text(id));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN_UTF8));
                response
            }
            Err(e) => text_answer(e.status(), format_args!("cannot publish: {e}")),
        }
    }
}

/// Whether the request's `Content-Type` is the form's (parameters such as `charset` allowed).
fn is_form(request: &Parts) -> bool {
    request
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(FORM))
}
