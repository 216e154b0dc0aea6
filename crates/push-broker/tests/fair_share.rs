//! Property tests of the broker-wide bounds over random publish sequences: a topic at or under
//! its fair share never loses an event to another topic's publish, the event just published is
//! kept, the total stays within the budget (but for that event when it is its topic's only
//! one), and no more topics hold history than the limit allows.

use proptest::prelude::*;
use push_broker::{Config, MemoryBroker};
use push_core::{Error, Event, Topic};

const TOPICS: usize = 6;
const MAX_TOPICS: usize = 4;

fn name(i: usize) -> Topic {
    Topic::new(&format!("t{i}")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_topic_within_its_fair_share_keeps_its_events(
        budget in 2_000usize..40_000,
        ops in prop::collection::vec((0..TOPICS, 0usize..6_000), 1..300),
    ) {
        let b = MemoryBroker::new(
            Config::default()
                .with_total_history_bytes(budget)
                .with_max_topics(MAX_TOPICS)
                .with_history_count(10_000),
        );
        for (x, size) in ops {
            let before: Vec<(usize, usize)> = (0..TOPICS)
                .map(|i| (b.retained(&name(i)), b.retained_bytes(&name(i))))
                .collect();
            let live = before.iter().filter(|(n, _)| *n > 0).count();
            let result = b.publish_now(&name(x), Event::new(vec![b'x'; size]));
            if before[x].0 == 0 && live == MAX_TOPICS {
                prop_assert_eq!(result, Err(Error::TopicLimit));
                continue;
            }
            prop_assert!(result.is_ok());
            // The topics holding history when this publish arrived, this one included.
            let n = (live + usize::from(before[x].0 == 0)) as u64;
            let fair = budget as u64 / n;
            let mut total = 0;
            for (i, &(count, bytes)) in before.iter().enumerate() {
                total += b.retained_bytes(&name(i));
                if i != x && count > 0 && bytes as u64 <= fair {
                    prop_assert_eq!(
                        b.retained(&name(i)), count,
                        "topic {} had {} bytes, within its share {}", i, bytes, fair
                    );
                }
            }
            // The event just published stays; it alone may take the total past the budget.
            prop_assert!(b.retained(&name(x)) > 0, "the event just published was evicted");
            if total > budget {
                prop_assert_eq!(b.retained(&name(x)), 1);
                prop_assert!(
                    total - b.retained_bytes(&name(x)) <= budget,
                    "{} bytes kept of {}", total, budget
                );
            }
            let holding = (0..TOPICS).filter(|&i| b.retained(&name(i)) > 0).count();
            prop_assert!(holding <= MAX_TOPICS);
        }
    }
}
