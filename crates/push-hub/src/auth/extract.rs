//! Where a request presents its token, and the origin check of a cookie-authenticated publish.

use std::borrow::Cow;

use http::Uri;
use http::header::{AUTHORIZATION, ORIGIN, REFERER};
use http::request::Parts;
use push_http::grammar::cookie_values;
use push_http::query::query_param;

use super::{Reason, Revision, V1_COOKIE_NAME};

/// Where the token came from: a cookie is ambient (the browser sends it on a forged
/// cross-site request too), the other two are not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Header,
    Query,
    Cookie,
}

/// The token of a `Bearer` credential (the scheme is case-insensitive, RFC 9110 §11.1);
/// `None` for another scheme. An empty token is `Some("")`.
pub(crate) fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_matches(' '))
}

/// The token `request` presents and where, in Mercure's order: the `Authorization: Bearer`
/// header, then (0.x only) the `authorization` query parameter, then the cookie (1.0 first
/// `__Secure-mercure_access_token`, then `cookie_name`). An `Authorization` header of another
/// scheme (a proxy's Basic credentials) is passed over, as Mercure's hub does.
///
/// # Errors
/// [`Reason::InvalidRequest`] for a presentation that cannot be read: several
/// `Authorization` headers, one that is not text, an empty Bearer token, an undecodable query
/// parameter, a query token in a 1.0 request.
pub(crate) fn presented<'r>(
    request: &'r Parts,
    revision: Revision,
    cookie_name: &'r str,
) -> Result<Option<(Cow<'r, str>, Source)>, Reason> {
    let mut headers = request.headers.get_all(AUTHORIZATION).iter();
    if let Some(value) = headers.next() {
        if headers.next().is_some() {
            return Err(invalid("the request carries several Authorization headers"));
        }
        let text = value
            .to_str()
            .map_err(|_| invalid("the Authorization header is not visible ASCII"))?;
        match bearer(text) {
            Some("") => {
                return Err(invalid(
                    "the Authorization header names Bearer but no token",
                ));
            }
            Some(token) => return Ok(Some((Cow::Borrowed(token), Source::Header))),
            None => {}
        }
    }
    let query = request.uri.query().unwrap_or("").as_bytes();
    let in_query = query_param(query, "authorization")
        .map_err(|_| invalid("the authorization query parameter is not validly %-encoded"))?;
    match (in_query, revision) {
        (Some(token), Revision::V0) if !token.is_empty() => {
            return Ok(Some((token, Source::Query)));
        }
        (Some(_), Revision::V1) => {
            return Err(invalid(
                "a 1.0 request presents its token in the Authorization header or the cookie, \
                 not in the query",
            ));
        }
        _ => {}
    }
    let cookie = match revision {
        Revision::V1 => cookie_values(&request.headers, V1_COOKIE_NAME).next(),
        Revision::V0 => None,
    }
    .or_else(|| cookie_values(&request.headers, cookie_name).next());
    Ok(cookie
        .filter(|c| !c.is_empty())
        .map(|c| (Cow::Borrowed(c), Source::Cookie)))
}

fn invalid(what: &'static str) -> Reason {
    Reason::InvalidRequest(Cow::Borrowed(what))
}

/// Checks the origin of a cookie-authenticated publish against `allowed` (`*` allows any):
/// the `Origin` header, else the origin of the `Referer`.
///
/// # Errors
/// [`Reason::BadOrigin`] without either header, or from an origin that is not allowed.
pub(crate) fn check_origin(request: &Parts, allowed: &[String]) -> Result<(), Reason> {
    let origin = match request.headers.get(ORIGIN) {
        Some(value) => value.to_str().ok().map(|o| Cow::Borrowed(o.trim())),
        None => request
            .headers
            .get(REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(referer_origin)
            .map(Cow::Owned),
    };
    let Some(origin) = origin else {
        return Err(Reason::BadOrigin(Cow::Borrowed(
            "needs an Origin or a Referer header",
        )));
    };
    let origin = origin.trim_end_matches('/');
    let ok = allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin));
    if ok {
        return Ok(());
    }
    // The origin is the peer's text: bounded and shown with its escapes.
    let shown: String = origin.chars().take(200).collect();
    Err(Reason::BadOrigin(Cow::Owned(format!(
        "from the origin {shown:?}, which is not an allowed publish origin"
    ))))
}

/// `scheme://authority` of an absolute `Referer` URL.
fn referer_origin(referer: &str) -> Option<String> {
    let uri: Uri = referer.parse().ok()?;
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    // `user:pass@` is not part of an origin.
    let host = authority.as_str().rsplit('@').next()?;
    Some(format!("{scheme}://{host}"))
}
