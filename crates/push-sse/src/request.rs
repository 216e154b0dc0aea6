//! What a subscribe or publish request names: the topics of its query string, read by one rule.

use push_core::Selector;

use crate::Error;

/// The topics of a request's query string (the raw query, without `?`): the union of every
/// `topic=` parameter, as Mercure reads a repeated `topic`; other parameters are ignored.
///
/// Decoding is strict (see [`push_core::form_decode`]): an escape that is not `%` and two hex
/// digits, or a name that is not UTF-8 once decoded, is refused rather than decoded lossily or
/// taken literally, so two spellings never become one topic.
///
/// # Errors
/// [`Error::Topic`] with the reason: `QueryInvalid` (the encoding), a topic's own rule, no topic
/// (`SelectorEmpty`) or too many (`SelectorTooLarge`). [`error_response`](crate::error_response)
/// answers it with 400.
///
/// ```
/// let selector = push_sse::query_selector(Some("topic=a&last_event_id=1-2&topic=b%2Fc")).unwrap();
/// assert_eq!(selector.topics().len(), 2);
/// let error = push_sse::query_selector(Some("topic=a%ffb")).unwrap_err();
/// assert_eq!(push_sse::error_response(&error).status(), 400);
/// ```
pub fn query_selector(query: Option<&str>) -> Result<Selector, Error> {
    Selector::from_query(query.unwrap_or("").as_bytes()).map_err(Error::Topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_topics_in_a_query() {
        let names = |q: &str| {
            query_selector(Some(q)).map(|s| {
                s.topics()
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(names("topic=b&topic=a&topic=b").unwrap(), ["a", "b"]);
        assert_eq!(names("topic=a+b%21").unwrap(), ["a b!"]);
        for (query, reason) in [
            ("topic=a%ffb", push_core::Error::QueryInvalid),
            ("topic=a%feb", push_core::Error::QueryInvalid),
            ("topic=%zz", push_core::Error::QueryInvalid),
            ("topic=%0a", push_core::Error::TopicInvalidCharacter),
            ("x=1", push_core::Error::SelectorEmpty),
        ] {
            assert_eq!(names(query), Err(Error::Topic(reason)), "{query}");
        }
        assert_eq!(
            query_selector(None),
            Err(Error::Topic(push_core::Error::SelectorEmpty))
        );
    }
}
