//! `pushcat sse decode` and `pushcat sse listen`.

use std::io::{Read, Write};
use std::process::ExitCode;

use push_core::Event;
use push_sse::client::{EventSource, Item};
use push_sse::{Decoded, Decoder};

use crate::args::{DecodeArgs, ListenArgs, usage_error};
use crate::json::{Line, print_line};

fn event_line(e: &Event) -> Line {
    Line::Event {
        event: e.event.clone().unwrap_or_else(|| "message".to_owned()),
        data: String::from_utf8_lossy(&e.data).into_owned(),
        id: e.id.clone().unwrap_or_default(),
    }
}

/// A decoder's item as a line.
fn decoded_line(item: &Decoded<Event>) -> Option<Line> {
    match item {
        Decoded::Event(e) => Some(event_line(e)),
        Decoded::Retry(ms) => Some(Line::Retry(*ms)),
        _ => None,
    }
}

/// A client's item as a line.
fn item_line(item: &Item) -> Option<Line> {
    match item {
        Item::Event(e) => Some(event_line(e)),
        Item::Retry(delay) => Some(Line::Retry(
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        )),
        _ => None,
    }
}

/// `pushcat sse decode [--chunk-size N]`: stdin through the decoder, one JSON line per event and
/// per `retry`.
pub(crate) fn decode(args: &DecodeArgs) -> ExitCode {
    let chunk_size = args.chunk_size;
    let mut decoder = Decoder::new();
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; chunk_size];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("pushcat: reading stdin: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Feed exactly `chunk_size` bytes at a time at most, to reproduce chunk boundaries.
        for chunk in buf[..n].chunks(chunk_size) {
            decoder.feed(chunk);
            if let Err(code) = drain(&mut decoder, &mut stdout) {
                return code;
            }
        }
    }
    decoder.finish();
    if let Err(code) = drain(&mut decoder, &mut stdout) {
        return code;
    }
    let _ = stdout.flush();
    ExitCode::SUCCESS
}

fn drain(decoder: &mut Decoder, out: &mut impl Write) -> Result<(), ExitCode> {
    loop {
        match decoder.poll_owned() {
            Ok(Some(item)) => {
                if let Some(line) = decoded_line(&item) {
                    print_line(out, &line).map_err(|_| ExitCode::FAILURE)?;
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                eprintln!("pushcat: {e}");
                return Err(ExitCode::FAILURE);
            }
        }
    }
}

/// `pushcat sse listen URL [--last-event-id ID] [--count N] [--cacert FILE]`: an `EventSource`
/// that reconnects on transient errors, one JSON line per event and per `retry`.
pub(crate) fn listen(args: ListenArgs) -> ExitCode {
    let error = |message: String| usage_error(&["sse", "listen"], message);
    let mut source = match EventSource::new(&args.url) {
        Ok(s) => s.with_last_event_id(args.last_event_id.unwrap_or_default()),
        Err(e) => return error(e.to_string()),
    };
    // Extra trust anchors for https:// (a private CA, a self-signed certificate).
    let roots = match crate::tls::cacerts(&args.tls.files) {
        Ok(roots) => roots,
        Err(e) => return error(e),
    };
    for der in roots {
        source = match source.with_root_certificate(&der) {
            Ok(s) => s,
            Err(e) => return error(format!("--cacert: {e}")),
        };
    }
    let count = args.count.n;
    crate::block_on(async move {
        let mut source = source;
        let mut stdout = std::io::stdout();
        let mut events = 0u64;
        while count.is_none_or(|c| events < c) {
            match source.next().await {
                Some(Ok(item)) => {
                    if matches!(item, Item::Event(_)) {
                        events += 1;
                    }
                    if let Some(line) = item_line(&item)
                        && print_line(&mut stdout, &line).is_err()
                    {
                        return ExitCode::FAILURE;
                    }
                }
                Some(Err(e)) if e.is_transient() => eprintln!("pushcat: {e}; reconnecting"),
                Some(Err(e)) => {
                    eprintln!("pushcat: {e}");
                    return ExitCode::FAILURE;
                }
                None => break,
            }
        }
        ExitCode::SUCCESS
    })
}
