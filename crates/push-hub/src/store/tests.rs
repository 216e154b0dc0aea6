//! The store end to end: a restart (drop the broker, open the directory again) resumes by
//! cursor and by Mercure id exactly; evictions keep the file bounded; a write that fails
//! refuses the publish and nothing is delivered; foreign and damaged files are clear errors.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use push_broker::MemoryBroker;
use push_core::{Access, Audience, Cursor, Delivery, Error, Event, Selector, Topic};
use redb::StorageBackend;
use redb::backends::FileBackend;

use super::{Config, FILE_NAME, StoreError, open};

fn topic(name: &str) -> Topic {
    Topic::new(name).unwrap()
}

fn drain(b: &MemoryBroker, topics: &[&str], from: Option<Cursor>) -> Vec<String> {
    let selector = Selector::new(topics.iter().map(|t| topic(t)).collect::<Vec<_>>()).unwrap();
    let mut sub = b.subscribe(&selector, from, &Access::public()).unwrap();
    push_test_support::deliveries::drain(|| sub.try_recv())
}

fn publish(b: &MemoryBroker, topics: &[&str], data: &str, id: &str) -> Cursor {
    let topics: Vec<Topic> = topics.iter().map(|t| topic(t)).collect();
    b.publish_to(&topics, Event::new(data.to_owned()).with_id(id))
        .unwrap()
}

#[test]
fn a_restart_resumes_by_cursor_and_by_id_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = push_broker::Config::default().with_history_count(4);
    let b = open(dir.path(), config.clone()).unwrap();
    let epoch = b.epoch();
    publish(&b, &["q"], "q1", "urn:uuid:q1");
    for i in 1..=6 {
        publish(&b, &["a"], &format!("a{i}"), &format!("urn:uuid:a{i}"));
    }
    let both = publish(&b, &["a", "q"], "both", "mine");
    b.publish_to(
        &[topic("q")],
        Event::new("private")
            .with_id("p")
            .with_event("secret")
            .with_retry(900)
            .with_audience(Audience::Private),
    )
    .unwrap();
    let head = b.head();
    let before: Vec<_> = (0..=head.offset())
        .map(|o| drain(&b, &["a", "q"], Some(Cursor::new(epoch, o))))
        .collect();
    let ids = [
        "urn:uuid:q1",
        "urn:uuid:a2",
        "urn:uuid:a3",
        "urn:uuid:a6",
        "mine",
        "p",
    ];
    let resolved: Vec<_> = ids.iter().map(|id| b.resolve(id)).collect();
    assert_eq!(b.resolve("mine"), Some(both));
    drop(b);

    let b = open(dir.path(), config).unwrap();
    assert_eq!((b.epoch(), b.head()), (epoch, head));
    let after: Vec<_> = (0..=head.offset())
        .map(|o| drain(&b, &["a", "q"], Some(Cursor::new(epoch, o))))
        .collect();
    assert_eq!(after, before);
    assert_eq!(ids.map(|id| b.resolve(id)).to_vec(), resolved);
    // The id resumes exactly: what came after "mine", and nothing before.
    assert_eq!(drain(&b, &["q"], b.resolve("mine")), Vec::<String>::new());
    assert_eq!(b.resolve("urn:uuid:a3"), None, "evicted before the restart");
    let a4 = b.resolve("urn:uuid:a4");
    assert_eq!(drain(&b, &["a"], a4), ["a5@6", "a6@7", "both@8"]);
    // Every field survived, the private audience included.
    let selector = Selector::one(topic("q"));
    let access = Access::public().with_private(Selector::one(topic("q")));
    let mut sub = b.subscribe(&selector, Some(both), &access).unwrap();
    let Some(Delivery::Event(p)) = sub.try_recv() else {
        panic!("the private event is lost")
    };
    let want = Event::new("private")
        .with_id("p")
        .with_event("secret")
        .with_retry(900)
        .with_audience(Audience::Private);
    assert_eq!(p.event(), &want);
    // New events continue the offsets.
    assert_eq!(publish(&b, &["a"], "next", "n").offset(), head.offset() + 1);
}

#[test]
fn a_fresh_directory_gets_a_random_epoch_and_keeps_it() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = open(one.path(), push_broker::Config::default()).unwrap();
    let other = open(two.path(), push_broker::Config::default()).unwrap();
    assert_ne!(first.epoch(), other.epoch());
    assert_eq!(first.head().offset(), 0);
    let epoch = first.epoch();
    drop(first);
    let again = open(one.path(), push_broker::Config::default()).unwrap();
    assert_eq!(again.epoch(), epoch);
}

#[test]
fn records_keep_their_age_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let wall = Arc::new(Mutex::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
    ));
    let hand = Arc::clone(&wall);
    let store = Config::default().with_wall_clock(move || *hand.lock().unwrap());
    let config = push_broker::Config::default().with_history_age(Duration::from_secs(60));
    let b = store.open(dir.path(), config.clone()).unwrap();
    publish(&b, &["t"], "old", "o");
    *wall.lock().unwrap() += Duration::from_secs(50);
    publish(&b, &["t"], "new", "n");
    drop(b);
    // Twenty seconds later: "old" is 70 s old and gone, "new" 20 s and kept.
    *wall.lock().unwrap() += Duration::from_secs(20);
    let b = store.open(dir.path(), config).unwrap();
    assert_eq!(
        drain(&b, &["t"], Some(Cursor::new(b.epoch(), 0))),
        ["gap:evicted@1", "new@2"]
    );
    assert_eq!(
        (b.resolve("o"), b.resolve("n").map(|c| c.offset())),
        (None, Some(2))
    );
}

