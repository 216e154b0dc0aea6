//! Where things live in Redis and how positions become cursors: pure functions, no I/O.
//!
//! A topic belongs to one of `P` partitions; partition `N` owns the keys tagged `{pN}` (one
//! Cluster slot). An entry `MS-SEQ` of partition `N` is the cursor `E-MS-(SEQ << 16 | N)`, so
//! cursors order by `(MS, SEQ, N)` across all partitions (ARCHITECTURE.md, push-redis).

use push_core::{Cursor, Topic};

/// Bits of a cursor's third number that name the partition.
pub(crate) const PARTITION_BITS: u32 = 16;
/// The largest stream sequence a cursor can carry (2⁴⁸ − 1).
pub(crate) const MAX_SEQ: u64 = u64::MAX >> PARTITION_BITS;

/// A stream entry id `MS-SEQ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct EntryId {
    pub(crate) ms: u64,
    pub(crate) seq: u64,
}

impl EntryId {
    /// Parses Redis' `MS-SEQ` text (decimal); `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The `MS-SEQ` text Redis takes.
    pub(crate) fn text(self) -> String {
        format!("{}-{}", self.ms, self.seq)
    }

    /// The cursor of this entry in partition `partition` of the history `epoch`; `None` when its
    /// sequence does not fit the cursor (past 2⁴⁸ entries in one millisecond).
    pub(crate) fn cursor(self, epoch: u64, partition: u16) -> Option<Cursor> {
        (self.seq <= MAX_SEQ).then(|| {
            Cursor::with_sequence(
                epoch,
                self.ms,
                (self.seq << PARTITION_BITS) | u64::from(partition),
            )
        })
    }

    /// The id just before this one (`0-0` stays `0-0`).
    pub(crate) fn before(self) -> Self {
        match (self.ms, self.seq) {
            (0, 0) => self,
            (ms, 0) => Self {
                ms: ms - 1,
                seq: u64::MAX,
            },
            (ms, seq) => Self { ms, seq: seq - 1 },
        }
    }

    /// A cursor at or just after this id in `partition`, even past the cursor's room for the
    /// sequence (where a gap that ends at this id resumes).
    pub(crate) fn gap_cursor(self, epoch: u64, partition: u16) -> Cursor {
        Self {
            ms: self.ms,
            seq: self.seq.min(MAX_SEQ),
        }
        .cursor(epoch, partition)
        .unwrap_or_else(|| watermark(epoch, self.ms))
    }

    /// The first entry id a resume after `cursor` may need (inclusive; entries at it are then
    /// filtered with [`after`]).
    pub(crate) fn resume_start(cursor: Cursor) -> Self {
        Self {
            ms: cursor.offset(),
            seq: cursor.sequence().map_or(0, |s| s >> PARTITION_BITS),
        }
    }
}

/// Whether the entry at `cursor` comes after the resume point `from`.
pub(crate) fn after(cursor: Cursor, from: Cursor) -> bool {
    (cursor.offset(), cursor.sequence()) > (from.offset(), from.sequence())
}

/// The watermark cursor that covers every entry of millisecond `ms` and before.
pub(crate) fn watermark(epoch: u64, ms: u64) -> Cursor {
    Cursor::with_sequence(epoch, ms, u64::MAX)
}

/// The entry id to read after once everything up to the watermark `ms` is covered.
pub(crate) fn watermark_id(ms: u64) -> EntryId {
    EntryId { ms, seq: u64::MAX }
}

/// The partition of `topic` among `partitions`: FNV-1a of its bytes (stable across processes,
/// versions and platforms, which a std hasher is not).
pub(crate) fn partition_of(topic: &Topic, partitions: u16) -> u16 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in topic.as_str().as_bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // The remainder is below `partitions`, a u16.
    (hash % u64::from(partitions.max(1))) as u16
}

