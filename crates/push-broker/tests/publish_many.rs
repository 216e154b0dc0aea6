//! A publish to several topics is all or none: the topic limit is decided for all of them
//! before any event is stored, so a refusal leaves nothing behind and a retry duplicates
//! nothing. A broker that does not override `Broker::publish_many` reports a partial publish.

use futures_util::FutureExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Broker, Cursor, Delivery, Error, Event, PublishError, Selector, Topic};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn selector(names: &[&str]) -> Selector {
    Selector::new(names.iter().map(|n| topic(n))).unwrap()
}

/// Two topics of room taken by `a`, then `b` and `c` together: `b` would fit, `c` not.
fn nearly_full() -> MemoryBroker {
    let b = MemoryBroker::new(Config::default().max_topics(2));
    b.publish_now(&topic("a"), Event::new("a1")).unwrap();
    b
}

#[test]
fn a_refused_multi_topic_publish_publishes_nothing() {
    let b = nearly_full();
    let head = b.head();
    let refused = b.publish_many(&selector(&["b", "c"]), Event::new("x"));
    assert_eq!(refused, Err(Error::TopicLimit));
    assert_eq!(
        b.retained(&topic("b")),
        0,
        "b kept an event of a refused publish"
    );
    assert_eq!((b.head(), b.topic_count()), (head, 1));
    // Through the trait, as servers call it: the error says nothing was published.
    let refused = Broker::publish_many(&b, &selector(&["b", "c"]), Event::new("x"))
        .now_or_never()
        .unwrap();
    assert_eq!(
        refused,
        Err(PublishError::new(Vec::new(), Error::TopicLimit))
    );
    assert_eq!(b.retained(&topic("b")), 0);
    // One new topic still fits, with an existing one beside it.
    let cursors = b
        .publish_many(&selector(&["a", "b"]), Event::new("y"))
        .unwrap();
    assert_eq!(cursors.len(), 2);
    assert_eq!(cursors[1].offset(), cursors[0].offset() + 1);
}

#[test]
fn a_multi_topic_publish_reaches_a_subscriber_of_all_topics_once_in_order() {
    let b = MemoryBroker::default();
    let all = selector(&["x", "y", "z"]);
    let mut sub = b.subscribe(&all, None).unwrap();
    let cursors = b.publish_many(&all, Event::new("one")).unwrap();
    let mut seen = Vec::new();
    while let Some(Delivery::Event(p)) = sub.try_recv() {
        seen.push((p.topic().as_str().to_owned(), p.cursor()));
    }
    let want: Vec<(String, Cursor)> = ["x", "y", "z"]
        .iter()
        .map(|t| (*t).to_owned())
        .zip(cursors)
        .collect();
    assert_eq!(seen, want);
}

/// A broker that keeps the trait's provided `publish_many` (topic by topic).
struct OneByOne(MemoryBroker);

impl Broker for OneByOne {
    type Subscription = push_broker::MemorySubscription;

    fn publish(
        &self,
        topic: &Topic,
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send {
        self.0.publish(topic, event)
    }

    fn subscribe(
        &self,
        selector: &Selector,
        from: Option<Cursor>,
    ) -> Result<Self::Subscription, Error> {
        self.0.subscribe(selector, from)
    }

    fn head(&self) -> Cursor {
        self.0.head()
    }
}

#[test]
fn the_provided_publish_many_reports_what_it_published_before_failing() {
    let b = OneByOne(nearly_full());
    let e = b
        .publish_many(&selector(&["b", "c"]), Event::new("x"))
        .now_or_never()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.error, Error::TopicLimit);
    assert_eq!(e.published, [(topic("b"), b.head())]);
    assert_eq!(b.0.retained(&topic("b")), 1);
    assert_eq!(
        e.to_string(),
        format!("published on 1 topic(s) only: {}", Error::TopicLimit)
    );
    assert!(std::error::Error::source(&e).is_some());
}
