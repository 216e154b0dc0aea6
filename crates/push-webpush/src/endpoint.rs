//! Which endpoints a server sends to. A subscription's endpoint is a URL a user supplied: sent
//! blindly, it would make the server POST to any address it can reach (its own admin ports, a
//! cloud metadata service). The policy admits only known push services, over HTTPS, and checks
//! every address a host name resolves to, so a name that resolves to a private address is
//! refused at connect time too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::Error;

/// The push services of the major browsers (Chrome/Edge via FCM, Firefox, Safari, legacy Edge
/// via WNS): exact hosts, and `.`-prefixed suffixes.
pub const KNOWN_PUSH_SERVICES: &[&str] = &[
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "web.push.apple.com",
    ".push.apple.com",
    ".notify.windows.com",
];

/// The endpoints a sender may POST to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPolicy {
    hosts: Vec<String>,
    allow_loopback: bool,
}

impl Default for EndpointPolicy {
    /// [`KNOWN_PUSH_SERVICES`] over HTTPS; no loopback.
    fn default() -> Self {
        Self {
            hosts: KNOWN_PUSH_SERVICES
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            allow_loopback: false,
        }
    }
}

impl EndpointPolicy {
    /// Only the given hosts (exact, or a suffix when it starts with `.`), over HTTPS.
    pub fn hosts<I: IntoIterator<Item = S>, S: Into<String>>(hosts: I) -> Self {
        Self {
            hosts: hosts
                .into_iter()
                .map(|h| h.into().to_ascii_lowercase())
                .collect(),
            allow_loopback: false,
        }
    }

    /// Also admits loopback endpoints (`127.0.0.0/8`, `::1`, `localhost`), over plain HTTP too:
    /// for tests and a push service stand-in. Never turn it on in production.
    #[must_use]
    pub fn with_loopback(mut self, allow: bool) -> Self {
        self.allow_loopback = allow;
        self
    }

    /// Whether loopback is admitted.
    pub fn allows_loopback(&self) -> bool {
        self.allow_loopback
    }

    /// Checks an endpoint URL and returns it parsed.
    pub fn check(&self, endpoint: &str) -> Result<Url, Error> {
        let url = Url::parse(endpoint).map_err(|e| Error::Endpoint(format!("not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::Endpoint("credentials in the URL".into()));
        }
        let loopback = match url.host() {
            Some(Host::Domain(name)) => {
                if name.eq_ignore_ascii_case("localhost") {
                    true
                } else {
                    let name = name.to_ascii_lowercase();
                    if !self.hosts.iter().any(|rule| host_matches(rule, &name)) {
                        return Err(Error::Endpoint(format!(
                            "{name} is not a known push service"
                        )));
                    }
                    false
                }
            }
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(Error::Endpoint("no host".into())),
        };
        if loopback {
            if !self.allow_loopback {
                return Err(Error::Endpoint("loopback endpoints are not allowed".into()));
            }
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Error::Endpoint("not http or https".into()));
            }
            return Ok(url);
        }
        if url.host().is_some_and(|h| !matches!(h, Host::Domain(_))) {
            return Err(Error::Endpoint(
                "an IP address is not a known push service".into(),
            ));
        }
        if url.scheme() != "https" {
            return Err(Error::Endpoint(
                "push services are reached over https".into(),
            ));
        }
        Ok(url)
    }

    /// Checks an address a push service's name resolved to: never a private, link-local
    /// (cloud metadata), shared, reserved or multicast address; loopback only when allowed.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), Error> {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        if ip.is_loopback() {
            return if self.allow_loopback {
                Ok(())
            } else {
                Err(Error::Endpoint(format!("{ip} is loopback")))
            };
        }
        let public = match ip {
            IpAddr::V4(v4) => is_public_v4(v4),
            IpAddr::V6(v6) => is_public_v6(v6),
        };
        if public {
            Ok(())
        } else {
            Err(Error::Endpoint(format!("{ip} is not a public address")))
        }
    }
}

fn host_matches(rule: &str, host: &str) -> bool {
    match rule.strip_prefix('.') {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1),
        None => rule == host,
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16: cloud metadata lives here
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // 100.64/10, shared (carrier-grade NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // 192.0.0/24, IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // 198.18/15, benchmarking
        || a >= 240) // 240/4, reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        // 64:ff9b::/96, NAT64: the IPv4 address it embeds decides.
        let [_, _, _, _, _, _, hi, lo] = s;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // fc00::/7, unique local
        || (s[0] & 0xffc0) == 0xfe80 // fe80::/10, link-local
        || (s[0] & 0xffc0) == 0xfec0 // fec0::/10, deprecated site-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // 100::/64, discard
        || s[0] == 0 && s[1..6] == [0; 5] // ::/80 other than v4-mapped (handled before)
        || (s[0] == 0x2002)) // 6to4 embeds any v4 address
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_push_services_over_https_pass() {
        let policy = EndpointPolicy::default();
        for ok in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://web.push.apple.com/QGuQ",
            "https://db5p.notify.windows.com/w/?token=x",
            "https://FCM.googleapis.com:443/x",
        ] {
            policy.check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let policy = EndpointPolicy::default();
        for bad in [
            "http://fcm.googleapis.com/fcm/send/abc",
            "https://evil.example/fcm.googleapis.com",
            "https://fcm.googleapis.com.evil.example/x",
            "https://notify.windows.com/x",
            "https://evilnotify.windows.com/x",
            "https://127.0.0.1/x",
            "http://localhost:8080/x",
            "https://[::1]/x",
            "https://169.254.169.254/latest/meta-data",
            "https://user:pw@fcm.googleapis.com/x",
            "ftp://fcm.googleapis.com/x",
            "not a url",
        ] {
            assert!(policy.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback_only_by_the_flag() {
        let policy = EndpointPolicy::hosts(["push.test"]).with_loopback(true);
        for ok in [
            "http://127.0.0.1:9/x",
            "http://[::1]:9/x",
            "http://localhost:9/x",
            "https://push.test/x",
        ] {
            policy.check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert!(policy.check("http://10.0.0.1/x").is_err());
        assert!(policy.check("http://push.test/x").is_err());
        assert!(policy.check_address("127.0.0.1".parse().unwrap()).is_ok());
        assert!(
            EndpointPolicy::default()
                .check_address("127.0.0.1".parse().unwrap())
                .is_err()
        );
        assert!(
            EndpointPolicy::default()
                .check_address("::ffff:127.0.0.1".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn resolved_private_and_metadata_addresses_are_refused() {
        let policy = EndpointPolicy::default().with_loopback(true);
        for bad in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.170",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
            "2002:a9fe:a9fe::1",
            "::10.0.0.1",
        ] {
            assert!(policy.check_address(bad.parse().unwrap()).is_err(), "{bad}");
        }
        for ok in [
            "142.250.74.10",
            "2a00:1450:4001:80e::200a",
            "64:ff9b::8efa:4a0a",
            "::ffff:142.250.74.10",
        ] {
            assert!(policy.check_address(ok.parse().unwrap()).is_ok(), "{ok}");
        }
    }
}
