//! The delivery policy on simulated time: the published schedule, the fast → durable hand-off,
//! `Retry-After`, `410`, redirects, jitter bounds, and properties over any outcome sequence.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, StatusCode, header::RETRY_AFTER};
use proptest::prelude::*;
use push_webhook::{Health, Next, Outcome, Policy, retry_after};

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn status(code: u16) -> Outcome {
    Outcome::Status {
        status: StatusCode::from_u16(code).unwrap(),
        retry_after: None,
    }
}

fn no_jitter() -> Policy {
    Policy {
        jitter_percent: 0,
        ..Policy::default()
    }
}

/// Drives one delivery on simulated time: `outcomes[i]` is what attempt i+1 gets. Returns the
/// attempt times (relative to t0) and the final step.
fn simulate(policy: &Policy, outcomes: &[Outcome], random: u32) -> (Vec<Duration>, Next) {
    let mut now = policy.first_attempt(t0());
    let mut attempt = 1;
    let mut times = Vec::new();
    loop {
        times.push(now.duration_since(t0()).unwrap());
        let outcome = outcomes
            .get(attempt as usize - 1)
            .copied()
            .unwrap_or(Outcome::Transport);
        match policy.next(attempt, outcome, now, random) {
            Next::Retry { at, attempt: n, .. } => {
                assert_eq!(n, attempt + 1);
                assert!(at >= now);
                now = at;
                attempt = n;
            }
            end => return (times, end),
        }
    }
}

#[test]
fn the_default_schedule_is_the_published_one() {
    let (times, end) = simulate(&no_jitter(), &[], 0);
    let secs: Vec<u64> = times.iter().map(Duration::as_secs).collect();
    assert_eq!(
        secs,
        [0, 5, 305, 2105, 9305, 27305, 63305, 99305],
        "immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h"
    );
    assert_eq!(end, Next::Exhausted);
    // Three failures then a success: delivered 35 min 5 s after the first attempt.
    let outcomes = [status(500), status(500), status(500), status(204)];
    let (times, end) = simulate(&no_jitter(), &outcomes, 0);
    assert_eq!(end, Next::Delivered);
    assert_eq!(*times.last().unwrap(), Duration::from_secs(35 * 60 + 5));
}

#[test]
fn the_fast_attempts_stay_in_memory_and_the_rest_are_durable() {
    let policy = no_jitter();
    let durable: Vec<bool> = (1..8)
        .map(
            |attempt| match policy.next(attempt, Outcome::Timeout, t0(), 0) {
                Next::Retry { durable, .. } => durable,
                other => panic!("{other:?}"),
            },
        )
        .collect();
    // Attempts 2 and 3 are fast; 4 to 8 come from the durable queue.
    assert_eq!(durable, [false, false, true, true, true, true, true]);
}

#[test]
fn gone_disables_and_redirects_fail() {
    let policy = no_jitter();
    assert_eq!(policy.next(1, status(410), t0(), 0), Next::Disable);
    for code in [301, 302, 307, 308, 400, 404, 500] {
        assert!(
            matches!(policy.next(1, status(code), t0(), 0), Next::Retry { .. }),
            "{code}"
        );
    }
    for code in [200, 201, 202, 204, 299] {
        assert_eq!(policy.next(5, status(code), t0(), 0), Next::Delivered);
    }
}

#[test]
fn retry_after_is_honoured_on_429_and_503_and_clamped() {
    let policy = no_jitter();
    let asked = |code: u16, secs: u64| Outcome::Status {
        status: StatusCode::from_u16(code).unwrap(),
        retry_after: Some(Duration::from_secs(secs)),
    };
    let at = |outcome| match policy.next(1, outcome, t0(), 0) {
        Next::Retry { at, .. } => at.duration_since(t0()).unwrap().as_secs(),
        other => panic!("{other:?}"),
    };
    assert_eq!(at(asked(503, 120)), 120);
    assert_eq!(at(asked(429, 120)), 120);
    // Never earlier than the schedule, never later than the clamp, ignored on other statuses.
    assert_eq!(at(asked(503, 1)), 5);
    assert_eq!(at(asked(503, u64::MAX)), 6 * 3600);
    assert_eq!(at(asked(500, 120)), 5);
}

