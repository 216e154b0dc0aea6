//! `pushcat poll URL [--since CURSOR] [--count N] [--cacert FILE]`: long-polls a push-longpoll
//! endpoint (`http://` or `https://`) and prints one JSON object per line:
//! `{"id":..,"event":..,"data":..}` per event and `{"gap":true,"next":..}` when events were lost.
//! Transient errors are reported on stderr and retried under the client's reconnect policy;
//! others end the command with status 1. The URL's own `since` may be an id instead of a
//! cursor (a Mercure id seen over SSE): the server places it.

use std::process::ExitCode;

use futures_util::StreamExt;
use push_longpoll::client::{Client, Item};

use crate::args::{PollArgs, usage_error};

pub(crate) fn run(args: PollArgs) -> ExitCode {
    let error = |message: String| usage_error(&["poll"], message);
    let mut client = match Client::new(&args.url) {
        Ok(c) => c,
        Err(e) => return error(e.to_string()),
    };
    if let Some(c) = args.since {
        client = client.with_since(c);
    }
    // Extra trust anchors for https:// (a private CA, a self-signed certificate).
    let roots = match crate::tls::cacerts(&args.tls.files) {
        Ok(roots) => roots,
        Err(e) => return error(e),
    };
    for der in roots {
        client = match client.with_root_certificate(&der) {
            Ok(c) => c,
            Err(e) => return error(format!("--cacert: {e}")),
        };
    }
    crate::block_on(poll_loop(client, args.count.n))
}

async fn poll_loop(mut client: Client, count: Option<u64>) -> ExitCode {
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        match client.next().await {
            Some(Ok(Item::Event { id, event, data })) => {
                println!(
                    "{}",
                    serde_json::json!({"id": id.to_string(), "event": event, "data": data})
                );
                seen += 1;
            }
            Some(Ok(Item::Gap { next })) => {
                println!(
                    "{}",
                    serde_json::json!({"gap": true, "next": next.to_string()})
                );
            }
            Some(Ok(_)) => {}
            Some(Err(e)) if e.is_transient() => eprintln!("pushcat: {e} (retrying)"),
            Some(Err(e)) => {
                eprintln!("pushcat: {e}");
                return ExitCode::from(1);
            }
            // The client gave up (its reconnect policy's retries are spent).
            None => return ExitCode::from(1),
        }
    }
    ExitCode::SUCCESS
}
