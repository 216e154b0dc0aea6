//! `pushcat poll URL [--since CURSOR] [--count N] [--cacert FILE]`: long-polls a push-longpoll
//! endpoint (`http://` or `https://`) and prints one JSON object per line:
//! `{"id":..,"event":..,"data":..}` per event and `{"gap":true,"next":..}` when events were lost.
//! Transient errors are reported on stderr and retried with backoff; others end the command with
//! status 1.

use std::process::ExitCode;

use push_core::Cursor;
use push_longpoll::{Client, Item};

use crate::args::Args;
use crate::usage_error;

pub(crate) fn run(args: &[String]) -> ExitCode {
    let parsed = match Args::parse(args, &["--since", "--count", "--cacert"]) {
        Ok(a) => a,
        Err(e) => return usage_error(&e),
    };
    let (since, count) = match (
        parsed.get::<Cursor>("--since"),
        parsed.get::<u64>("--count"),
    ) {
        (Ok(since), Ok(count)) => (since, count),
        (Err(e), _) | (_, Err(e)) => return usage_error(&e),
    };
    let Some(url) = parsed.url.clone() else {
        return usage_error("poll needs a URL");
    };
    let mut client = match Client::new(&url) {
        Ok(c) => c,
        Err(e) => return usage_error(&e.to_string()),
    };
    if let Some(c) = since {
        client = client.since(c);
    }
    // Extra trust anchors for https:// (a private CA, a self-signed certificate).
    let roots = match crate::tls::cacerts(&parsed) {
        Ok(roots) => roots,
        Err(e) => return usage_error(&e),
    };
    for der in roots {
        client = match client.add_root_certificate(&der) {
            Ok(c) => c,
            Err(e) => return usage_error(&format!("--cacert: {e}")),
        };
    }
    crate::block_on(poll_loop(client, count))
}

async fn poll_loop(mut client: Client, count: Option<u64>) -> ExitCode {
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        match client.next().await {
            Ok(Item::Event(e)) => {
                println!(
                    "{}",
                    serde_json::json!({"id": e.id.to_string(), "event": e.event, "data": e.data})
                );
                seen += 1;
            }
            Ok(Item::Gap { next }) => {
                println!(
                    "{}",
                    serde_json::json!({"gap": true, "next": next.to_string()})
                );
            }
            Ok(_) => {}
            Err(e) if e.is_transient() => eprintln!("pushcat: {e} (retrying)"),
            Err(e) => {
                eprintln!("pushcat: {e}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
