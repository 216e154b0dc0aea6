//! Where a reconnecting client resumes: its `Last-Event-ID`, from the header or the query.

use http::request::Parts;
use push_core::{Cursor, Resume};
use push_http::query::Query;

use super::Error;

/// The query parameters read instead of the `Last-Event-ID` header, for clients that cannot set
/// headers (a browser's first `EventSource` request): Mercure's spelling, then this crate's.
/// Their values are percent-decoded as any query value.
pub const LAST_EVENT_ID_PARAMS: [&str; 2] = ["lastEventID", "last_event_id"];

/// Where a client resumes: the `Last-Event-ID` header when present and not blank, else the
/// first of the [`LAST_EVENT_ID_PARAMS`] in the query (decoded strictly, as every query
/// parameter: `5%2D2` is `5-2`); `None` to start from now. A value that is not a cursor is an
/// id (one a client saw on another transport, such as a Mercure id), which the endpoint
/// places with [`Broker::place`](push_core::Broker::place): one it cannot place is a gap.
///
/// # Errors
/// [`Error::Cursor`]: the parameter is not strictly encoded (`QueryInvalid`), or the header
/// is not UTF-8.
///
/// ```
/// use push_core::{Cursor, Resume};
///
/// let (parts, ()) = http::Request::get("/events?topic=a&lastEventID=5%2D2")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let resume = push_sse::server::resume(&parts).unwrap();
/// assert_eq!(resume, Some(Resume::Cursor(Cursor::new(5, 2))));
/// ```
pub fn resume(request: &Parts) -> Result<Option<Resume>, Error> {
    match header_resume(request) {
        Some(resume) => resume.map(Some),
        None => query_resume(&Query::of(&request.uri)),
    }
}

/// [`resume`] with the request's query already split (the endpoint's, shared with the
/// hooks).
pub(crate) fn resume_from(request: &Parts, query: &Query<'_>) -> Result<Option<Resume>, Error> {
    match header_resume(request) {
        Some(resume) => resume.map(Some),
        None => query_resume(query),
    }
}

/// The `Last-Event-ID` header's resume point; `None` without one or when it is blank.
fn header_resume(request: &Parts) -> Option<Result<Resume, Error>> {
    let value = request
        .headers
        .get("last-event-id")?
        .as_bytes()
        .trim_ascii();
    (!value.is_empty()).then(|| match Cursor::parse_bytes(value) {
        Ok(cursor) => Ok(Resume::Cursor(cursor)),
        Err(e) => core::str::from_utf8(value)
            .map(|text| Resume::Id(text.into()))
            .map_err(|_| Error::Cursor(e)),
    })
}

/// The first of the [`LAST_EVENT_ID_PARAMS`] in `query` that is not empty.
fn query_resume(query: &Query<'_>) -> Result<Option<Resume>, Error> {
    for name in LAST_EVENT_ID_PARAMS {
        match query.get(name).map_err(Error::Cursor)? {
            Some(value) if !value.is_empty() => return Ok(Some(Resume::parse(&value))),
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resume(uri: &str, header: Option<&str>) -> Result<Option<String>, Error> {
        let mut request = http::Request::get(uri);
        if let Some(value) = header {
            request = request.header("last-event-id", value);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        super::resume(&parts).map(|r| {
            r.map(|r| match r {
                Resume::Cursor(c) => c.to_string(),
                Resume::Id(id) => format!("id:{id}"),
            })
        })
    }

    #[test]
    fn the_query_parameter_is_percent_decoded() {
        // `last_event_id` was read undecoded: `5%2D2` was refused as a malformed cursor.
        assert_eq!(
            resume("/e?last_event_id=5%2D2", None),
            Ok(Some("5-2".into()))
        );
        assert_eq!(resume("/e?lastEventID=5%2d3", None), Ok(Some("5-3".into())));
        assert_eq!(
            resume("/e?l%61st_event_id=5-4", None),
            Ok(Some("5-4".into()))
        );
        assert_eq!(
            resume("/e?last_event_id=5%zz", None),
            Err(Error::Cursor(push_core::Error::QueryInvalid))
        );
    }

    #[test]
    fn the_header_wins_and_blank_values_mean_from_now() {
        assert_eq!(
            resume("/e?last_event_id=5-2", Some("5-3")),
            Ok(Some("5-3".into()))
        );
        assert_eq!(
            resume("/e?last_event_id=5-2", Some("  ")),
            Ok(Some("5-2".into()))
        );
        assert_eq!(resume("/e?last_event_id=&topic=a", None), Ok(None));
        assert_eq!(resume("/e", None), Ok(None));
        // Not a cursor: an id, for the endpoint to place.
        assert_eq!(resume("/e", Some("x")), Ok(Some("id:x".into())));
        assert_eq!(
            resume("/e?lastEventID=urn%3Auuid%3A1", None),
            Ok(Some("id:urn:uuid:1".into()))
        );
    }
}
