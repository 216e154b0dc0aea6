//! `CONNECT` negotiation: the version both sides speak and the heart-beat intervals (STOMP 1.2
//! "Protocol Negotiation" and "Heart-beating"), pure functions.

use std::time::Duration;

use crate::Version;

/// The highest version in the client's `accept-version` (absent: 1.0 only) that the server
/// speaks, no higher than `ceiling` (the version a WebSocket subprotocol selected); `None` when
/// they share none.
pub(crate) fn version(accept: Option<&str>, ceiling: Option<Version>) -> Option<Version> {
    let ceiling = ceiling.unwrap_or(Version::V1_2);
    let offered = |v: Version| match accept {
        None => v == Version::V1_0,
        Some(list) => list.split(',').any(|t| t.trim() == v.as_str()),
    };
    Version::ALL
        .into_iter()
        .find(|&v| v <= ceiling && offered(v))
}

/// The two numbers of a `heart-beat` header (`cx,cy` in milliseconds); absent or malformed is
/// `0,0` (no heart-beats), as a peer that cannot say it wants none.
pub(crate) fn client_heart_beat(header: Option<&str>) -> (u64, u64) {
    let parse = |t: &str| t.trim().parse::<u64>().ok();
    header
        .and_then(|h| h.split_once(','))
        .and_then(|(a, b)| Some((parse(a)?, parse(b)?)))
        .unwrap_or((0, 0))
}

/// The agreed intervals (`send`, `receive`) from the server's offer (`sx`: can send, `sy`:
/// wants) and the client's (`cx`: can send, `cy`: wants): each direction beats at the larger of
/// the two wishes, or never when either side says 0.
pub(crate) fn heart_beats(server: (Duration, Duration), client: (u64, u64)) -> (u64, u64) {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let (sx, sy) = (ms(server.0), ms(server.1));
    let (cx, cy) = client;
    let send = if sx == 0 || cy == 0 { 0 } else { sx.max(cy) };
    let receive = if sy == 0 || cx == 0 { 0 } else { sy.max(cx) };
    (send, receive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_shared_version_wins() {
        assert_eq!(version(Some("1.0,1.1,1.2"), None), Some(Version::V1_2));
        assert_eq!(version(Some("1.1, 1.0"), None), Some(Version::V1_1));
        assert_eq!(version(None, None), Some(Version::V1_0));
        assert_eq!(version(Some("2.0"), None), None);
        assert_eq!(
            version(Some("1.0,1.1,1.2"), Some(Version::V1_1)),
            Some(Version::V1_1)
        );
    }

    #[test]
    fn heart_beats_take_the_larger_wish_or_none() {
        let server = (Duration::from_secs(10), Duration::from_secs(10));
        assert_eq!(heart_beats(server, (0, 0)), (0, 0));
        assert_eq!(heart_beats(server, (4000, 20000)), (20000, 10000));
        assert_eq!(
            heart_beats((Duration::ZERO, Duration::ZERO), (1, 1)),
            (0, 0)
        );
        assert_eq!(client_heart_beat(Some("1000, 2000")), (1000, 2000));
        assert_eq!(client_heart_beat(Some("x,1")), (0, 0));
        assert_eq!(client_heart_beat(None), (0, 0));
    }
}
