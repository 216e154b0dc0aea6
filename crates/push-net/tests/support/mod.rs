//! What the push-net tests share.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use push_net::{Acceptor, ServerConfig, serve_http};

/// Serves every connection `acceptor` takes through `serve_http`, answering `200 ok` to every
/// request; an accept error ends the loop with a panic (which the test sees).
pub(crate) async fn serve_ok(mut acceptor: Acceptor, config: ServerConfig) {
    loop {
        let (stream, _) = acceptor.accept().await.unwrap();
        let config = config.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|_request| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
            });
            let _ = serve_http(stream, service, &config, None).await;
        });
    }
}
