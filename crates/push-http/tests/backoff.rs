//! The reconnection policy over every input: whatever the server's `retry` and the policy's
//! settings, a delay lies within `[min, max]` and nothing panics.

#![cfg(feature = "client")]
#![allow(clippy::disallowed_methods)] // The tests need a starting instant; the policy reads none.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use push_http::client::{Backoff, DEFAULT_MIN_DELAY, ReconnectPolicy};

/// Any duration: any number of nanoseconds, of milliseconds (a server's `retry`) or of seconds.
fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        any::<u64>().prop_map(Duration::from_nanos),
        any::<u64>().prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_secs),
        Just(Duration::ZERO),
        Just(Duration::MAX),
    ]
}

/// What happens to a client: the server's `retry` (ms), a connection, time passing, a failure.
#[derive(Clone, Debug)]
enum Step {
    Retry(u64),
    Connected,
    Wait(Duration),
    Disconnected,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        any::<u64>().prop_map(Step::Retry),
        Just(Step::Connected),
        (0..u64::from(u32::MAX)).prop_map(|ms| Step::Wait(Duration::from_millis(ms))),
        Just(Step::Disconnected),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn every_delay_lies_between_floor_and_cap(
        initial in any_duration(),
        min in any_duration(),
        max in any_duration(),
        healthy in any_duration(),
        retries in prop::option::of(0..64u32),
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 0..64),
    ) {
        let policy = ReconnectPolicy::default()
            .with_initial(initial)
            .with_min(min)
            .with_max(max)
            .with_healthy_after(healthy)
            .with_max_retries(retries);
        prop_assert_eq!(
            (policy.initial(), policy.min(), policy.max(), policy.healthy_after(), policy.max_retries()),
            (initial, min, max, healthy, retries)
        );
        let (floor, cap) = (min, max.max(min));
        let mut backoff = Backoff::new(policy, seed);
        let mut now = Instant::now();
        let mut failures = 0u32;
        for step in steps {
            match step {
                Step::Retry(ms) => {
                    backoff.set_retry(Duration::from_millis(ms));
                    prop_assert!(backoff.retry() >= floor && backoff.retry() <= cap);
                }
                Step::Connected => backoff.connected(now),
                Step::Wait(d) => now = now.checked_add(d).unwrap_or(now),
                Step::Disconnected => match backoff.disconnected(now) {
                    Some(delay) => {
                        prop_assert!(delay >= floor && delay <= cap, "{:?} not in [{:?}, {:?}]", delay, floor, cap);
                        failures = backoff.failures();
                    }
                    None => {
                        // Only the retry limit stops it, and only past it.
                        let limit = retries.expect("stopped without a retry limit");
                        prop_assert!(backoff.failures() > limit, "{} {}", backoff.failures(), failures);
                    }
                },
            }
        }
    }
}

#[test]
fn the_server_retry_extremes() {
    for ms in [0, 1, 99_999_999_999_999_999, u64::MAX] {
        let mut backoff = Backoff::new(ReconnectPolicy::default(), ms);
        backoff.set_retry(Duration::from_millis(ms));
        let t = Instant::now();
        for _ in 0..40 {
            let delay = backoff.disconnected(t).unwrap();
            assert!(delay >= DEFAULT_MIN_DELAY, "{ms}: {delay:?}");
            assert!(delay <= Duration::from_secs(60), "{ms}: {delay:?}");
        }
    }
}
