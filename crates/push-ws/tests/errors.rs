//! The public error types: statuses, messages, sources; and the client's getters.

use std::error::Error as _;

use http::StatusCode;
use push_core::Cursor;
use push_http::HttpStatus;
use push_ws::Command;
use push_ws::server::{Error, SendError, TrySendError};
use push_ws::tungstenite::{self, Message};

#[test]
fn a_websocket_error_keeps_its_source_and_prints_it_once() {
    let error = Error::from(tungstenite::Error::Io(
        std::io::ErrorKind::ConnectionReset.into(),
    ));
    let source = error.source().expect("the tungstenite error is the source");
    let io = tungstenite::Error::Io(std::io::ErrorKind::ConnectionReset.into());
    assert_eq!(source.to_string(), io.to_string());
    assert_eq!(error.to_string(), "websocket");
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[test]
fn a_command_error_is_a_bad_request() {
    let error = Command::parse(r#"{"type":"dance"}"#).unwrap_err();
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error.to_string(), error.message());
}

#[test]
fn send_errors_are_errors_with_a_status() {
    let message = || Message::text("m");
    let errors: [Box<dyn HttpStatusError>; 3] = [
        Box::new(SendError(message())),
        Box::new(TrySendError::Full(message())),
        Box::new(TrySendError::Closed(message())),
    ];
    let texts: Vec<_> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        texts,
        [
            "the connection has ended; the message was not sent",
            "the send queue is full; the message was not queued",
            "the connection has ended; the message was not sent",
        ]
    );
    for error in &errors {
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE, "{error}");
        assert!(error.source().is_none());
    }
}

trait HttpStatusError: std::error::Error + HttpStatus {}
impl<E: std::error::Error + HttpStatus> HttpStatusError for E {}

#[test]
fn the_client_setters_have_getters() {
    let client = push_ws::client::Client::new("ws://127.0.0.1:9/ws", []);
    assert_eq!(client.from(), None);
    let cursor = Cursor::parse("5-2a").unwrap();
    let client = client.with_from(cursor);
    assert_eq!(client.from(), Some(cursor));
}

#[cfg(feature = "tls")]
#[test]
fn the_tls_config_set_is_the_one_got() {
    let client = push_ws::client::Client::new("wss://127.0.0.1:9/ws", []);
    assert!(
        client.tls_config().is_none(),
        "the default is built per connection"
    );
    let config = std::sync::Arc::new(push_http::client::tls_config([]).unwrap());
    let client = client.with_tls_config(std::sync::Arc::clone(&config));
    assert!(std::sync::Arc::ptr_eq(
        client.tls_config().unwrap(),
        &config
    ));
}
