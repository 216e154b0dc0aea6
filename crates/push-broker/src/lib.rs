//! The embedded in-memory broker of the `push-*` crates: the default for every example, test
//! and for the hub.
//!
//! [`MemoryBroker`] implements [`push_core::Broker`]: publish an [`Event`](push_core::Event) on a
//! [`Topic`](push_core::Topic), get its [`Cursor`](push_core::Cursor) back; subscribe to a
//! [`Selector`](push_core::Selector) from a cursor and get a [`MemorySubscription`], a stream of
//! [`Delivery`](push_core::Delivery) items: the retained events after the cursor, then live ones,
//! with no hole and no duplicate at the seam, and an explicit gap wherever something was lost.
//!
//! [`MemoryBroker::relay`] fans out events made elsewhere, with their own cursors: push-redis
//! relays what its reader released, so a hub's subscribers on Redis are woken by the same
//! topic rings as here.
//!
//! # Design
//!
//! ```text
//!   publish ──► sequence lock ──► topic ring [e1 e2 e3 … en] ──► wake parked subscribers
//!                                      ▲        ▲
//!                        subscriber A: next ┘        └ subscriber B: next
//! ```
//!
//! - **One sequence for the whole broker.** Every event gets the next broker-wide offset; a
//!   cursor is `(epoch, offset)`. Sequence numbers enter the topics in order (the sequence lock is
//!   held while the event is inserted), so a subscriber that holds its topics' locks sees every
//!   earlier event of them, and one cursor resumes a multi-topic subscription exactly.
//!   Subscribing never takes the sequence lock: it cannot hold up publishes elsewhere.
//! - **One event, several topics.** [`MemoryBroker::publish_to`] stores one event (one cursor,
//!   one `Arc<Published>`) in each of its topics' histories, all or none: the topic limit is
//!   decided for all of them before anything is stored. A subscriber that follows several of
//!   them receives it once.
//! - **Patterns are matched in the broker, once per topic.** A selector with `*`, URI templates
//!   or URL patterns follows every existing topic it matches and every topic created while it is
//!   open (each matched once, when it appears; bounded by [`Config::max_pattern_subscriptions`]
//!   and [`Config::max_pattern_topics`]). Replay merges the matched topics' histories in cursor
//!   order, exactly as an exact-topic subscription to the same topics would.
//! - **Access per subscriber.** A private event reaches only the subscriptions whose
//!   [`Access`](push_core::Access) grants one of its topics (decided once per followed topic);
//!   an access deadline ends the subscription with
//!   [`CloseReason::Expired`](push_core::CloseReason::Expired), read with the broker's clock.
//! - **History per topic**, bounded by count, age and bytes, and for the whole broker by bytes
//!   and by the number of topics holding history ([`Config`] says what the defaults hold). When
//!   the broker's bytes are spent, the topic with the most history loses its oldest events: a
//!   topic within its fair share never loses an event to another topic's publishes. Each topic
//!   remembers the highest offset it has evicted; a cursor below it gets a
//!   [`Gap`](push_core::Gap) (`Evicted`) placed exactly where the loss is.
//! - **Expiry runs on deadlines, not on traffic.** The broker keeps its topics ordered by when
//!   their oldest event expires: [`MemoryBroker::poll_timeout`] is the next deadline and
//!   [`MemoryBroker::sweep`] frees what is due, visiting only those topics. With the `sweeper`
//!   feature, [`MemoryBroker::spawn_sweeper`] runs that loop. The broker reads time only through
//!   [`Config::with_clock`], so tests move it by hand.
//! - **Topics without history cost nothing permanent.** A subscription to a topic nobody
//!   published on holds a slot that goes with the last subscriber, and does not count against
//!   [`Config::max_topics`]: subscribers cannot use up the topic limit for publishers.
//! - **Fan-out is a shared ring, not a copy.** Each published event is one `Arc<Published>`
//!   shared by every subscriber (and its per-format encoding is cached there). A subscriber's
//!   queue is its distance behind the ring's head, bounded by [`Config::queue_count`] and
//!   [`Config::queue_bytes`]; past that, [`Overflow`] decides: drop the backlog and announce a gap
//!   (default), or close. Publishing never waits for a subscriber.
//! - **Durable before visible, commits shared.** With a [`Journal`]
//!   ([`Config::with_journal`]), each event is made durable before any subscriber sees it. The
//!   asynchronous [`push_core::Broker::publish`] hands its publish to the broker's committer
//!   thread, which makes every publish queued meanwhile (up to [`MAX_GROUP`]) in one journal
//!   call: many publishers share one disk sync, each publish resolving only after the commit
//!   that holds it. [`MemoryBroker::publish_to`] writes its event alone, on the calling thread.
//! - **Dropping a subscription frees its slot at once**, and a topic with neither history nor
//!   subscribers is forgotten (keeping the fact that it lost events, so gaps stay announced).
//! - **Epochs.** Each broker draws a random epoch; a cursor of another epoch (an earlier run) gets a
//!   gap (`UnknownEpoch`) and then everything retained; a cursor from the future gets a gap
//!   (`FromFuture`) and then live events.
//!
//! ```
//! use futures_util::StreamExt;
//! use push_broker::MemoryBroker;
//! use push_core::{Access, Delivery, Event, Selector, Topic};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let broker = MemoryBroker::default();
//! let news = Topic::new("news").unwrap();
//! let first = broker.publish_now(&news, Event::new("one")).unwrap();
//! broker.publish_now(&news, Event::new("two")).unwrap();
//!
//! // Resume after the first event: the second comes from history, the third live.
//! let selector = Selector::one(news.clone());
//! let mut sub = broker.subscribe(&selector, Some(first), &Access::public()).unwrap();
//! broker.publish_now(&news, Event::new("three")).unwrap();
//! for want in ["two", "three"] {
//!     let Some(Delivery::Event(e)) = sub.next().await else { panic!() };
//!     assert_eq!(e.event().data, want);
//! }
//! assert_eq!(sub.cursor(), broker.head());
//! # });
//! ```
//!
//! # Crate features
//! - `sweeper`: [`MemoryBroker::spawn_sweeper`], a tokio task that expires history on time.
//!
//! # Errors
//! [`push_core::Error::BrokerClosed`] after [`MemoryBroker::close`];
//! [`push_core::Error::TopicLimit`] from a publish that would start a topic past
//! [`Config::max_topics`] (servers answer 503: the limit is the server's capacity, not this
//! client's rate, and it frees itself as history expires);
//! [`push_core::Error::SubscriptionLimit`] from a pattern subscription past
//! [`Config::max_pattern_subscriptions`] or [`Config::max_pattern_topics`];
//! [`push_core::Error::SelectorEmpty`] / [`push_core::Error::SelectorTooLarge`] from a publish
//! naming no topic or too many. Nothing else fails.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod broker;
mod config;
mod departures;
mod evict;
mod group;
mod history;
mod ids;
mod journal;
mod ledger;
mod merge;
mod patterns;
mod publish;
mod restore;
mod subscription;
#[cfg(feature = "sweeper")]
mod sweeper;
mod wake;

pub use broker::MemoryBroker;
pub use config::{
    Config, DEFAULT_HISTORY_BYTES, DEFAULT_MAX_PATTERN_SUBSCRIPTIONS, DEFAULT_MAX_PATTERN_TOPICS,
    DEFAULT_MAX_TOPICS, DEFAULT_TOTAL_HISTORY_BYTES, Overflow,
};
pub use group::MAX_GROUP;
pub use journal::{Evicted, Journal, JournalError, Record, RestoreError, Snapshot};
pub use subscription::MemorySubscription;
