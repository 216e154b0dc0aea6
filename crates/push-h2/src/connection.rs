//! Per-connection push state, shared by every stream of one HTTP/2 connection.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Buf;
use h2::Reason;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::policy::{Ledger, PageBudget};
use crate::{CacheDigest, PushConfig, PushStats, SkipReason};

/// What one HTTP/2 connection knows about pushing: whether the client disabled push, how many
/// pushed streams are in flight and how many the client allows, and the push diary.
///
/// Cheap to clone (an `Arc`); create one per accepted connection and hand a clone to each
/// [`ParentStream`](crate::ParentStream). After each `accept`, call [`observe`](Self::observe)
/// so the client's `SETTINGS_MAX_CONCURRENT_STREAMS` bounds the pushes.
///
/// A pushed stream counts as in flight from its promise until its body is queued (h2 offers no
/// signal for "sent"). A client counts it until it *receives* END_STREAM, and a later promise can
/// overtake an earlier body on the wire, so a client at its limit may still refuse a push with
/// REFUSED_STREAM: [`PushedStream::send`](crate::PushedStream::send) observes that, reports
/// [`PushDelivery::Cancelled`](crate::PushDelivery::Cancelled) and lowers this connection's limit
/// below the count in flight at that moment. For a strict bound, configure
/// [`PushConfig::max_concurrent`] below the client's limit.
#[derive(Debug, Clone)]
pub struct PushConnection {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: PushConfig,
    disabled: AtomicBool,
    /// Pushes skipped because push is disabled, counted without the lock.
    disabled_skips: AtomicUsize,
    /// The client's limit as last set in the ledger (`usize::MAX`, no limit, at first), so that
    /// observing an unchanged limit takes no lock.
    peer_max: AtomicUsize,
    ledger: Mutex<Ledger>,
}

impl PushConnection {
    /// State for a new connection.
    pub fn new(config: PushConfig) -> Self {
        let ledger = Mutex::new(Ledger::new(&config));
        Self {
            inner: Arc::new(Inner {
                config,
                disabled: AtomicBool::new(false),
                disabled_skips: AtomicUsize::new(0),
                peer_max: AtomicUsize::new(usize::MAX),
                ledger,
            }),
        }
    }

    /// Reads the client's current `SETTINGS_MAX_CONCURRENT_STREAMS` from the h2 connection (the
    /// limit on streams the server opens, i.e. pushes).
    pub fn observe<T, B>(&self, connection: &h2::server::Connection<T, B>)
    where
        T: AsyncRead + AsyncWrite + Unpin,
        B: Buf,
    {
        self.set_peer_max_concurrent(connection.max_concurrent_send_streams());
    }

    /// Sets the client's concurrent stream limit by hand (when the connection is out of reach).
    pub fn set_peer_max_concurrent(&self, max: usize) {
        if self.inner.peer_max.load(Ordering::Relaxed) != max {
            let mut ledger = self.ledger();
            ledger.set_peer_max(max);
            self.inner.peer_max.store(max, Ordering::Relaxed);
        }
    }

    /// True once a push failed because the client sent `SETTINGS_ENABLE_PUSH = 0`; no push is
    /// attempted on this connection afterwards.
    pub fn push_disabled(&self) -> bool {
        self.inner.disabled.load(Ordering::Relaxed)
    }

    /// The configuration.
    pub fn config(&self) -> &PushConfig {
        &self.inner.config
    }

    /// The connection's counters.
    pub fn stats(&self) -> PushStats {
        let mut stats = self.ledger().stats;
        stats.skipped += self.inner.disabled_skips.load(Ordering::Relaxed);
        stats
    }

    /// Whether the diary holds this resource (pushed, or cancelled by the client).
    pub fn diary_contains(&self, path: &str, etag: Option<&str>) -> bool {
        self.ledger().diary.contains(path, etag)
    }

    /// Whether the client reset a push of this resource ("the client has it").
    pub fn client_has(&self, path: &str, etag: Option<&str>) -> bool {
        self.ledger().diary.client_has(path, etag)
    }

    pub(crate) fn disable(&self) {
        self.inner.disabled.store(true, Ordering::Relaxed);
    }

    pub(crate) fn reserve(
        &self,
        page: &mut PageBudget,
        digest: Option<&CacheDigest>,
        path: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) -> Result<(), SkipReason> {
        self.ledger()
            .reserve(&self.inner.config, page, digest, path, etag, size)
    }

    pub(crate) fn skipped_disabled(&self) {
        self.inner.disabled_skips.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn unreserve(
        &self,
        page: &mut PageBudget,
        path: &str,
        etag: Option<&str>,
        size: Option<u64>,
    ) {
        self.ledger().unreserve(page, path, etag, size);
    }

    pub(crate) fn finished(&self) {
        self.ledger().finished();
    }

    pub(crate) fn reset(&self, path: &str, etag: Option<&str>, reason: Reason) {
        self.ledger().reset(path, etag, reason);
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // The ledger holds counters only; a panic elsewhere cannot leave it inconsistent enough
        // to matter, so a poisoned lock is used as is.
        self.inner
            .ledger
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
