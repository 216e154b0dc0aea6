//! The client's state machine ([`EventSourceState`]) against whole hostile scripts: stream
//! bytes, ends, breaks and the passing of time, checked against a reference model of the WHATWG
//! rules for the last event id.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::Config;
use crate::client::{EventSourceState, Item, ReconnectPolicy};

/// A few durations, the extremes among them.
const DURATIONS: [Duration; 9] = [
    Duration::ZERO,
    Duration::from_millis(1),
    Duration::from_millis(10),
    Duration::from_millis(250),
    Duration::from_secs(3),
    Duration::from_secs(60),
    Duration::from_secs(86_400),
    Duration::from_millis(u64::MAX),
    Duration::MAX,
];

fn duration(byte: u8) -> Duration {
    DURATIONS[usize::from(byte) % DURATIONS.len()]
}

/// Runs a script through an [`EventSourceState`] and checks, at every step: no panic; every
/// event is the model's (data and last event id); every reconnection delay lies within the
/// policy's `[floor, cap]`; the `Last-Event-ID` of every reconnection is the model's, and is
/// always a valid HTTP field value (an id that is not one is withheld, as the model says).
///
/// Layout: 8 header bytes (limits: bit 0 of byte 0 the default ones, else bytes 1 and 2;
/// policy: `min`, `max`, `initial`, `healthy_after` from a table of durations, then
/// `max_retries`, then the jitter seed), then operations, one byte each: its top 3 bits the
/// kind, the low 5 an argument. Kinds 0 to 3: that many bytes of stream follow (the argument,
/// plus 32 per kind above 0); 4: the server answers (a stream opens); 5: the body ends; 6: the
/// connection breaks; 7: the time advances by the argument × 700 ms.
pub fn client(data: &[u8]) {
    let Some((header, mut ops)) = data.split_first_chunk::<8>() else {
        return;
    };
    let config = if header[0] & 1 == 1 {
        Config::default()
    } else {
        Config::new()
            .with_max_line_len(1 + usize::from(header[1] % 48))
            .with_max_event_len(usize::from(header[2] % 64))
    };
    let retries = (header[6] & 0x80 == 0).then_some(u32::from(header[6] % 8));
    let policy = ReconnectPolicy::default()
        .with_min(duration(header[2] >> 4))
        .with_max(duration(header[3]))
        .with_initial(duration(header[4]))
        .with_healthy_after(duration(header[5]))
        .with_max_retries(retries);
    let (floor, cap) = (policy.min(), policy.max().max(policy.min()));
    let mut state = EventSourceState::new(policy, config, u64::from(header[7]));
    #[allow(clippy::disallowed_methods)] // The origin of simulated time; the state reads no clock.
    let start = Instant::now();
    let mut now = start;
    let mut model = Model::new(config);
    let mut events = Vec::new();
    while let Some((&op, rest)) = ops.split_first() {
        ops = rest;
        let arg = usize::from(op & 0x1F);
        match op >> 5 {
            kind @ 0..=3 => {
                let len = (arg + 32 * usize::from(kind)).min(ops.len());
                let (chunk, rest) = ops.split_at(len);
                ops = rest;
                if state.is_open() {
                    model.stream.extend_from_slice(chunk);
                    state.handle_bytes(Bytes::copy_from_slice(chunk));
                    if !drain(&mut state, &mut events)
                        && !disconnect(&mut state, &mut model, now, (floor, cap), &mut events)
                    {
                        return;
                    }
                }
            }
            4 => {
                if state.is_open()
                    && !disconnect(&mut state, &mut model, now, (floor, cap), &mut events)
                {
                    return;
                }
                state.handle_open(now);
            }
            5 | 6 => {
                if state.is_open() {
                    if op >> 5 == 5 {
                        state.handle_end();
                        drain(&mut state, &mut events);
                    }
                    if !disconnect(&mut state, &mut model, now, (floor, cap), &mut events) {
                        return;
                    }
                }
            }
            _ => {
                let step = Duration::from_millis(700).saturating_mul(arg as u32);
                now = now.checked_add(step).unwrap_or(now);
            }
        }
    }
}

