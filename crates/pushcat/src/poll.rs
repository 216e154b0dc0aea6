//! `pushcat poll URL [--since CURSOR] [--count N] [--cacert FILE]`: long-polls a push-longpoll
//! endpoint (`http://` or `https://`) and prints one JSON object per line:
//! `{"id":..,"event":..,"data":..}` per event and `{"gap":true,"next":..}` when events were lost.
//! Transient errors are reported on stderr and retried with backoff; others end the command with
//! status 1.

use std::process::ExitCode;

use push_longpoll::{Client, Item};

use crate::args::{PollArgs, usage_error};

pub(crate) fn run(args: PollArgs) -> ExitCode {
    let error = |message: String| usage_error(&["poll"], message);
    let mut client = match Client::new(&args.url) {
        Ok(c) => c,
        Err(e) => return error(e.to_string()),
    };
    if let Some(c) = args.since {
        client = client.since(c);
    }
    // Extra trust anchors for https:// (a private CA, a self-signed certificate).
    let roots = match crate::tls::cacerts(&args.tls.files) {
        Ok(roots) => roots,
        Err(e) => return error(e),
    };
    for der in roots {
        client = match client.add_root_certificate(&der) {
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
