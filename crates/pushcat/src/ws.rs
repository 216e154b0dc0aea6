//! `pushcat ws URL --subscribe TOPIC... [--from CURSOR] [--count N] [--cacert FILE]`: speaks the
//! push-ws JSON protocol and prints every server message as one JSON object per line (`event`,
//! `gap`, `error`, `subscribed`). An event whose data is binary is printed once its binary frame
//! has arrived, with the bytes as `"data_hex"`. On a dropped connection it reconnects after a
//! second, resuming from the last event id; `--count N` exits after N events.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use push_core::Cursor;
use serde_json::{Value, json};
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;

use crate::args::{WsArgs, usage_error};

pub(crate) fn run(args: WsArgs) -> ExitCode {
    // wss:// trusts the Mozilla roots and every --cacert.
    let connector = match crate::tls::cacerts(&args.tls.files)
        .and_then(|extra| crate::tls::client_config(&extra))
    {
        Ok(config) => Connector::Rustls(config),
        Err(e) => return usage_error(&["ws"], e),
    };
    crate::block_on(listen(
        args.url,
        args.topics,
        args.from,
        args.count.n,
        connector,
    ))
}

async fn listen(
    url: String,
    topics: Vec<String>,
    mut from: Option<Cursor>,
    count: Option<u64>,
    connector: Connector,
) -> ExitCode {
    let mut seen = 0u64;
    loop {
        match session(&url, &topics, &mut from, count, &mut seen, &connector).await {
            Ok(()) => return ExitCode::SUCCESS,
            Err(Fatal(message)) => {
                eprintln!("pushcat: {message}");
                return ExitCode::from(1);
            }
            Err(Retry(message)) => {
                eprintln!("pushcat: {message} (reconnecting)");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

enum Outcome {
    Fatal(String),
    Retry(String),
}
use Outcome::{Fatal, Retry};

/// One connection: subscribe, print, until `count` events were printed (Ok) or it ends (Err).
async fn session(
    url: &str,
    topics: &[String],
    from: &mut Option<Cursor>,
    count: Option<u64>,
    seen: &mut u64,
    connector: &Connector,
) -> Result<(), Outcome> {
    let (mut ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector.clone()))
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(r) => {
                    Fatal(format!("refused: {}", r.status()))
                }
                tokio_tungstenite::tungstenite::Error::Url(e) => Fatal(format!("bad URL: {e}")),
                e => Retry(e.to_string()),
            })?;
    let mut subscribe = json!({"type": "subscribe", "topics": topics});
    if let Some(c) = from {
        subscribe["from"] = json!(c.to_string());
    }
    ws.send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| Retry(e.to_string()))?;
    let mut awaiting_binary: Option<Value> = None;
    while count.is_none_or(|n| *seen < n) {
        let message = match ws.next().await {
            Some(Ok(m)) => m,
            Some(Err(e)) => return Err(Retry(e.to_string())),
            None => return Err(Retry("connection closed".to_owned())),
        };
        let value = match message {
            Message::Text(text) => match serde_json::from_str::<Value>(&text) {
                Ok(v) if v.get("binary").is_some() => {
                    awaiting_binary = Some(v);
                    continue;
                }
                Ok(v) => v,
                Err(_) => json!({"type": "unparsed", "text": text.as_str()}),
            },
            Message::Binary(data) => match awaiting_binary.take() {
                Some(mut v) => {
                    v["data_hex"] = json!(hex(&data));
                    v
                }
                None => json!({"type": "binary", "data_hex": hex(&data)}),
            },
            Message::Close(frame) => {
                let code = frame.map_or(1005, |f| u16::from(f.code));
                return Err(Retry(format!("closed by the server ({code})")));
            }
            _ => continue,
        };
        match value["type"].as_str() {
            Some("event") => {
                *seen += 1;
                *from = value["id"].as_str().and_then(|c| c.parse().ok()).or(*from);
            }
            Some("gap") => {
                *from = value["resume"]
                    .as_str()
                    .and_then(|c| c.parse().ok())
                    .or(*from)
            }
            _ => {}
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{value}").and_then(|()| out.flush()).is_err() {
            return Ok(());
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}

fn hex(data: &[u8]) -> String {
    data.iter()
        .fold(String::with_capacity(data.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
