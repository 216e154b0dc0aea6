//! `pushcat poll URL [--since CURSOR] [--count N]`: long-polls a push-longpoll endpoint and
//! prints one JSON object per line: `{"id":..,"event":..,"data":..}` per event and
//! `{"gap":true,"next":..}` when events were lost. Transient errors are reported on stderr and
//! retried with backoff; others end the command with status 1.

use std::process::ExitCode;

use push_core::Cursor;
use push_longpoll::{Client, Item};

const USAGE: &str =
    "  poll URL [--since CURSOR] [--count N]   long-poll URL (e.g. http://HOST/poll?topic=T)\n";

pub(crate) fn run(args: &[String]) -> ExitCode {
    let mut url = None;
    let mut since = None;
    let mut count = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--since" => match it.next().map(|s| s.parse::<Cursor>()) {
                Some(Ok(c)) => since = Some(c),
                Some(Err(e)) => return usage(&format!("--since: {e}")),
                None => return usage("--since needs a cursor"),
            },
            "--count" => match it.next().map(|s| s.parse::<u64>()) {
                Some(Ok(n)) => count = Some(n),
                _ => return usage("--count needs a number"),
            },
            other if url.is_none() && !other.starts_with("--") => url = Some(other.to_owned()),
            other => return usage(&format!("unexpected argument {other:?}")),
        }
    }
    let Some(url) = url else {
        return usage("poll needs a URL");
    };
    let mut client = match Client::new(&url) {
        Ok(c) => c,
        Err(e) => return usage(&e.to_string()),
    };
    if let Some(c) = since {
        client = client.since(c);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("pushcat: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(poll_loop(client, count))
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

fn usage(message: &str) -> ExitCode {
    eprintln!("pushcat poll: {message}\nusage: pushcat\n{USAGE}");
    ExitCode::from(2)
}
