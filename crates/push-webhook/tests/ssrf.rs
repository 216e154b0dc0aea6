//! The SSRF address policy: metadata, private, link-local and loopback addresses, the IPv6
//! forms that carry an IPv4 address, and names that resolve to them (a stub list of addresses,
//! never a packet sent).

use std::net::{IpAddr, SocketAddr};

use push_webhook::{AddressClass, AddressPolicy, Refusal};
use url::Url;

fn class(ip: &str) -> AddressClass {
    AddressClass::of(ip.parse::<IpAddr>().unwrap())
}

#[test]
fn addresses_are_classed() {
    for (ip, expected) in [
        ("93.184.215.14", AddressClass::Public),
        ("2606:4700::1111", AddressClass::Public),
        ("127.0.0.1", AddressClass::Loopback),
        ("127.255.0.9", AddressClass::Loopback),
        ("::1", AddressClass::Loopback),
        ("10.1.2.3", AddressClass::Private),
        ("172.16.0.1", AddressClass::Private),
        ("172.31.255.255", AddressClass::Private),
        ("172.32.0.1", AddressClass::Public),
        ("192.168.1.1", AddressClass::Private),
        ("100.64.0.1", AddressClass::Private),
        ("fd12::1", AddressClass::Private),
        ("169.254.1.1", AddressClass::LinkLocal),
        ("fe80::1", AddressClass::LinkLocal),
        ("169.254.169.254", AddressClass::Metadata),
        ("fd00:ec2::254", AddressClass::Metadata),
        ("100.100.100.200", AddressClass::Metadata),
        ("168.63.129.16", AddressClass::Metadata),
        ("0.0.0.0", AddressClass::Unspecified),
        ("::", AddressClass::Unspecified),
        ("224.0.0.1", AddressClass::Multicast),
        ("255.255.255.255", AddressClass::Multicast),
        ("ff02::1", AddressClass::Multicast),
        ("192.0.2.1", AddressClass::Reserved),
        ("2001:db8::1", AddressClass::Reserved),
        ("240.0.0.1", AddressClass::Reserved),
        // IPv6 forms carrying an IPv4 address are classed by it.
        ("::ffff:127.0.0.1", AddressClass::Loopback),
        ("::ffff:169.254.169.254", AddressClass::Metadata),
        ("::ffff:8.8.8.8", AddressClass::Public),
        ("64:ff9b::a9fe:a9fe", AddressClass::Metadata),
        ("64:ff9b::808:808", AddressClass::Public),
        ("2002:a00:1::1", AddressClass::Private),
        ("2002:808:808::1", AddressClass::Public),
        ("::127.0.0.1", AddressClass::Reserved),
    ] {
        assert_eq!(class(ip), expected, "{ip}");
    }
}

#[test]
fn the_default_refuses_http_and_internal_literals() {
    let policy = AddressPolicy::default();
    let check = |u: &str| policy.check_url(&Url::parse(u).unwrap());
    assert_eq!(check("https://example.com/hook"), Ok(()));
    assert_eq!(check("https://93.184.215.14/hook"), Ok(()));
    assert_eq!(check("http://example.com/hook"), Err(Refusal::Scheme));
    assert_eq!(check("ftp://example.com/"), Err(Refusal::Scheme));
    for url in [
        "https://127.0.0.1/",
        "https://[::1]/",
        "https://10.0.0.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://0.0.0.0/",
        // Decimal and hex spellings are IPv4 literals to the URL parser.
        "https://2130706433/",
        "https://0x7f.0.0.1/",
    ] {
        assert!(
            matches!(check(url), Err(Refusal::Address(..))),
            "{url}: {:?}",
            check(url)
        );
    }
}

#[test]
fn allowing_private_keeps_metadata_and_unspecified_refused() {
    let policy = AddressPolicy::allow_private();
    let check = |u: &str| policy.check_url(&Url::parse(u).unwrap());
    assert_eq!(check("http://127.0.0.1:8080/"), Ok(()));
    assert_eq!(check("http://[::1]:8080/"), Ok(()));
    assert_eq!(check("http://192.168.0.5/"), Ok(()));
    assert!(matches!(
        check("http://169.254.169.254/"),
        Err(Refusal::Address(_, AddressClass::Metadata))
    ));
    assert!(matches!(
        check("http://0.0.0.0:8080/"),
        Err(Refusal::Address(_, AddressClass::Unspecified))
    ));
}

#[test]
fn names_are_judged_on_what_they_resolve_to() {
    let policy = AddressPolicy::default();
    let addrs = |list: &[&str]| -> Vec<SocketAddr> {
        list.iter()
            .map(|ip| SocketAddr::new(ip.parse().unwrap(), 443))
            .collect()
    };
    // A name resolving only to internal addresses is refused with the first one's class.
    let refused = policy.filter(addrs(&["169.254.169.254", "10.0.0.1"]));
    assert!(matches!(
        refused,
        Err(Refusal::Address(_, AddressClass::Metadata))
    ));
    // Mixed answers keep only the public addresses.
    let mixed = policy.filter(addrs(&["127.0.0.1", "93.184.215.14", "::1"]));
    assert_eq!(mixed, Ok(addrs(&["93.184.215.14"])));
    assert_eq!(policy.filter(Vec::new()), Err(Refusal::NoAddress));
    assert_eq!(
        AddressPolicy::allow_private().filter(addrs(&["127.0.0.1"])),
        Ok(addrs(&["127.0.0.1"]))
    );
}
