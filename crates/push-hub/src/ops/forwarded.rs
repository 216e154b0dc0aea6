//! The client's address behind a reverse proxy: `Forwarded` (RFC 7239) or `X-Forwarded-For`,
//! believed only when the connection comes from a configured proxy.
//!
//! Any client can send these headers, so they mean something only when a proxy we trust put
//! them there, and only their right-hand part: each proxy appends the address it received the
//! request from. The client is the right-most hop that is not itself a trusted proxy. A hop
//! that is not an address (`unknown`, an obfuscated `_name`) stops the walk: the proxy that
//! reported it is then the best we know.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;
use push_http::grammar::Params;

/// The most hops read from the headers: a proxy chain is short, and a client cannot make the
/// walk long by padding the header.
const MAX_HOPS: usize = 32;

/// The proxies whose forwarding headers are believed (`--trusted-proxy`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts the peers in `nets`.
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }

    /// Whether `addr` is a trusted proxy.
    pub fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// The client's address for a request from `peer` with `headers`: `peer` itself unless it
    /// is a trusted proxy; then the right-most forwarded hop that is not one (`Forwarded` when
    /// present, else `X-Forwarded-For`).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops = if headers.contains_key(http::header::FORWARDED) {
            forwarded_hops(headers)
        } else {
            x_forwarded_for_hops(headers)
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(addr) if self.trusts(*addr) => client = *addr,
                Some(addr) => return *addr,
                None => return client,
            }
        }
        client
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4, so
/// `10.0.0.0/8` covers them.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

/// The hops of every `X-Forwarded-For` line, in order (`None`: not an address), at most the
/// last [`MAX_HOPS`].
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(text.split(',').map(|hop| parse_hop(hop.trim())));
    }
    keep_last(hops)
}

/// The `for=` hops of every `Forwarded` line, in order, at most the last [`MAX_HOPS`].
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(http::header::FORWARDED) {
        for element in split_elements(value.as_bytes()) {
            // The element is `pair *( ";" pair )`; Params reads `*( ";" pair )`.
            let mut text = Vec::with_capacity(element.len() + 1);
            text.push(b';');
            text.extend_from_slice(element);
            let hop = Params::parse(&text).get("for").map(|param| {
                param
                    .value()
                    .and_then(|word| word.to_str().map(|s| parse_hop(&s)))
                    .flatten()
            });
            // An element without `for=` says nothing about the client: skip it.
            if let Some(hop) = hop {
                hops.push(hop);
            }
        }
    }
    keep_last(hops)
}

fn keep_last(mut hops: Vec<Option<IpAddr>>) -> Vec<Option<IpAddr>> {
    if hops.len() > MAX_HOPS {
        hops.drain(..hops.len() - MAX_HOPS);
    }
    hops
}

/// The comma-separated elements of a `Forwarded` value (commas inside quoted strings are
/// part of their element).
fn split_elements(value: &[u8]) -> Vec<&[u8]> {
    let mut elements = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, &b) in value.iter().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                elements.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    elements.push(&value[start..]);
    elements
}

/// One hop: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80`.
fn parse_hop(text: &str) -> Option<IpAddr> {
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(canonical(addr));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(canonical(addr.ip()));
    }
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::new(vec![
            "10.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ])
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(proxies().client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        // The client forged 6.6.6.6; the proxies appended the real hops.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("198.51.100.7"));
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7:5555"),
        ]);
        assert_eq!(
            proxies().client(ip("::ffff:10.0.0.1"), &h),
            ip("198.51.100.7")
        );
        // Every hop a proxy: the left-most is the best we know.
        let h = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        // No header: the proxy itself.
        assert_eq!(
            proxies().client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_wins_and_reads_quoted_v6_and_ports() {
        let h = headers(&[
            ("x-forwarded-for", "7.7.7.7"),
            (
                "forwarded",
                r#"for=6.6.6.6;proto=http, For="[2001:db8:cafe::17]:4711";by=10.0.0.1"#,
            ),
        ]);
        assert_eq!(proxies().client(ip("::1"), &h), ip("2001:db8:cafe::17"));
        let h = headers(&[("forwarded", r#"for="_hidden, really", for=10.0.0.2"#)]);
        // `_hidden` is no address: the proxy that reported it (10.0.0.2) is the client.
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("10.0.0.2"));
    }

    #[test]
    fn garbage_and_floods_are_bounded() {
        let long = vec!["10.0.0.9"; 10_000].join(",");
        let h = headers(&[("x-forwarded-for", &format!("1.2.3.4,{long}"))]);
        // Past MAX_HOPS proxies the walk ends at the left-most hop kept.
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("10.0.0.9"));
        let h = headers(&[("x-forwarded-for", "not an ip, ,")]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
        let h = headers(&[("forwarded", "for=\"unterminated")]);
        assert_eq!(proxies().client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }
}
