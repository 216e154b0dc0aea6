//! The push policy as a sans-IO ledger: limits per page, per connection, in bytes and in flight,
//! and the diary. [`PushConnection`](crate::PushConnection) keeps one behind a lock.

use h2::Reason;

use crate::diary::resource_hash;
use crate::{CacheDigest, PushConfig, PushDiary};

/// Why a push was not made. None of these is an error: the page is served either way.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The client sent `SETTINGS_ENABLE_PUSH = 0` (remembered for the connection).
    PushDisabled,
    /// The link says `nopush`, or does not say `rel=preload`.
    NoPush,
    /// This connection already pushed the resource (path and ETag), or the client cancelled it.
    AlreadyPushed,
    /// The client's cache digest cookie says it has the resource.
    ClientHasIt,
    /// The per-page push count limit is reached.
    PageLimit,
    /// The per-page byte limit would be exceeded.
    ByteLimit,
    /// The per-connection push count limit is reached.
    ConnectionLimit,
    /// As many pushed streams are in flight as the client (or the configuration) allows.
    ConcurrencyLimit,
    /// The link target is not a resource this server may push (foreign authority, other
    /// scheme, malformed).
    NotPushable,
    /// The application had no response for the target.
    Unresolved,
    /// h2 refused the promise for another reason (stream IDs exhausted, stream gone).
    Refused,
}

impl SkipReason {
    /// A short lowercase name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PushDisabled => "push-disabled",
            Self::NoPush => "nopush",
            Self::AlreadyPushed => "already-pushed",
            Self::ClientHasIt => "client-has-it",
            Self::PageLimit => "page-limit",
            Self::ByteLimit => "byte-limit",
            Self::ConnectionLimit => "connection-limit",
            Self::ConcurrencyLimit => "concurrency-limit",
            Self::NotPushable => "not-pushable",
            Self::Unresolved => "unresolved",
            Self::Refused => "refused",
        }
    }
}

/// What one parent stream (page) pushed so far.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PageBudget {
    pub(crate) pushes: usize,
    pub(crate) bytes: u64,
}

/// Counters of one connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushStats {
    /// Promises sent.
    pub pushed: usize,
    /// Pushed streams whose body is still being produced.
    pub in_flight: usize,
    /// Pushed streams the client reset (CANCEL, REFUSED_STREAM or other).
    pub cancelled: usize,
    /// Of those, resets with REFUSED_STREAM (the client's concurrency limit).
    pub refused: usize,
    /// Pushes skipped, for any [`SkipReason`].
    pub skipped: usize,
}

/// Connection-level accounting.
#[derive(Debug)]
pub(crate) struct Ledger {
    pub(crate) stats: PushStats,
    peer_max: Option<usize>,
    refused_cap: Option<usize>,
    pub(crate) diary: PushDiary,
}

impl Ledger {
    pub(crate) fn new(config: &PushConfig) -> Self {
        Self {
            stats: PushStats::default(),
            peer_max: None,
            refused_cap: None,
            diary: PushDiary::new(config.diary_capacity),
        }
    }

    pub(crate) fn set_peer_max(&mut self, max: usize) {
        self.peer_max = Some(max);
    }

    /// The number of pushed streams allowed in flight now.
    pub(crate) fn concurrency(&self, config: &PushConfig) -> usize {
        let mut limit = config.max_concurrent;
        for cap in [self.peer_max, self.refused_cap].into_iter().flatten() {
            limit = limit.min(cap);
        }
        limit
    }

