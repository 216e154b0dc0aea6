//! The fan-out's wait while no registration exists (see [`idle`]).

use std::sync::Arc;

use push_core::{Broker, Cursor};

use super::super::{Inner, Registration};
use super::{Ended, IDLE_LOOK, SAVE_IDLE, blocking, record, renewed};

/// What [`idle`] found when it returned.
pub(super) struct Idle {
    /// Whether a look found the registry empty (then `from` went back to the earliest start
    /// of the registrations in `active`).
    pub(super) skipped: bool,
    /// The registrations that look found (the snapshot `from` was set from).
    pub(super) active: Arc<Vec<Arc<Registration>>>,
}

/// Returns once a registration exists (on any hub), having moved `from` past the events
/// published while none did (then [`Idle::skipped`]); `Err` when the lease was lost meanwhile.
///
/// With no registration the fan-out holds no subscription: one on every topic would read
/// every event for nothing, and under `--redis` would make this hub's reader relay every
/// event of every hub. Skipping those events loses nothing. The head is read before each look
/// at the registry, so every event up to it was published before the look, and a registration
/// the look does not see was stored after it.
///
/// A registration's start (`from`, the head when it was made) is read before it is stored,
/// so it may lie before a head an empty look moved to. When a look finds registrations after
/// an empty one, `from` therefore goes back to the earliest start among them (in the same
/// epoch): the events in between were matched against nobody, and each registration takes
/// only those after its own start, so nothing is delivered twice. A registration made while
/// the fan-out waits is seen within [`IDLE_LOOK`], and the events since are read from the
/// history.
pub(super) async fn idle<B: Broker>(
    broker: &B,
    inner: &Arc<Inner>,
    from: &mut Cursor,
    lease: Option<&str>,
    renew: &mut tokio::time::Interval,
) -> Result<Idle, Ended> {
    let mut saved = (*from, tokio::time::Instant::now());
    // Whether a look found the registry empty and moved `from` to the head.
    let mut skipped = false;
    loop {
        let head = broker.head();
        let empty = match lease {
            // Registrations made on the other hubs are in Redis: read them first.
            Some(_) => blocking(inner, |r| r.refresh().map(|()| r.is_empty())).await,
            None => Some(inner.registry.is_empty()),
        };
        match empty {
            Some(false) => {
                let active = inner.registry.active();
                if skipped {
                    *from = earliest_start(&active, *from);
                }
                return Ok(Idle { skipped, active });
            }
            Some(true) => {
                *from = head;
                skipped = true;
            }
            // Redis failed: `from` stays where it was, and the next look tries again.
            None => {}
        }
        if *from != saved.0 && saved.1.elapsed() >= SAVE_IDLE {
            if !record(inner, lease, *from).await {
                return Err(Ended::Lost);
            }
            saved = (*from, tokio::time::Instant::now());
        }
        tokio::select! {
            () = tokio::time::sleep(IDLE_LOOK) => {}
            _ = renew.tick(), if lease.is_some() => {
                if let Some(token) = lease && !renewed(inner, token).await {
                    return Err(Ended::Lost);
                }
            }
        }
    }
}

/// The earliest start among `registrations` in `from`'s epoch, or `from` when none is earlier
/// (a start in another epoch, or one that does not parse, leaves `from` as it is).
fn earliest_start(registrations: &[Arc<Registration>], from: Cursor) -> Cursor {
    registrations
        .iter()
        .filter_map(|r| r.start())
        .filter(|start| start.epoch() == from.epoch())
        .fold(from, Cursor::min)
}