#[test]
fn outcomes_a_kind_classified_itself_take_the_same_schedule() {
    let policy = no_jitter();
    assert_eq!(policy.next(3, Outcome::Delivered, t0(), 0), Next::Delivered);
    assert_eq!(policy.next(3, Outcome::Gone, t0(), 0), Next::Disable);
    assert_eq!(policy.next(1, Outcome::Refused, t0(), 0), Next::Discard);
    let retry = |after: Option<u64>| Outcome::Retry {
        retry_after: after.map(Duration::from_secs),
    };
    let at = |outcome| match policy.next(1, outcome, t0(), 0) {
        Next::Retry { at, attempt, .. } => {
            assert_eq!(attempt, 2);
            at.duration_since(t0()).unwrap().as_secs()
        }
        other => panic!("{other:?}"),
    };
    // The schedule's 5 s, a longer Retry-After, and the clamp: as for a webhook's 429.
    assert_eq!(at(retry(None)), 5);
    assert_eq!(at(retry(Some(1))), 5);
    assert_eq!(at(retry(Some(120))), 120);
    assert_eq!(at(retry(Some(u64::MAX))), 6 * 3600);
    // The end of the schedule ends a kind's retries too.
    let last = u32::try_from(policy.schedule.len()).unwrap();
    assert_eq!(policy.next(last, retry(Some(1)), t0(), 0), Next::Exhausted);
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h, t0()), None);
    h.insert(RETRY_AFTER, HeaderValue::from_static("120"));
    assert_eq!(retry_after(&h, t0()), Some(Duration::from_secs(120)));
    h.insert(
        RETRY_AFTER,
        HeaderValue::from_static("99999999999999999999999"),
    );
    assert_eq!(retry_after(&h, t0()), Some(Duration::from_secs(u64::MAX)));
    let date = httpdate::fmt_http_date(t0() + Duration::from_secs(90));
    h.insert(RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
    assert_eq!(retry_after(&h, t0()), Some(Duration::from_secs(90)));
    assert_eq!(
        retry_after(&h, t0() + Duration::from_secs(100)),
        Some(Duration::ZERO)
    );
    for junk in ["-5", "soon", "", "1.5"] {
        h.insert(RETRY_AFTER, HeaderValue::from_static(junk));
        assert_eq!(retry_after(&h, t0()), None, "{junk:?}");
    }
    let outcome = Outcome::response(StatusCode::SERVICE_UNAVAILABLE, &h, t0());
    assert!(matches!(
        outcome,
        Outcome::Status {
            retry_after: None,
            ..
        }
    ));
}

#[test]
fn a_registration_failing_for_five_days_is_disabled_and_a_success_forgives() {
    let policy = Policy::default();
    let mut health = Health::default();
    let day = Duration::from_secs(24 * 3600);
    assert!(!health.record(false, t0(), &policy));
    assert!(!health.record(false, t0() + 4 * day, &policy));
    assert!(!health.record(true, t0() + 4 * day, &policy));
    assert!(!health.record(false, t0() + 5 * day, &policy));
    assert!(health.record(false, t0() + 10 * day, &policy));
}

proptest! {
    #[test]
    fn jittered_retries_stay_within_bounds(
        codes in proptest::collection::vec(prop_oneof![Just(0u16), 300u16..600], 0..12),
        random in any::<u32>(),
        jitter in 0u8..=100,
    ) {
        let policy = Policy { jitter_percent: jitter, ..Policy::default() };
        let outcomes: Vec<Outcome> = codes
            .iter()
            .map(|&c| if c == 0 { Outcome::Timeout } else { status(c) })
            .collect();
        let mut now = t0();
        for (i, outcome) in outcomes.iter().enumerate() {
            let attempt = i as u32 + 1;
            match policy.next(attempt, *outcome, now, random) {
                Next::Retry { at, attempt: next, durable } => {
                    let scheduled = policy.schedule[attempt as usize].as_millis();
                    let delay = at.duration_since(now).unwrap().as_millis();
                    let spread = scheduled * u128::from(jitter) / 100;
                    prop_assert!(delay + spread >= scheduled && delay <= scheduled + spread);
                    prop_assert_eq!(durable, next > policy.fast_attempts);
                    prop_assert!((next as usize) <= policy.schedule.len());
                    now = at;
                }
                Next::Disable => { prop_assert_eq!(codes[i], 410); break; }
                Next::Exhausted => { prop_assert_eq!(attempt as usize, policy.schedule.len()); break; }
                other => prop_assert!(false, "no 2xx was given: {other:?}"),
            }
        }
    }

    #[test]
    fn any_2xx_delivers_and_no_3xx_does(attempt in 1u32..20, code in 100u16..600, random in any::<u32>()) {
        let next = Policy::default().next(attempt, status(code), t0(), random);
        prop_assert_eq!(next == Next::Delivered, (200..300).contains(&code));
    }
}
