//! The SSRF address policy: which callback URLs and which resolved addresses a sender may
//! connect to. Sans-IO: the sender resolves, then asks [`AddressPolicy::filter`] about the
//! addresses it got, at connect time, so a name that resolves to an internal address (or is
//! re-pointed there after registration) is refused like the address itself.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

/// What an address is, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressClass {
    /// A public unicast address: allowed.
    Public,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, shared address space (`100.64.0.0/10`), unique local (`fc00::/7`), site-local.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// A cloud metadata service (`169.254.169.254`, `fd00:ec2::254`, `100.100.100.200`,
    /// `168.63.129.16`): refused even when private addresses are allowed.
    Metadata,
    /// `0.0.0.0/8`, `::`: refused always (on Linux it reaches the local host).
    Unspecified,
    /// Multicast and broadcast: refused always.
    Multicast,
    /// Documentation, benchmarking, reserved, Teredo and IPv4-compatible ranges: refused always.
    Reserved,
}

impl AddressClass {
    /// The class of `ip`. IPv4-mapped, NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses
    /// are classed by the IPv4 address they carry.
    #[must_use]
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => classify_v4(v4),
            IpAddr::V6(v6) => classify_v6(v6),
        }
    }
}

/// IPv4 ranges, the more specific first.
const V4: &[(u32, u8, AddressClass)] = &[
    (0xA9FE_A9FE, 32, AddressClass::Metadata), // 169.254.169.254
    (0x6464_64C8, 32, AddressClass::Metadata), // 100.100.100.200
    (0xA83F_8110, 32, AddressClass::Metadata), // 168.63.129.16
    (0x0000_0000, 8, AddressClass::Unspecified),
    (0x0A00_0000, 8, AddressClass::Private),
    (0x6440_0000, 10, AddressClass::Private),
    (0x7F00_0000, 8, AddressClass::Loopback),
    (0xA9FE_0000, 16, AddressClass::LinkLocal),
    (0xAC10_0000, 12, AddressClass::Private),
    (0xC000_0000, 24, AddressClass::Reserved),
    (0xC000_0200, 24, AddressClass::Reserved),
    (0xC058_6300, 24, AddressClass::Reserved),
    (0xC0A8_0000, 16, AddressClass::Private),
    (0xC612_0000, 15, AddressClass::Reserved),
    (0xC633_6400, 24, AddressClass::Reserved),
    (0xCB00_7100, 24, AddressClass::Reserved),
    (0xE000_0000, 4, AddressClass::Multicast),
    (0xFFFF_FFFF, 32, AddressClass::Multicast),
    (0xF000_0000, 4, AddressClass::Reserved),
];

/// IPv6 ranges that carry no IPv4 address, the more specific first.
const V6: &[(u128, u8, AddressClass)] = &[
    (0, 128, AddressClass::Unspecified),
    (1, 128, AddressClass::Loopback),
    (0xfd00_0ec2 << 96 | 0x254, 128, AddressClass::Metadata),
    (0, 96, AddressClass::Reserved), // IPv4-compatible (deprecated)
    (0x0064_ff9b_0001 << 80, 48, AddressClass::Private),
    (0x0100 << 112, 64, AddressClass::Reserved),
    (0x2001_0db8 << 96, 32, AddressClass::Reserved),
    (0x2001_0000 << 96, 32, AddressClass::Reserved), // Teredo
    (0xfc00 << 112, 7, AddressClass::Private),
    (0xfe80 << 112, 10, AddressClass::LinkLocal),
    (0xfec0 << 112, 10, AddressClass::Private),
    (0xff00 << 112, 8, AddressClass::Multicast),
];

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let bits = u32::from(ip);
    V4.iter()
        .find(|(net, prefix, _)| {
            bits >> (32 - u32::from(*prefix)) == net >> (32 - u32::from(*prefix))
        })
        .map_or(AddressClass::Public, |(_, _, class)| *class)
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let bits = u128::from(ip);
    // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d carry the address in the low bits.
    if bits >> 32 == 0xffff || bits >> 32 == 0x0064_ff9b << 64 {
        return classify_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4 2002:AABB:CCDD::/48 carries it in bits 16..48.
    if bits >> 112 == 0x2002 {
        return classify_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    V6.iter()
        .find(|(net, prefix, _)| {
            bits >> (128 - u32::from(*prefix)) == net >> (128 - u32::from(*prefix))
        })
        .map_or(AddressClass::Public, |(_, _, class)| *class)
}

/// Why a callback URL or address is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// Not `https` (nor `http` when plain HTTP is allowed).
    Scheme,
    /// The URL has no host.
    NoHost,
    /// The address is of a class the policy refuses.
    Address(IpAddr, AddressClass),
    /// The name resolved to no address at all.
    NoAddress,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scheme => f.write_str("callback URLs must be https"),
            Self::NoHost => f.write_str("the callback URL has no host"),
            Self::Address(ip, class) => write!(f, "{ip} is a {class:?} address"),
            Self::NoAddress => f.write_str("the callback host resolved to no address"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Which callbacks may be called. The default refuses plain HTTP and every non-public address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Allow loopback, private and link-local addresses (tests and closed networks). Metadata,
    /// unspecified, multicast and reserved addresses stay refused.
    pub allow_private: bool,
    /// Allow `http://` callbacks (signatures protect integrity, not confidentiality).
    pub allow_http: bool,
}

impl AddressPolicy {
    /// A policy for tests and closed networks: loopback and private addresses, plain HTTP.
    #[must_use]
    pub fn allow_private() -> Self {
        Self {
            allow_private: true,
            allow_http: true,
        }
    }

    /// Checks a URL at registration: the scheme, the host, and the address when the host is an
    /// IP literal. A name is checked again on its resolved addresses at each connect.
    ///
    /// # Errors
    /// The [`Refusal`].
    pub fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(Refusal::Scheme),
        }
        match url.host() {
            None => Err(Refusal::NoHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            Some(Host::Domain("")) => Err(Refusal::NoHost),
            Some(Host::Domain(_)) => Ok(()),
        }
    }

    /// Checks one address.
    ///
    /// # Errors
    /// [`Refusal::Address`] with the address's class.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        match AddressClass::of(ip) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback | AddressClass::Private | AddressClass::LinkLocal
                if self.allow_private =>
            {
                Ok(())
            }
            class => Err(Refusal::Address(ip, class)),
        }
    }

    /// The resolved addresses a connection may use, in order; the first refusal when none is
    /// allowed. A name resolving to both public and internal addresses keeps only the public
    /// ones.
    ///
    /// # Errors
    /// [`Refusal::NoAddress`] for an empty list, else the first address's refusal.
    pub fn filter(
        &self,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let mut allowed = Vec::new();
        let mut first_refusal = None;
        for addr in addrs {
            match self.check_ip(addr.ip()) {
                Ok(()) => allowed.push(addr),
                Err(refusal) => {
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        if allowed.is_empty() {
            return Err(first_refusal.unwrap_or(Refusal::NoAddress));
        }
        Ok(allowed)
    }
}
