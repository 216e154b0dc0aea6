//! `pushcat ws URL --subscribe TOPIC... [--from CURSOR] [--count N] [--cacert FILE]`: a
//! `push_ws::client::Client` that prints every server message as one JSON object per line
//! (`event`, `gap`, `error`, `subscribed`). An event whose data is binary is printed with the
//! bytes as `"data_hex"` (and its length as `"binary"`, as the server announced it). On a
//! dropped connection the client reconnects with push-http's default reconnect policy, resuming
//! from the last event id; `--count N` exits after N events.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use futures_util::StreamExt;
use push_core::Topic;
use push_ws::client::{Client, Item};
use serde_json::{Value, json};

use crate::args::{WsArgs, usage_error};

pub(crate) fn run(args: WsArgs) -> ExitCode {
    // wss:// trusts the Mozilla roots and every --cacert.
    let tls = match crate::tls::cacerts(&args.tls.files)
        .and_then(|extra| crate::tls::client_config(&extra))
    {
        Ok(config) => config,
        Err(e) => return usage_error(&["ws"], e),
    };
    let topics: Vec<Topic> = match args.topics.iter().map(|t| Topic::new(t)).collect() {
        Ok(topics) => topics,
        Err(e) => return usage_error(&["ws"], format!("--subscribe: {e}")),
    };
    let mut client = Client::new(args.url, topics).with_tls_config(tls);
    if let Some(from) = args.from {
        client = client.with_from(from);
    }
    crate::block_on(listen(client, args.count.n))
}

async fn listen(mut client: Client, count: Option<u64>) -> ExitCode {
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        let item = match client.next().await {
            Some(Ok(item)) => item,
            Some(Err(e)) if e.is_fatal() => {
                eprintln!("pushcat: {e}");
                return ExitCode::from(1);
            }
            Some(Err(e)) => {
                eprintln!("pushcat: {e} (reconnecting)");
                continue;
            }
            None => {
                eprintln!("pushcat: giving up reconnecting");
                return ExitCode::from(1);
            }
        };
        if matches!(item, Item::Event { .. }) {
            seen += 1;
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{}", to_json(&item))
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::SUCCESS;
        }
    }
    ExitCode::SUCCESS
}

/// The item as the server sent it (an event's binary data as `data_hex`).
fn to_json(item: &Item) -> Value {
    match item {
        Item::Subscribed { topics, cursor } => json!({
            "type": "subscribed",
            "topics": topics.iter().map(Topic::as_str).collect::<Vec<_>>(),
            "cursor": cursor.to_string(),
        }),
        Item::Event {
            topic,
            id,
            event,
            data,
        } => {
            let mut value = json!({"type": "event", "topic": topic.as_str(), "id": id.to_string()});
            if let Some(event) = event {
                value["event"] = json!(event);
            }
            match core::str::from_utf8(data) {
                Ok(text) => value["data"] = json!(text),
                Err(_) => {
                    value["binary"] = json!(data.len());
                    value["data_hex"] = json!(hex(data));
                }
            }
            value
        }
        Item::Gap { reason, resume } => {
            json!({"type": "gap", "reason": reason, "resume": resume.to_string()})
        }
        Item::Rejected { status, message } => {
            let mut value = json!({"type": "error", "message": message});
            if let Some(status) = status {
                value["status"] = json!(status.as_u16());
            }
            value
        }
        other => json!({"type": "unknown", "debug": format!("{other:?}")}),
    }
}

fn hex(data: &[u8]) -> String {
    data.iter()
        .fold(String::with_capacity(data.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
