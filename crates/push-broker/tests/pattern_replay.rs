//! Property: whatever topics a pattern meets (existing when it subscribes, or created while it
//! is open), what it receives is what an exact-topic subscription to the same topics receives
//! — the same events, in cursor order, each once, even an event published to several of them.

use proptest::prelude::*;
use push_broker::{MemoryBroker, MemorySubscription};
use push_core::{Access, Cursor, Delivery, Event, Pattern, Selector, Topic};

const TOPICS: [&str; 8] = [
    "/a/1", "/a/2", "/a/1/x", "/b/1", "/b/2", "/c", "/a/3", "/b/1/y",
];
const PATTERNS: [&str; 5] = ["*", "/a/{id}", "/{kind}/1", "/a{/rest*}", "{/kind,id}"];

fn cursors(sub: &mut MemorySubscription) -> Vec<Cursor> {
    let mut seen = Vec::new();
    while let Some(item) = sub.try_recv() {
        match item {
            Delivery::Event(p) => seen.push(p.cursor()),
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

/// One publish: indexes into `TOPICS` (repeats allowed; the first is canonical).
fn publishes() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(0..TOPICS.len(), 1..4), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn pattern_replay_is_exact_replay_of_the_matched_topics(
        before in publishes(),
        after in publishes(),
        pattern in 0..PATTERNS.len(),
    ) {
        let b = MemoryBroker::default();
        let publish = |topics: &Vec<usize>| {
            let topics: Vec<Topic> = topics.iter().map(|&i| Topic::new(TOPICS[i]).unwrap()).collect();
            b.publish_to(&topics, Event::new("x")).unwrap()
        };
        let start = Cursor::new(b.epoch(), 0);
        let selector = Selector::new([Pattern::parse(PATTERNS[pattern]).unwrap()]).unwrap();
        for p in &before {
            publish(p);
        }
        // Opened midway: some topics exist, others come later. One replays, one is live.
        let mut replay = b.subscribe(&selector, Some(start), &Access::public()).unwrap();
        let opened = b.head();
        let mut live = b.subscribe(&selector, None, &Access::public()).unwrap();
        let mut seen = cursors(&mut replay);
        for p in &after {
            publish(p);
            // Read while publishing too, so attachment happens between fills.
            seen.extend(cursors(&mut replay));
        }
        seen.extend(cursors(&mut replay));
        let live_seen = cursors(&mut live);

        let matched: Vec<Topic> = TOPICS
            .iter()
            .map(|t| Topic::new(t).unwrap())
            .filter(|t| selector.matches(t))
            .collect();
        prop_assume!(!matched.is_empty());
        let exact = Selector::new(matched).unwrap();
        let mut exact_replay = b.subscribe(&exact, Some(start), &Access::public()).unwrap();
        let want = cursors(&mut exact_replay);
        prop_assert_eq!(&seen, &want);
        prop_assert!(want.windows(2).all(|w| w[0] < w[1]), "each event once, in order");
        let mut exact_live = b.subscribe(&exact, Some(opened), &Access::public()).unwrap();
        prop_assert_eq!(live_seen, cursors(&mut exact_live));
    }
}
