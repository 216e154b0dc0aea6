//! TEMPORARY: the shape of push-http's hooks (design §3) until push-http lands on main.
#![allow(missing_docs, unreachable_pub)]

use std::borrow::Cow;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use push_core::{Access, Selector};

pub trait Hooks: Clone + Send + Sync + 'static {
    fn topics(&self, request: &http::request::Parts) -> Result<Selector, Refusal> {
        let query = request.uri.query().unwrap_or_default();
        Selector::from_query(query.as_bytes()).map_err(|e| Refusal {
            status: StatusCode::BAD_REQUEST,
            message: Cow::Owned(e.to_string()),
            headers: HeaderMap::new(),
        })
    }
    fn authorize(
        &self,
        _request: &http::request::Parts,
        _selector: &Selector,
    ) -> impl Future<Output = Result<Access, Refusal>> + Send {
        async { Ok(Access::public()) }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Open;
impl Hooks for Open {}

#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    pub headers: HeaderMap,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            headers: HeaderMap::new(),
        }
    }
    pub fn into_response(self) -> Response<Bytes> {
        let mut r = Response::new(Bytes::from(self.message.into_owned()));
        *r.status_mut() = self.status;
        *r.headers_mut() = self.headers;
        r
    }
}