    /// Checks every limit and, if the push may go ahead, reserves it (in flight, diary, page).
    pub(crate) fn reserve(
        &mut self,
        config: &PushConfig,
        page: &mut PageBudget,
        digest: Option<&CacheDigest>,
        path: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<(), SkipReason> {
        let key = resource_hash(path, etag);
        let in_digest = || digest.is_some_and(|d| d.contains(path, etag));
        let verdict = self.check(config, page, key, in_digest, size);
        match verdict {
            Ok(()) => {
                self.diary.record_key(key);
                self.stats.pushed += 1;
                self.stats.in_flight += 1;
                page.pushes += 1;
                page.bytes = page.bytes.saturating_add(size.unwrap_or(0));
            }
            Err(_) => self.stats.skipped += 1,
        }
        verdict
    }

    fn check(
        &self,
        config: &PushConfig,
        page: &PageBudget,
        key: u64,
        in_digest: impl FnOnce() -> bool,
        size: Option<u64>,
    ) -> Result<(), SkipReason> {
        if self.diary.contains_key(key) {
            return Err(SkipReason::AlreadyPushed);
        }
        if in_digest() {
            return Err(SkipReason::ClientHasIt);
        }
        if page.pushes >= config.max_per_page {
            return Err(SkipReason::PageLimit);
        }
        if page.bytes.saturating_add(size.unwrap_or(0)) > config.max_bytes_per_page {
            return Err(SkipReason::ByteLimit);
        }
        if self.stats.pushed >= config.max_per_connection {
            return Err(SkipReason::ConnectionLimit);
        }
        if self.stats.in_flight >= self.concurrency(config) {
            return Err(SkipReason::ConcurrencyLimit);
        }
        Ok(())
    }

    /// Undoes [`reserve`](Self::reserve) when h2 refused the promise.
    pub(crate) fn unreserve(
        &mut self,
        page: &mut PageBudget,
        path: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) {
        self.diary.forget(path, etag);
        self.stats.pushed = self.stats.pushed.saturating_sub(1);
        self.stats.in_flight = self.stats.in_flight.saturating_sub(1);
        self.stats.skipped += 1;
        page.pushes = page.pushes.saturating_sub(1);
        page.bytes = page.bytes.saturating_sub(size.unwrap_or(0));
    }

    /// A pushed stream finished (body queued, or reset).
    pub(crate) fn finished(&mut self) {
        self.stats.in_flight = self.stats.in_flight.saturating_sub(1);
    }

    /// The client reset a pushed stream: it has the resource (or will not take it), and a
    /// REFUSED_STREAM means the in-flight count was above its limit.
    pub(crate) fn reset(&mut self, path: &str, etag: Option<&str>, reason: Reason) {
        self.diary.mark_client_has(path, etag);
        self.stats.cancelled += 1;
        if reason == Reason::REFUSED_STREAM {
            self.stats.refused += 1;
            self.refused_cap = Some(self.stats.in_flight.saturating_sub(1).max(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use http::uri::Scheme;

    use super::*;

    #[test]
    fn limits_in_order() {
        let config = PushConfig::new(Scheme::HTTP)
            .with_max_per_page(2)
            .with_max_bytes_per_page(100)
            .with_max_per_connection(3)
            .with_max_concurrent(2);
        let mut ledger = Ledger::new(&config);
        let mut page = PageBudget::default();
        assert_eq!(
            ledger.reserve(&config, &mut page, None, "/a", None, Some(60)),
            Ok(())
        );
        assert_eq!(
            ledger.reserve(&config, &mut page, None, "/a", None, Some(1)),
            Err(SkipReason::AlreadyPushed)
        );
        assert_eq!(
            ledger.reserve(&config, &mut page, None, "/b", None, Some(60)),
            Err(SkipReason::ByteLimit)
        );
        assert_eq!(
            ledger.reserve(&config, &mut page, None, "/b", None, Some(40)),
            Ok(())
        );
        assert_eq!(
            ledger.reserve(&config, &mut page, None, "/c", None, None),
            Err(SkipReason::PageLimit)
        );
        let mut page2 = PageBudget::default();
        assert_eq!(
            ledger.reserve(&config, &mut page2, None, "/c", None, None),
            Err(SkipReason::ConcurrencyLimit)
        );
        ledger.finished();
        assert_eq!(
            ledger.reserve(&config, &mut page2, None, "/c", None, None),
            Ok(())
        );
        ledger.finished();
        assert_eq!(
            ledger.reserve(&config, &mut page2, None, "/d", None, None),
            Err(SkipReason::ConnectionLimit)
        );
        assert_eq!(ledger.stats.skipped, 5);
        let mut digest = CacheDigest::default();
        digest.insert("/z", Some("e"));
        assert_eq!(
            ledger.reserve(&config, &mut page2, Some(&digest), "/z", Some("e"), None),
            Err(SkipReason::ClientHasIt)
        );
    }

    #[test]
    fn peer_limit_and_refusals_lower_concurrency() {
        let config = PushConfig::new(Scheme::HTTP).with_max_concurrent(10);
        let mut ledger = Ledger::new(&config);
        assert_eq!(ledger.concurrency(&config), 10);
        ledger.set_peer_max(4);
        assert_eq!(ledger.concurrency(&config), 4);
        let mut page = PageBudget::default();
        for path in ["/1", "/2", "/3"] {
            ledger
                .reserve(&config, &mut page, None, path, None, None)
                .unwrap();
        }
        ledger.reset("/3", None, Reason::REFUSED_STREAM);
        ledger.finished();
        assert_eq!(ledger.concurrency(&config), 2);
        assert!(ledger.diary.client_has("/3", None));
        ledger.unreserve(&mut page, "/2", None, None);
        assert!(!ledger.diary.contains("/2", None));
        assert_eq!(
            ledger.stats,
            PushStats {
                pushed: 2,
                in_flight: 1,
                cancelled: 1,
                refused: 1,
                skipped: 1
            }
        );
        assert_eq!(SkipReason::ClientHasIt.as_str(), "client-has-it");
    }
}
