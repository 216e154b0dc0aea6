//! The publish path: one event, one sequence number, one `Arc<Published>` in each of its
//! topics' histories. Publishes are made in groups (`publish_group`): one is a group of one;
//! the group commit (`group.rs`) hands several to the journal in one call.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use push_core::{Cursor, Error, Event, MAX_SELECTOR_TOPICS, Published, Topic};

use crate::history::{Limits, TopicSlot};
use crate::wake::WakeList;
use crate::{Evicted, MemoryBroker};

/// Payloads shorter than this are copied at publish so that history owns exactly what it counts
/// (a copy this small costs less than the request that carried it); longer ones are kept as
/// given, their buffers being at most a few times their length.
const COPY_BELOW: usize = 64 << 10;

/// One publish of a group: its distinct topics and event in, its outcome out.
pub(crate) struct Pending<'t> {
    topics: Cow<'t, [Topic]>,
    /// What is to be stored, until it is (`None`: nothing, or already refused).
    source: Option<Source>,
    published: Option<Arc<Published>>,
    /// Its sequence number here, once it has one.
    seq: u64,
    pub(crate) outcome: Result<Cursor, Error>,
}

/// What a pending publish stores: an event published here, or one made elsewhere with its own
/// cursor ([`MemoryBroker::relay`]).
enum Source {
    Event(Event),
    Relayed(Arc<Published>),
}

impl<'t> Pending<'t> {
    /// A publish on `topics` (deduplicated here; the outcome is already an error when they are
    /// empty or too many).
    pub(crate) fn new(topics: &'t [Topic], event: Event) -> Self {
        let (topics, outcome) = match distinct(topics) {
            Ok(topics) => (topics, Err(Error::BrokerUnavailable)),
            Err(e) => (Cow::Borrowed(&[][..]), Err(e)),
        };
        let source = (!topics.is_empty()).then_some(Source::Event(event));
        Self {
            topics,
            source,
            published: None,
            seq: 0,
            outcome,
        }
    }

    /// A relay of `published` (its topics deduplicated here).
    fn relayed(published: Arc<Published>) -> Pending<'static> {
        let (topics, outcome): (Cow<'static, [Topic]>, _) = match distinct(published.topics()) {
            Ok(topics) => (
                Cow::Owned(topics.into_owned()),
                Err(Error::BrokerUnavailable),
            ),
            Err(e) => (Cow::Owned(Vec::new()), Err(e)),
        };
        // Repeated topics are dropped from the event too: it is counted once per ring.
        let relayed = match topics.len() {
            0 => None,
            n if n == published.topics().len() => Some(published),
            _ => Some(Arc::new(Published::with_topics(
                topics.to_vec().into(),
                published.cursor(),
                published.event().clone(),
            ))),
        };
        Pending {
            topics,
            source: relayed.map(Source::Relayed),
            published: None,
            seq: 0,
            outcome,
        }
    }

    /// The same publish, owning its topics (to cross to the committer thread).
    pub(crate) fn into_owned(self) -> Pending<'static> {
        Pending {
            topics: Cow::Owned(self.topics.into_owned()),
            source: self.source,
            published: self.published,
            seq: self.seq,
            outcome: self.outcome,
        }
    }
}

/// `topics` without duplicates, in their order (borrowed when they have none).
fn distinct(topics: &[Topic]) -> Result<Cow<'_, [Topic]>, Error> {
    match topics {
        [] => Err(Error::SelectorEmpty),
        [_] => Ok(Cow::Borrowed(topics)),
        _ => {
            let mut distinct: Vec<Topic> = Vec::with_capacity(topics.len().min(8));
            for topic in topics {
                if !distinct.contains(topic) {
                    if distinct.len() == MAX_SELECTOR_TOPICS {
                        return Err(Error::SelectorTooLarge);
                    }
                    distinct.push(topic.clone());
                }
            }
            Ok(Cow::Owned(distinct))
        }
    }
}

