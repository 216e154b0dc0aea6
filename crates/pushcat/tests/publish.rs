//! `pushcat publish` against a small HTTP server in the test that records what it receives and
//! answers as a Mercure hub does.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};

use crate::support;

/// What the server received: method, path, content type, authorization, form pairs.
#[derive(Debug, Default, Clone)]
struct Received {
    method: String,
    path: String,
    content_type: String,
    authorization: Option<String>,
    form: Vec<(String, String)>,
}

/// Serves on loopback; a request with `Bearer good` gets 200 and an id, any other a 401 with
/// the message a 0.x hub writes.
async fn hub() -> (std::net::SocketAddr, Arc<Mutex<Vec<Received>>>) {
    serve(None).await
}

/// [`hub`], over TLS with `acceptor` when one is given.
async fn serve(
    acceptor: Option<push_test_support::TlsAcceptor>,
) -> (std::net::SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    let log = Arc::clone(&log);
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let header = |name: &str| {
                            parts
                                .headers
                                .get(name)
                                .map(|v| v.to_str().unwrap().to_owned())
                        };
                        let received = Received {
                            method: parts.method.to_string(),
                            path: parts.uri.to_string(),
                            content_type: header("content-type").unwrap_or_default(),
                            authorization: header("authorization"),
                            form: form_urlencoded::parse(&body).into_owned().collect(),
                        };
                        let good = received.authorization.as_deref() == Some("Bearer good");
                        log.lock().unwrap().push(received);
                        let response = if good {
                            Response::new(Full::new(Bytes::from("urn:uuid:0b7e6a2c")))
                        } else {
                            let mut r = Response::new(Full::new(Bytes::from(
                                "the token's signature does not verify with the hub's key\n",
                            )));
                            *r.status_mut() = StatusCode::UNAUTHORIZED;
                            r
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let http = hyper::server::conn::http1::Builder::new();
                match acceptor {
                    None => {
                        let io = hyper_util::rt::TokioIo::new(tcp);
                        let _ = http.serve_connection(io, service).await;
                    }
                    Some(acceptor) => {
                        if let Ok(tls) = acceptor.accept(tcp).await {
                            let io = hyper_util::rt::TokioIo::new(tls);
                            let _ = http.serve_connection(io, service).await;
                        }
                    }
                }
            });
        }
    });
    (addr, seen)
}

fn args(words: &[&str]) -> Vec<std::ffi::OsString> {
    words.iter().map(Into::into).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_the_form_and_prints_the_id() {
    let (addr, seen) = hub().await;
    let url = format!("http://{addr}/.well-known/mercure");
    let output = support::run(args(&[
        "publish",
        &url,
        "--topic",
        "https://example.com/books/1",
        "--topic",
        "books",
        "--data",
        "{\"title\": \"a & b\"}",
        "--id",
        "-custom-1",
        "--type",
        "update",
        "--retry",
        "2500",
        "--private",
        "--token",
        "good",
    ]))
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "urn:uuid:0b7e6a2c\n"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/.well-known/mercure")
    );
    assert_eq!(r.content_type, "application/x-www-form-urlencoded");
    assert_eq!(r.authorization.as_deref(), Some("Bearer good"));
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        r.form,
        [
            pair("topic", "https://example.com/books/1"),
            pair("topic", "books"),
            pair("data", "{\"title\": \"a & b\"}"),
            pair("id", "-custom-1"),
            pair("type", "update"),
            pair("retry", "2500"),
            pair("private", "on"),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_without_a_path_means_the_hub_path_and_optional_fields_are_left_out() {
    let (addr, seen) = hub().await;
    let output = support::run(args(&[
        "publish",
        &format!("http://{addr}"),
        "--topic",
        "t",
        "--data",
        "",
        "--token",
        "good",
    ]))
    .await;
    assert!(output.status.success(), "{output:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].path, "/.well-known/mercure");
    assert_eq!(
        seen[0].form,
        [
            ("topic".to_owned(), "t".to_owned()),
            ("data".into(), "".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_prints_the_hubs_message_and_exits_non_zero() {
    let (addr, _) = hub().await;
    let url = format!("http://{addr}/.well-known/mercure");
    let output = support::run(args(&[
        "publish", &url, "--topic", "t", "--data", "x", "--token", "bad",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("401 Unauthorized: the token's signature does not verify"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_hub_or_a_bad_url_is_an_error() {
    // A port just released: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    let output = support::run(args(&["publish", &url, "--topic", "t", "--data", "x"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
    let output = support::run(args(&[
        "publish", "ftp://x/", "--topic", "t", "--data", "x",
    ]))
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("http:// or https://"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_ca() {
    let (acceptor, pem) = support::tls_acceptor("publish");
    let (addr, seen) = serve(Some(acceptor)).await;
    let url = format!("https://localhost:{}/.well-known/mercure", addr.port());
    let pem = pem.to_str().unwrap();
    let publish = [
        "publish", &url, "--topic", "t", "--data", "x", "--token", "good",
    ];
    let output = support::run(args(&[&publish[..], &["--cacert", pem]].concat())).await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "urn:uuid:0b7e6a2c\n"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    // Without the CA the certificate is not trusted: an error, nothing sent.
    let output = support::run(args(&publish)).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("TLS"),
        "{output:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}