/// The deployment epoch: a mix of every partition's epoch (SplitMix64 steps), so that any
/// partition's new epoch changes it.
pub(crate) fn deployment_epoch(partitions: &[u64]) -> u64 {
    let mut acc: u64 = 0x9e37_79b9_7f4a_7c15;
    for &p in partitions {
        acc = mix(acc ^ p);
    }
    acc
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key names of a deployment (`prefix` then `{pN}:log` / `{pN}:meta`, and the id index
/// `{pN}:ids` / `{pN}:idq`).
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    logs: Vec<String>,
    metas: Vec<String>,
    ids: Vec<String>,
    queues: Vec<String>,
}

impl Keys {
    pub(crate) fn new(prefix: &str, partitions: u16) -> Self {
        let tag = |n: u16| format!("{prefix}{{p{n}}}");
        Self {
            logs: (0..partitions).map(|n| format!("{}:log", tag(n))).collect(),
            metas: (0..partitions)
                .map(|n| format!("{}:meta", tag(n)))
                .collect(),
            ids: (0..partitions).map(|n| format!("{}:ids", tag(n))).collect(),
            queues: (0..partitions).map(|n| format!("{}:idq", tag(n))).collect(),
        }
    }

    pub(crate) fn log(&self, partition: u16) -> &str {
        &self.logs[usize::from(partition)]
    }

    pub(crate) fn meta(&self, partition: u16) -> &str {
        &self.metas[usize::from(partition)]
    }

    /// The hash of publisher id → entry id (the earliest entry with that id).
    pub(crate) fn ids(&self, partition: u16) -> &str {
        &self.ids[usize::from(partition)]
    }

    /// The list of indexed ids in publish order (trimmed with the stream).
    pub(crate) fn id_queue(&self, partition: u16) -> &str {
        &self.queues[usize::from(partition)]
    }

    pub(crate) fn logs(&self) -> &[String] {
        &self.logs
    }

    /// The number of partitions.
    pub(crate) fn partitions(&self) -> u16 {
        // Built from a u16 count.
        self.logs.len() as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_order_by_ms_then_seq_then_partition() {
        let c = |ms, seq, p| EntryId { ms, seq }.cursor(7, p).unwrap();
        assert!(c(100, 0, 5) < c(100, 0, 6));
        assert!(c(100, 0, 65535) < c(100, 1, 0));
        assert!(c(100, MAX_SEQ, 9) < c(101, 0, 0));
        assert!(Cursor::new(7, 100) < c(100, 0, 0));
        assert!(c(100, 3, 2) < watermark(7, 100) && watermark(7, 100) < c(101, 0, 0));
        assert_eq!(
            EntryId {
                ms: 1,
                seq: MAX_SEQ + 1
            }
            .cursor(7, 0),
            None
        );
    }

    #[test]
    fn resume_reads_from_the_cursor_entry_and_filters_it() {
        let from = EntryId { ms: 100, seq: 2 }.cursor(7, 3).unwrap();
        let start = EntryId::resume_start(from);
        assert_eq!(start, EntryId { ms: 100, seq: 2 });
        // The same id in a lower partition came before the cursor, in a higher one after.
        let same = |p| EntryId { ms: 100, seq: 2 }.cursor(7, p).unwrap();
        assert!(!after(same(2), from) && !after(same(3), from) && after(same(4), from));
        assert_eq!(
            EntryId::resume_start(Cursor::new(7, 100)),
            EntryId { ms: 100, seq: 0 }
        );
        assert!(after(same(0), Cursor::new(7, 100)));
    }

    #[test]
    fn entry_ids_parse_only_their_form() {
        assert_eq!(EntryId::parse("1700-3"), Some(EntryId { ms: 1700, seq: 3 }));
        assert_eq!(EntryId { ms: 1700, seq: 3 }.text(), "1700-3");
        for bad in ["", "1700", "a-1", "1-", "-1", "1-2-3"] {
            assert_eq!(EntryId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn partitions_are_stable_and_in_range() {
        let t = Topic::new("https://example.com/books/1").unwrap();
        let p = partition_of(&t, 16);
        assert!(p < 16);
        assert_eq!(p, partition_of(&t, 16));
        assert_eq!(partition_of(&t, 1), 0);
        let keys = Keys::new("push:", 3);
        assert_eq!(keys.log(2), "push:{p2}:log");
        assert_eq!(keys.meta(0), "push:{p0}:meta");
        assert_eq!(keys.partitions(), 3);
    }

    #[test]
    fn any_partition_epoch_changes_the_deployment_epoch() {
        let a = deployment_epoch(&[1, 2, 3]);
        assert_ne!(a, deployment_epoch(&[1, 2, 4]));
        assert_ne!(a, deployment_epoch(&[2, 1, 3]));
        assert_eq!(a, deployment_epoch(&[1, 2, 3]));
    }
}