impl MemoryBroker {
    /// Publishes at once on one topic (the in-memory broker never waits) and returns the
    /// event's cursor: [`publish_to`](Self::publish_to) with one topic.
    ///
    /// # Errors
    /// [`Error::BrokerClosed`] after [`close`](Self::close); [`Error::TopicLimit`] when `topic`
    /// holds no history and [`Config::max_topics`](crate::Config::max_topics) topics already do.
    pub fn publish_now(&self, topic: &Topic, event: Event) -> Result<Cursor, Error> {
        self.publish_to(core::slice::from_ref(topic), event)
    }

    /// Publishes one event on `topics` at once, all or none, and returns its one cursor.
    ///
    /// The event is stored once (one `Arc<Published>` referenced from each topic's history)
    /// and delivered once to each subscriber, however many of its topics the subscriber
    /// selects. `topics[0]` is the canonical topic; duplicates are ignored. The topic limit is
    /// checked for every topic that would start holding history before anything is stored,
    /// under the broker-wide lock that orders publishes, so a refusal leaves nothing behind and
    /// a client may retry without duplicating anything.
    ///
    /// With a [journal](crate::Config::with_journal), this call writes its event alone (one
    /// commit) on the calling thread; the asynchronous [`push_core::Broker::publish`] shares
    /// commits between concurrent publishes instead (see the [crate docs](crate)).
    ///
    /// # Errors
    /// [`Error::SelectorEmpty`] without a topic; [`Error::SelectorTooLarge`] past
    /// [`MAX_SELECTOR_TOPICS`] distinct topics; [`Error::BrokerClosed`] after
    /// [`close`](Self::close); [`Error::TopicLimit`] when the topics that hold no history
    /// would take the broker past [`Config::max_topics`](crate::Config::max_topics);
    /// [`Error::BrokerUnavailable`] when the [journal](crate::Config::with_journal) could not
    /// keep the event (nothing is stored or delivered).
    pub fn publish_to(&self, topics: &[Topic], event: Event) -> Result<Cursor, Error> {
        let mut one = [Pending::new(topics, event)];
        self.publish_group(&mut one);
        let [one] = one;
        one.outcome
    }

    /// Delivers an event made elsewhere, with the cursor it has there, to this broker's
    /// subscribers, as a publish here would: into its topics' histories (bounded as usual),
    /// waking their subscribers, the same `Arc` for all of them. For a process that fans out
    /// locally what a shared store ordered (push-redis relays what its reader released).
    ///
    /// The cursors are the caller's and must increase from one relay to the next; subscribers
    /// see them unchanged. A relaying broker is live-only: resuming from a relayed cursor,
    /// [`head`](Self::head) and [`resolve`](Self::resolve) count in this broker's own sequence
    /// numbers, which relayed cursors do not carry; and it keeps no journal.
    ///
    /// # Errors
    /// As [`publish_to`](Self::publish_to); [`Error::BrokerUnavailable`] with a journal.
    pub fn relay(&self, published: Arc<Published>) -> Result<(), Error> {
        if self.inner.config.journal.is_some() {
            return Err(Error::BrokerUnavailable);
        }
        let mut one = [Pending::relayed(published)];
        self.publish_group(&mut one);
        let [one] = one;
        one.outcome.map(|_| ())
    }