#[test]
fn evictions_keep_the_file_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = push_broker::Config::default().with_history_count(8);
    let b = open(dir.path(), config.clone()).unwrap();
    let data = "x".repeat(4096);
    let size = || std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().len();
    for i in 0..200 {
        b.publish_now(&topic(&format!("t{}", i % 2)), Event::new(data.clone()))
            .unwrap();
    }
    let settled = size();
    for i in 0..400 {
        b.publish_now(&topic(&format!("t{}", i % 2)), Event::new(data.clone()))
            .unwrap();
    }
    // 2.4 MiB published in all, 16 events (64 KiB) retained: the file does not grow with the
    // traffic.
    assert!(size() <= settled, "{} > {settled}", size());
    assert!(settled < 1 << 20, "{settled}");
    drop(b);
    let b = open(dir.path(), config).unwrap();
    assert_eq!(b.retained(&topic("t0")) + b.retained(&topic("t1")), 16);
    assert_eq!(b.head().offset(), 600);
}

/// A redb backend whose writes fail on demand: a full or failing disk.
#[derive(Debug)]
struct Failing {
    file: FileBackend,
    fail: Arc<AtomicBool>,
    writes: Arc<AtomicU64>,
}

impl Failing {
    fn check(&self) -> Result<(), io::Error> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("no space left on device"));
        }
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl StorageBackend for Failing {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        self.file.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.check()?;
        self.file.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.check()?;
        self.file.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.check()?;
        self.file.write(offset, data)
    }
}

#[test]
fn a_publish_whose_write_fails_is_not_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE_NAME);
    let fail = Arc::new(AtomicBool::new(false));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .unwrap();
    let backend = Failing {
        file: FileBackend::new(file).unwrap(),
        fail: Arc::clone(&fail),
        writes: Arc::default(),
    };
    let db = redb::Builder::new().create_with_backend(backend).unwrap();
    let b = Config::default()
        .restore(db, path, push_broker::Config::default())
        .unwrap();
    let t = topic("t");
    let mut sub = b
        .subscribe(&Selector::one(t.clone()), None, &Access::public())
        .unwrap();
    b.publish_now(&t, Event::new("kept").with_id("k")).unwrap();
    fail.store(true, Ordering::SeqCst);
    let refused = b.publish_now(&t, Event::new("lost").with_id("l"));
    assert_eq!(refused, Err(Error::BrokerUnavailable));
    let Some(Delivery::Event(p)) = sub.try_recv() else {
        panic!("the first event is missing")
    };
    assert_eq!(p.event().data, "kept");
    assert!(
        sub.try_recv().is_none(),
        "an event the store refused was delivered"
    );
    assert_eq!(
        (b.head().offset(), b.retained(&t), b.resolve("l")),
        (1, 1, None)
    );
    drop(sub);
    drop(b);
    // What the store acknowledged is there after a restart; the refused event is not.
    let b = open(dir.path(), push_broker::Config::default()).unwrap();
    assert_eq!(
        drain(&b, &["t"], Some(Cursor::new(b.epoch(), 0))),
        ["kept@1"]
    );
}

#[test]
fn foreign_and_damaged_files_are_clear_errors() {
    let config = push_broker::Config::default;
    // Not a redb file at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(FILE_NAME),
        b"these are somebody's notes\n".repeat(200),
    )
    .unwrap();
    let err = open(dir.path(), config()).unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains(FILE_NAME), "{err}");
    // Another application's redb database.
    let dir = tempfile::tempdir().unwrap();
    {
        let db = redb::Database::create(dir.path().join(FILE_NAME)).unwrap();
        let write = db.begin_write().unwrap();
        write
            .open_table(redb::TableDefinition::<&str, &str>::new("settings"))
            .unwrap()
            .insert("theme", "dark")
            .unwrap();
        write.commit().unwrap();
    }
    let err = open(dir.path(), config()).unwrap_err();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err:?}");
    assert!(
        err.to_string().contains("not a push-hub history store"),
        "{err}"
    );
    // Ours, with a newer layout, and with a damaged record.
    let dir = tempfile::tempdir().unwrap();
    let b = open(dir.path(), config()).unwrap();
    publish(&b, &["t"], "x", "i");
    drop(b);
    let rewrite = |f: &dyn Fn(&redb::WriteTransaction)| {
        let db = redb::Database::create(dir.path().join(FILE_NAME)).unwrap();
        let write = db.begin_write().unwrap();
        f(&write);
        write.commit().unwrap();
    };
    rewrite(&|w| {
        w.open_table(super::load::RECORDS)
            .unwrap()
            .insert(1, &b"\x01short"[..])
            .unwrap();
    });
    let err = open(dir.path(), config()).unwrap_err();
    let StoreError::Corrupt { source, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(source.offset, 1);
    rewrite(&|w| {
        w.open_table(super::load::META)
            .unwrap()
            .insert("format", 99)
            .unwrap();
    });
    let err = open(dir.path(), config()).unwrap_err();
    assert!(
        matches!(err, StoreError::Format { found: 99, .. }),
        "{err:?}"
    );
}
