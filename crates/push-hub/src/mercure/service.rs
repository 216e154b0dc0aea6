//! The tower service for every `/.well-known/mercure…` route.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, HeaderValue};
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use push_core::Broker;
use push_sse::server::Body;

use super::query_method::{ACCEPT_QUERY, FORM, is_query, query_params};
use super::{Answer, HUB_PATH, METADATA_PATH, Mercure, text_answer};

/// The methods of the hub's URL, for `Allow`.
const ALLOW_HUB: &str = "GET, HEAD, POST, QUERY, OPTIONS";

/// The future of [`Mercure`]'s service.
type AnswerFuture<B> = Pin<Box<dyn Future<Output = Result<Answer<B>, Infallible>> + Send>>;

impl<B, ReqBody> tower_service::Service<Request<ReqBody>> for Mercure<B>
where
    B: Broker + Clone,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Answer<B>;
    type Error = Infallible;
    type Future = AnswerFuture<B>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    /// Routes `request`: `GET` / `HEAD` subscribe, and so does 1.0's `QUERY` with the
    /// parameters in its form-urlencoded body (joined to the URL's; the body read up to
    /// `max_body`, else 413; another content type 415), `POST` publishes (its body read up to
    /// [`MercureConfig::max_body`](super::MercureConfig::max_body), else 413), `OPTIONS` is
    /// the CORS preflight; `/.well-known/mercure/subscriptions…` is the subscriptions API when
    /// it is on; `/.well-known/oauth-protected-resource/.well-known/mercure` is 1.0's
    /// metadata ([`METADATA_PATH`]); any other path is a 404 and any other method a 405.
    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.route(request).await) })
    }
}

impl<B: Broker + Clone> Mercure<B> {
    async fn route<ReqBody>(&self, request: Request<ReqBody>) -> Answer<B>
    where
        ReqBody: http_body::Body + Send + 'static,
        ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path();
        if path == HUB_PATH {
            return match parts.method {
                Method::GET => match self.subscribe(&parts) {
                    Ok((head, events)) => Response::from_parts(head, Body::events(events)),
                    Err(refused) => refused,
                },
                Method::HEAD => match self.check_subscribe(&parts, query(&parts)) {
                    Ok(checked) => {
                        Response::from_parts(self.stream_head(&parts, &checked), Body::text(""))
                    }
                    Err(refused) => refused,
                },
                Method::POST => match read_body(&parts, body, self.config().max_body()).await {
                    Ok(bytes) => self.publish(parts, bytes).await,
                    Err(refused) => self.refuse(&parts, refused),
                },
                Method::OPTIONS => self.preflight(&parts),
                ref method if is_query(method) => {
                    let max = self.config().max_body();
                    match query_params(&parts, body, max).await {
                        Ok(params) => match self.subscribe_with(&parts, &params) {
                            Ok((head, events)) => Response::from_parts(head, Body::events(events)),
                            Err(refused) => refused,
                        },
                        Err(refused) => self.refuse(&parts, refused),
                    }
                }
                _ => self.refuse(&parts, method_not_allowed(ALLOW_HUB)),
            };
        }
        if path == METADATA_PATH {
            return match parts.method {
                Method::GET | Method::HEAD => {
                    let answer = self.metadata(&parts).map(Body::text);
                    self.refuse(&parts, answer)
                }
                Method::OPTIONS => self.preflight(&parts),
                _ => self.refuse(&parts, method_not_allowed("GET, HEAD, OPTIONS")),
            };
        }
        if let Some(rest) = path.strip_prefix(HUB_PATH)
            && rest.starts_with("/subscriptions")
            && let Some(registry) = &self.shared.subscriptions
        {
            return match parts.method {
                Method::GET | Method::HEAD => {
                    let answer = registry.answer(&self.broker, &self.authorizer, &parts);
                    self.refuse(&parts, answer.map(Body::text))
                }
                Method::OPTIONS => self.preflight(&parts),
                _ => self.refuse(&parts, method_not_allowed("GET, HEAD, OPTIONS")),
            };
        }
        self.refuse(
            &parts,
            text_answer(StatusCode::NOT_FOUND, "no such Mercure resource"),
        )
    }

    /// The answer to `OPTIONS`: `204`, `Allow`, and the CORS preflight headers when the
    /// origin and method are allowed.
    fn preflight(&self, request: &Parts) -> Answer<B> {
        let mut response = Response::new(Body::text(""));
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.extend(self.shared.cors.preflight(&request.headers));
        headers.insert(ALLOW, HeaderValue::from_static(ALLOW_HUB));
        headers.insert(ACCEPT_QUERY, HeaderValue::from_static(FORM));
        response
    }
}

/// The URL's query of `request`: the subscribe parameters of a `GET` or `HEAD`.
fn query(request: &Parts) -> &[u8] {
    request.uri.query().unwrap_or("").as_bytes()
}

fn method_not_allowed<S>(allow: &'static str) -> Response<Body<S>> {
    let mut response = text_answer(
        StatusCode::METHOD_NOT_ALLOWED,
        format_args!("this resource answers {allow}"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// The whole body, or `413` past `max` bytes (a `Content-Length` over it is refused before a
/// byte is read) and `400` when the body fails.
pub(super) async fn read_body<ReqBody, S>(
    parts: &Parts,
    body: ReqBody,
    max: usize,
) -> Result<Bytes, Response<Body<S>>>
where
    ReqBody: http_body::Body,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large = || {
        text_answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            format_args!("a request body is at most {max} bytes"),
        )
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX)) {
        return Err(too_large());
    }
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(e) => Err(text_answer(
            StatusCode::BAD_REQUEST,
            format_args!("the request body could not be read: {e}"),
        )),
    }
}