    /// Publishes every pending publish of `group` that can be, in order, under one hold of the
    /// broker-wide lock and with one journal call for all of them: each is all or nothing on
    /// its own for the topic limit, and the group is all or nothing for the journal (a
    /// journal that refuses the group refuses each publish of it). The outcomes are exactly
    /// those of publishing them one after another, one journal write each.
    pub(crate) fn publish_group(&self, group: &mut [Pending<'_>]) {
        if self.inner.closed.load(Ordering::Acquire) {
            for p in group.iter_mut().filter(|p| p.source.is_some()) {
                p.outcome = Err(Error::BrokerClosed);
            }
            return;
        }
        let config = &self.inner.config;
        let slots: Vec<Vec<Arc<TopicSlot>>> = group
            .iter_mut()
            .map(|p| {
                if let Some(Source::Event(event)) = &mut p.source
                    && event.data.len() < COPY_BELOW
                {
                    // A small payload may be a slice of a transport's read buffer (hyper's,
                    // for a body that arrived in one piece) and would keep all of it alive,
                    // unseen by the budgets.
                    event.data = Bytes::copy_from_slice(&event.data);
                }
                p.topics.iter().map(|t| self.inner.slot(t)).collect()
            })
            .collect();
        let limits = Limits {
            count: config.history_count,
            age: config.history_age,
            bytes: config.topic_budget(),
        };
        let mut wake = WakeList::default();
        let mut emptied = Vec::new();
        {
            let mut ledger = self.inner.ledger();
            // Read under the lock: events enter each ring in time order too.
            let now = config.clock.now();
            // Topics an earlier publish of this group starts (not yet in their rings).
            let mut claimed: Vec<Topic> = Vec::new();
            let mut next = ledger.seq;
            for (p, slots) in group.iter_mut().zip(&slots) {
                let Some(source) = p.source.take() else {
                    continue;
                };
                // Rings change only under the ledger's lock: what is counted here stays true
                // until the event is in.
                let fresh = |claimed: &[Topic]| {
                    p.topics
                        .iter()
                        .zip(slots)
                        .filter(|&(t, s)| s.lock().len() == 0 && !claimed.contains(t))
                        .count()
                };
                let live = |ledger: &crate::ledger::Ledger, claimed: &[Topic], new: usize| {
                    new > 0
                        && ledger
                            .live_topics
                            .saturating_add(claimed.len())
                            .saturating_add(new)
                            > config.max_topics
                };
                let mut new = fresh(&claimed);
                if live(&ledger, &claimed, new) {
                    // Topics whose history is due to expire make room before anyone is refused.
                    self.inner.expire_due(&mut ledger, now, &mut emptied);
                    new = fresh(&claimed);
                }
                if live(&ledger, &claimed, new) {
                    p.outcome = Err(Error::TopicLimit);
                    continue;
                }
                for (t, s) in p.topics.iter().zip(slots) {
                    if s.lock().len() == 0 && !claimed.contains(t) {
                        claimed.push(t.clone());
                    }
                }
                next += 1;
                p.seq = next;
                p.published = Some(match source {
                    Source::Event(event) => Arc::new(Published::with_topics(
                        p.topics.to_vec().into(),
                        Cursor::new(self.inner.epoch, next),
                        event,
                    )),
                    Source::Relayed(published) => published,
                });
            }
            drop(claimed);
            // Durable before visible: a journal that cannot keep the events refuses them.
            if let Some(journal) = &config.journal
                && next > ledger.seq
            {
                let staged: Vec<Arc<Published>> =
                    group.iter().filter_map(|p| p.published.clone()).collect();
                self.inner.forget_departed(&mut ledger);
                let departures = &mut ledger.departures;
                let evicted = Evicted {
                    offsets: &departures.pending,
                    evicted_max: departures.evicted_max,
                };
                if journal.append(&staged, evicted).is_ok() {
                    departures.pending.clear();
                } else {
                    for p in group.iter_mut().filter(|p| p.published.is_some()) {
                        p.published = None;
                        p.outcome = Err(Error::BrokerUnavailable);
                    }
                }
            }
            for (p, slots) in group.iter_mut().zip(&slots) {
                let Some(published) = p.published.take() else {
                    // Slots made for a refused publish must not stay behind (below).
                    emptied.extend(p.topics.iter().cloned());
                    continue;
                };
                let seq = p.seq;
                let before = ledger.seq;
                ledger.seq = seq;
                ledger.departures.stored(seq, &published);
                if published.event().id.is_some() {
                    self.inner.index_mut().insert(&published);
                }
                for (topic, slot) in p.topics.iter().zip(slots) {
                    let mut history = slot.lock();
                    history.push(
                        seq,
                        now,
                        Arc::clone(&published),
                        limits,
                        &mut wake,
                        &mut ledger.departures,
                    );
                    ledger.settle(topic, &mut history, limits.age);
                }
                // In every ring now: a subscriber that reads this watermark finds the event in
                // each of its topics.
                self.inner.watermark.store(seq, Ordering::Release);
                self.inner.trim(&mut ledger, before, &mut emptied);
                p.outcome = Ok(published.cursor());
            }
            self.inner.forget_departed(&mut ledger);
        }
        drop(slots);
        wake.wake_all();
        for topic in emptied {
            self.inner.release(&topic);
        }
    }
}