/// Polls every item; `false` when the stream broke a limit (it is over).
fn drain(state: &mut EventSourceState, events: &mut Vec<(String, String)>) -> bool {
    loop {
        match state.poll_item() {
            Ok(Some(Item::Event(e))) => events.push((
                String::from_utf8_lossy(&e.data).into_owned(),
                e.id.unwrap_or_default(),
            )),
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// Ends the stream and checks it against the model; `false` when the client gives up.
fn disconnect(
    state: &mut EventSourceState,
    model: &mut Model,
    now: Instant,
    (floor, cap): (Duration, Duration),
    events: &mut Vec<(String, String)>,
) -> bool {
    let want = model.end_stream();
    assert_eq!(*events, want, "the events of the stream");
    events.clear();
    let Some(next) = state.handle_disconnect(now) else {
        return false;
    };
    assert!(
        next.delay >= floor && next.delay <= cap,
        "{:?} outside [{floor:?}, {cap:?}]",
        next.delay
    );
    let sent = next.last_event_id.as_deref().unwrap_or("");
    assert!(
        sent.bytes().all(field_value_byte),
        "{sent:?} is no header value"
    );
    let sendable = model.id.bytes().all(field_value_byte);
    let want = if sendable { &model.id } else { &model.resume };
    let want = Some(want.as_str()).filter(|id| !id.is_empty());
    assert_eq!(
        next.last_event_id.as_deref(),
        want,
        "the Last-Event-ID sent"
    );
    let withheld = (!sendable).then_some(model.id.as_str());
    assert_eq!(next.withheld_id.as_deref(), withheld, "the id withheld");
    true
}

/// A byte an HTTP field value may hold (RFC 9110 §5.5: VCHAR, SP, HTAB, obs-text).
fn field_value_byte(b: u8) -> bool {
    matches!(b, b'\t' | b' '..=b'~' | 0x80..)
}

/// The WHATWG event stream interpretation, written plainly over one whole stream: the last
/// event id of the event source and the events, with the decoder's limits.
struct Model {
    config: Config,
    /// The event source's last event id.
    id: String,
    /// The id a reconnection resumes from when `id` cannot be sent: the last event source's id
    /// or dispatched event's id that could be.
    resume: String,
    /// The bytes of the stream being read.
    stream: Vec<u8>,
}

impl Model {
    fn new(config: Config) -> Self {
        Self {
            config,
            id: String::new(),
            resume: String::new(),
            stream: Vec::new(),
        }
    }

    /// Interprets the stream that just ended: its events (data, id); updates the id.
    fn end_stream(&mut self) -> Vec<(String, String)> {
        let stream = core::mem::take(&mut self.stream);
        let mut rest = stream.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&stream);
        let mut buffer = self.id.clone();
        let mut data: Option<Vec<u8>> = None;
        let mut events = Vec::new();
        // Complete lines only: what follows the last line ending is an unfinished line.
        while let Some(end) = rest.iter().position(|&b| b == b'\r' || b == b'\n') {
            let line = &rest[..end];
            let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
            rest = &rest[end + 1 + usize::from(crlf)..];
            if line.is_empty() {
                self.id.clone_from(&buffer);
                if let Some(data) = data.take() {
                    if buffer.bytes().all(field_value_byte) {
                        self.resume.clone_from(&buffer);
                    }
                    events.push((String::from_utf8_lossy(&data).into_owned(), buffer.clone()));
                }
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (line, &b""[..]),
            };
            match name {
                b"data" => {
                    let len = data.as_ref().map_or(0, |d| d.len() + 1) + value.len();
                    if len > self.config.max_event_len() {
                        break;
                    }
                    let data = data.get_or_insert_with(Vec::new);
                    if len > value.len() {
                        data.push(b'\n');
                    }
                    data.extend_from_slice(value);
                }
                b"event" | b"id" | b"retry" if line.len() > self.config.max_line_len() => break,
                b"id" if !value.contains(&0) => {
                    buffer = String::from_utf8_lossy(value).into_owned();
                }
                _ => {}
            }
        }
        if self.id.bytes().all(field_value_byte) {
            self.resume.clone_from(&self.id);
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_follows_the_rules() {
        let mut m = Model::new(Config::default());
        m.stream =
            b"\xEF\xBB\xBFid: 1\r\ndata: a\r\rid: 2\n\nid: 3\ndata: b\ndata\n\nid: 4".to_vec();
        let events = m.end_stream();
        let owned = |d: &str, i: &str| (d.to_owned(), i.to_owned());
        assert_eq!(events, [owned("a", "1"), owned("b\n", "3")]);
        assert_eq!(m.id, "3");
        m.stream = b"id: 5\n\nid: x\0\n\n".to_vec();
        assert!(m.end_stream().is_empty());
        assert_eq!(m.id, "5");
        m.stream = b"id: 6\ndata: c\n\nid: 7\n\nid: a\x01b\n\n".to_vec();
        assert_eq!(m.end_stream(), [owned("c", "6")]);
        assert_eq!((m.id.as_str(), m.resume.as_str()), ("a\x01b", "6"));
    }

    #[test]
    fn hostile_scripts_hold() {
        // Default limits and policy; open; `retry` of 10^17 ms, `id: 7` alone; break; reopen.
        let mut script = vec![1, 0, 0x30, 5, 4, 6, 0x80, 9, 0x80];
        let stream = b"retry: 99999999999999999\nid: 7\n\n";
        script.push(0x20 + (stream.len() - 32) as u8);
        script.extend_from_slice(stream);
        script.extend_from_slice(&[0xC0, 0x80, 0x04]);
        script.extend_from_slice(b"id\n\n");
        script.push(0xA0);
        // Reopen: an event with an id no header can carry, then one that only sets such an id.
        script.push(0x80);
        let stream = b"id: 1\ndata: a\n\nid: a\x01b\ndata: b\n\nid: \x7f\n\n";
        script.push(stream.len() as u8);
        script.extend_from_slice(stream);
        script.extend_from_slice(&[0xA0, 0x80, 0x06, b'd', b'a', b't', b'a', b'\n', b'\n', 0xC0]);
        client(&script);
        client(&[]);
        client(&[0; 64]);
        client(&[0xFF; 64]);
    }
}
