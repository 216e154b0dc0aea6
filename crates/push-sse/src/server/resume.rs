//! Where a reconnecting client resumes: its `Last-Event-ID`, from the header or the query.

use http::request::Parts;
use push_core::Cursor;
use push_http::query::Query;

use super::Error;

/// The query parameters read instead of the `Last-Event-ID` header, for clients that cannot set
/// headers (a browser's first `EventSource` request): Mercure's spelling, then this crate's.
/// Their values are percent-decoded as any query value.
pub const LAST_EVENT_ID_PARAMS: [&str; 2] = ["lastEventID", "last_event_id"];

/// The cursor a client resumes from: the `Last-Event-ID` header when present and not blank,
/// else the first of the [`LAST_EVENT_ID_PARAMS`] in the query (decoded strictly, as every
/// query parameter: `5%2D2` is `5-2`); `None` to start from now.
///
/// # Errors
/// [`Error::Cursor`]: the value is not a cursor, or the parameter is not strictly encoded
/// (`QueryInvalid`).
///
/// ```
/// let (parts, ()) = http::Request::get("/events?topic=a&lastEventID=5%2D2")
///     .body(())
///     .unwrap()
///     .into_parts();
/// let cursor = push_sse::server::resume_cursor(&parts).unwrap().unwrap();
/// assert_eq!(cursor.to_string(), "5-2");
/// ```
pub fn resume_cursor(request: &Parts) -> Result<Option<Cursor>, Error> {
    match header_cursor(request) {
        Some(cursor) => cursor.map(Some),
        None => query_cursor(&Query::of(&request.uri)),
    }
}

/// [`resume_cursor`] with the request's query already split (the endpoint's, shared with the
/// hooks).
pub(crate) fn resume_from(request: &Parts, query: &Query<'_>) -> Result<Option<Cursor>, Error> {
    match header_cursor(request) {
        Some(cursor) => cursor.map(Some),
        None => query_cursor(query),
    }
}

/// The `Last-Event-ID` header's cursor; `None` without one or when it is blank.
fn header_cursor(request: &Parts) -> Option<Result<Cursor, Error>> {
    let value = request
        .headers
        .get("last-event-id")?
        .as_bytes()
        .trim_ascii();
    (!value.is_empty()).then(|| Cursor::parse_bytes(value).map_err(Error::Cursor))
}

/// The first of the [`LAST_EVENT_ID_PARAMS`] in `query` that is not empty.
fn query_cursor(query: &Query<'_>) -> Result<Option<Cursor>, Error> {
    for name in LAST_EVENT_ID_PARAMS {
        match query.get(name).map_err(Error::Cursor)? {
            Some(value) if !value.is_empty() => {
                return Cursor::parse(&value).map(Some).map_err(Error::Cursor);
            }
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
        resume_cursor(&parts).map(|c| c.map(|c| c.to_string()))
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
        assert!(matches!(resume("/e", Some("x")), Err(Error::Cursor(_))));
    }
}
