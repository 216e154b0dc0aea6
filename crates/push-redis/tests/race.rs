//! The edge the cursor design is for: two publishers racing on two topics of different
//! partitions (through different brokers, as different hubs would) while a subscriber of both
//! keeps reconnecting, alternating between two more brokers with its last cursor. Nothing may
//! be lost or duplicated, and cursors must only grow: an entry committed after the reader
//! passed its place would break that, and would be skipped by the next resume.

use crate::common;

use push_test_support::redis::RedisServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_publishers_and_a_reconnecting_subscriber_lose_and_repeat_nothing() {
    let server = RedisServer::start();
    common::race::race(|| common::config(&server).with_partitions(2)).await;
}
