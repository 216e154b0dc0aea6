//! `rediss://`: a broker on a Redis that speaks TLS only on its TLS port (Debian's
//! `redis-server` is built with TLS), trusting the server's certificate through
//! `Config::with_root_certificate`; a broker that does not trust it cannot connect.

use crate::common;

use std::net::TcpListener;

use common::*;
use push_redis::{Config, ConnectError, RedisBroker};
use push_test_support::redis::{RedisOptions, RedisServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_a_trusted_certificate_works_and_an_untrusted_one_is_refused() {
    let identity = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let dir = std::env::temp_dir().join(format!("push-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, identity.cert.pem()).unwrap();
    std::fs::write(&key, identity.key_pair.serialize_pem()).unwrap();
    let tls_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = RedisServer::start_with(RedisOptions {
        extra: vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            cert.display().to_string(),
            "--tls-key-file".into(),
            key.display().to_string(),
            "--tls-auth-clients".into(),
            "no".into(),
        ],
        ..RedisOptions::default()
    });
    let url = format!("rediss://127.0.0.1:{tls_port}/");
    let tls = |config: Config| {
        config
            .with_partitions(4)
            .with_block(std::time::Duration::from_millis(200))
    };
    let trusted = tls(Config::new(url.as_str())).with_root_certificate(identity.cert.pem());
    let hub = RedisBroker::connect(trusted).await.expect("TLS connect");
    let t = topic("tls");
    let mut sub = subscribe(&hub, &t, None);
    publish(&hub, &t, "over TLS").await;
    assert_eq!(next_data(&mut sub).await, "over TLS");
    // The entry is in the same Redis (read back over the plain port).
    let log = format!("push:{{p{}}}:log", hub.partition(&t));
    assert_eq!(server.cli(&["XLEN", &log]).trim(), "1");

    // The Web PKI roots do not trust a self-signed certificate.
    let refused = RedisBroker::connect(tls(Config::new(url.as_str())))
        .await
        .unwrap_err();
    assert!(matches!(refused, ConnectError::Redis(_)), "{refused:?}");
    drop(hub);
    let _ = std::fs::remove_dir_all(dir);
}
