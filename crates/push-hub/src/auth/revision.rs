//! Which Mercure revision a request speaks, decided from the request's own form.

use http::header::AUTHORIZATION;
use http::request::Parts;
use push_http::grammar::cookie_values;
use push_http::query::pairs;

use super::V1_COOKIE_NAME;
use super::jws;

/// The Mercure revision whose answers a request gets.
///
/// Where draft-07 (0.x, Mercure's stable release) and the 1.0 draft disagree — status codes,
/// the cookie name, the token in the query, the cursor header — the request's own form
/// decides: a 1.0-shaped request gets 1.0 behaviour, any other gets 0.x's. Names only 1.0
/// has but that do not change an answer (`last_event_id`) are read in either revision and
/// decide nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Revision {
    /// draft-dunglas-mercure-07, as Mercure v0.24 speaks it.
    #[default]
    V0,
    /// draft-dunglas-mercure-08 (Mercure 1.0).
    V1,
}

impl Revision {
    /// The revision of `request`: [`V1`](Self::V1) when its query names a `match…` parameter,
    /// when its token (the `Authorization: Bearer` one, or one in the `authorization` query
    /// parameter, which 1.0 refuses) is typed `at+jwt`, or when it carries no
    /// `Authorization` header and the 1.0 cookie (`__Secure-mercure_access_token`);
    /// [`V0`](Self::V0) otherwise. The 1.0 cursor parameter `last_event_id` is a cursor in
    /// both revisions: a 0.x request that uses it (with a token in the query, say) is still
    /// answered as 0.x.
    ///
    /// ```
    /// use push_hub::auth::Revision;
    ///
    /// let parts = |uri: &str| http::Request::get(uri).body(()).unwrap().into_parts().0;
    /// assert_eq!(Revision::of(&parts("/.well-known/mercure?topic=a")), Revision::V0);
    /// assert_eq!(Revision::of(&parts("/.well-known/mercure?match=a")), Revision::V1);
    /// assert_eq!(Revision::of(&parts("/.well-known/mercure?match=a&last_event_id=x")), Revision::V1);
    /// assert_eq!(Revision::of(&parts("/.well-known/mercure?topic=a&last_event_id=x")), Revision::V0);
    /// ```
    pub fn of(request: &Parts) -> Self {
        let query = request.uri.query().unwrap_or("");
        let v1_query = pairs(query.as_bytes()).any(|p| match p.name.as_deref() {
            Some(n) if n.starts_with("match") => true,
            // An `at+jwt` token where 1.0 allows none: a 1.0 request, answered so (400).
            Some("authorization") => {
                push_http::query::form_decode(p.value).is_some_and(|t| jws::is_access_token(&t))
            }
            _ => false,
        });
        if v1_query {
            return Self::V1;
        }
        let mut authorization = request.headers.get_all(AUTHORIZATION).iter();
        match (authorization.next(), authorization.next()) {
            (Some(value), None) => {
                let typed = value
                    .to_str()
                    .ok()
                    .and_then(super::extract::bearer)
                    .is_some_and(jws::is_access_token);
                if typed { Self::V1 } else { Self::V0 }
            }
            (Some(_), Some(_)) => Self::V0,
            (None, _) => {
                if cookie_values(&request.headers, V1_COOKIE_NAME)
                    .next()
                    .is_some()
                {
                    Self::V1
                } else {
                    Self::V0
                }
            }
        }
    }
}
