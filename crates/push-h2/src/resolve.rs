//! Resolving a push target against its parent: one pass over the target's bytes, and no copy
//! beyond the one the URI keeps for the common case (an absolute path without dot segments).

use std::borrow::Cow;

use http::uri::{self, Authority, PathAndQuery, Scheme, Uri};

use crate::config::is_authoritative;
use crate::{Error, MAX_TARGET_LEN, PushContext};

/// What one scan of a target finds: where the fragment starts, the scheme's colon (a `:` before
/// any `/` or `?`) and the first `?`.
struct Scan {
    end: usize,
    colon: Option<usize>,
}

fn scan(target: &str) -> Result<Scan, Error> {
    let bytes = target.as_bytes();
    let mut end = bytes.len();
    let mut colon = None;
    let mut separator = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' => {
                end = i;
                break;
            }
            0..=b' ' | 0x7f => return Err(Error::InvalidTarget),
            b'/' | b'?' => separator = true,
            b':' if !separator && colon.is_none() => colon = Some(i),
            _ => {}
        }
    }
    if end == 0 || end > MAX_TARGET_LEN {
        return Err(Error::InvalidTarget);
    }
    Ok(Scan { end, colon })
}

pub(crate) fn resolve(context: &PushContext, target: &str) -> Result<Uri, Error> {
    let Scan { end, colon } = scan(target)?;
    let target = &target[..end];
    let (authority, rest) = if let Some(colon) = colon {
        let scheme = &target[..colon];
        if !scheme.eq_ignore_ascii_case(context.scheme.as_str()) {
            let valid = scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
            return Err(if valid && !scheme.is_empty() {
                Error::SchemeMismatch
            } else {
                Error::InvalidTarget
            });
        }
        let rest = target[colon + 1..]
            .strip_prefix("//")
            .ok_or(Error::InvalidTarget)?;
        split_authority(rest, &context.scheme)?
    } else if let Some(rest) = target.strip_prefix("//") {
        split_authority(rest, &context.scheme)?
    } else {
        let authority = context
            .parent_authority
            .clone()
            .ok_or(Error::MissingAuthority)?;
        // The parent's own authority needs no comparison unless a list is configured.
        if let Some(list) = &context.authorities
            && !is_authoritative(list, &authority, Some(&authority))
        {
            return Err(Error::ForeignAuthority(authority.as_str().into()));
        }
        (authority, target)
    };
    if colon.is_some() || target.starts_with("//") {
        let list = context.authorities.as_deref().unwrap_or(&[]);
        if !is_authoritative(list, &authority, context.parent_authority.as_ref()) {
            return Err(Error::ForeignAuthority(authority.as_str().into()));
        }
    }
    let (path, query) = match rest.bytes().position(|b| b == b'?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    let path_and_query = if path.starts_with('/') && !has_dot_segment(path) {
        // Already normalised: the path and query as given.
        PathAndQuery::try_from(rest)
    } else {
        let joined;
        let path = if path.starts_with('/') || (path.is_empty() && colon.is_some()) {
            path
        } else {
            let parent = context.parent_path();
            let dir = &parent[..parent.rfind('/').map_or(0, |i| i + 1)];
            joined = format!("{}{path}", if dir.is_empty() { "/" } else { dir });
            &joined
        };
        let mut path = remove_dot_segments(path).into_owned();
        if let Some(query) = query {
            path.push('?');
            path.push_str(query);
        }
        PathAndQuery::try_from(path)
    }
    .map_err(|_| Error::InvalidTarget)?;
    let mut parts = uri::Parts::default();
    parts.scheme = Some(context.scheme.clone());
    parts.authority = Some(authority);
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).map_err(|_| Error::InvalidTarget)
}

fn split_authority<'a>(rest: &'a str, scheme: &Scheme) -> Result<(Authority, &'a str), Error> {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = Authority::try_from(&rest[..end]).map_err(|_| Error::InvalidTarget)?;
    let authority = canonical_authority(authority, scheme).ok_or(Error::InvalidTarget)?;
    Ok((authority, &rest[end..]))
}

/// The canonical form of an authority (RFC 3986 §6.2.2.1, §6.2.3), or `None` for one that
/// carries userinfo (`user@host`: never pushed, never compared), has no valid host (see
/// `valid_host`), or has a port that is not a number up to 65535. The host is in
/// lower case (a host is case-insensitive, so `Example.com` and `example.com` are one resource,
/// one cache key, one diary entry); a port that is empty or `scheme`'s default (80 for `http`,
/// 443 for `https`) is dropped, so `example.com:80` and `example.com` are one too; a port with
/// leading zeros loses them. Already-canonical authorities are returned as they are, without a
/// copy.
pub(crate) fn canonical_authority(authority: Authority, scheme: &Scheme) -> Option<Authority> {
    let text = authority.as_str();
    if text.contains('@') || authority.host().is_empty() {
        return None;
    }
    let default_port = if scheme.as_str().eq_ignore_ascii_case("http") {
        Some(80)
    } else if scheme.as_str().eq_ignore_ascii_case("https") {
        Some(443)
    } else {
        None
    };
    // The port's colon is the last one outside an IPv6 literal's brackets.
    let host_end = match text.rfind(':') {
        Some(i) if !text[i..].contains(']') => i,
        _ => text.len(),
    };
    let port_text = text.get(host_end + 1..).unwrap_or("");
    let port = match authority.port_u16() {
        Some(port) if Some(port) == default_port => None,
        Some(port) => Some(port.to_string()),
        // An empty port, or none.
        None if port_text.is_empty() => None,
        // A port that is no number (`example.com:6om`, which `Authority` accepts) or over
        // 65535 names no server: it would compare as no port at all.
        None => return None,
    };
    let host = &text[..host_end];
    if !valid_host(host) {
        return None;
    }
    // The port as given (`Some("")` for an empty one) and as it is to be.
    let given_port = (host_end < text.len()).then_some(port_text);
    let same_port = port.as_deref() == given_port;
    if same_port && !host.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some(authority);
    }
    let mut canonical = host.to_ascii_lowercase();
    if let Some(port) = port {
        canonical.push(':');
        canonical.push_str(&port);
    }
    // Lower-casing ASCII letters and dropping or shortening a port keep an authority valid.
    Some(Authority::try_from(canonical).unwrap_or(authority))
}

/// Whether `host` is an IP literal in brackets or a name of unreserved characters and
/// `%`-escapes (RFC 3986 §3.2.2). `Authority` is laxer: it takes `a:80&[::1]:443` as an
/// authority whose host is `a` and port 443, which must not pass for `a` (the `h2_link`
/// fuzzer's find).
fn valid_host(host: &str) -> bool {
    if let Some(literal) = host.strip_prefix('[') {
        return literal.strip_suffix(']').is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        });
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
}

/// Whether `remove_dot_segments` could change `path` (conservatively: any segment that starts
/// with a dot).
fn has_dot_segment(path: &str) -> bool {
    path.as_bytes().windows(2).any(|w| w == b"/.")
}

/// RFC 3986 §5.2.4, on a path that starts with `/` (or is empty).
pub(crate) fn remove_dot_segments(path: &str) -> Cow<'_, str> {
    if !path.is_empty() && !has_dot_segment(path) {
        return Cow::Borrowed(path);
    }
    let mut out: Vec<&str> = Vec::new();
    let mut segments = path.split('/').skip(1).peekable();
    let mut trailing = false;
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match segment {
            "." => trailing = last,
            ".." => {
                out.pop();
                trailing = last;
            }
            s => {
                out.push(s);
                trailing = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len() + 1);
    for segment in &out {
        result.push('/');
        result.push_str(segment);
    }
    if trailing || result.is_empty() {
        result.push('/');
    }
    Cow::Owned(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PushConfig, PushRequest};
    use http::Request;

    #[test]
    fn dot_segments() {
        for (path, expected) in [
            ("", "/"),
            ("/", "/"),
            ("/a//b/", "/a//b/"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/.hidden", "/.hidden"),
            ("/../../x", "/x"),
        ] {
            assert_eq!(remove_dot_segments(path), expected, "{path}");
        }
    }

    #[test]
    fn authorities_are_canonical() {
        let canonical = |given: &str, scheme: &Scheme| {
            canonical_authority(given.parse().unwrap(), scheme).map(|a| a.as_str().to_owned())
        };
        let custom: Scheme = "ws".parse().unwrap();
        for (given, scheme, expected) in [
            ("Example.COM", &Scheme::HTTP, "example.com"),
            ("EXAMPLE.com:8443", &Scheme::HTTPS, "example.com:8443"),
            ("example.com:", &Scheme::HTTP, "example.com"),
            ("example.com:80", &Scheme::HTTP, "example.com"),
            ("Example.com:443", &Scheme::HTTPS, "example.com"),
            ("example.com:0080", &Scheme::HTTP, "example.com"),
            ("example.com:0081", &Scheme::HTTP, "example.com:81"),
            ("example.com:443", &Scheme::HTTP, "example.com:443"),
            ("example.com:80", &Scheme::HTTPS, "example.com:80"),
            ("example.com:80", &custom, "example.com:80"),
            ("[::1]:80", &Scheme::HTTP, "[::1]"),
            ("[::1]:8080", &Scheme::HTTP, "[::1]:8080"),
            ("[FE80::1]", &Scheme::HTTPS, "[fe80::1]"),
            ("[::1]:", &Scheme::HTTPS, "[::1]"),
            ("example.com", &Scheme::HTTP, "example.com"),
        ] {
            assert_eq!(
                canonical(given, scheme).as_deref(),
                Some(expected),
                "{given}"
            );
        }
        for refused in [
            "u@example.com",
            "U:P@Example.com:80",
            "@example.com",
            ":80",
            "example.com:6om",
            "example.com:65536",
            "example.com:80&&[::1]:443",
            "example.com[::1]",
            "[::1]x:80",
            "a&b.example",
            "[]",
        ] {
            assert_eq!(canonical(refused, &Scheme::HTTP), None, "{refused}");
        }
    }

    #[test]
    fn scan_finds_fragment_and_scheme() {
        let s = scan("http://a/b?c#d:e").unwrap();
        assert_eq!((s.end, s.colon), (12, Some(4)));
        let s = scan("/a:b").unwrap();
        assert_eq!((s.end, s.colon), (4, None));
        assert!(scan("#x").is_err());
        assert!(scan("/a\x7f").is_err());
        assert!(scan("/ok#not checked").is_ok());
    }

    #[test]
    fn a_parent_with_userinfo_has_no_authority_to_push_for() {
        let config = PushConfig::new(Scheme::HTTP);
        for parent in [
            Request::get("http://user@example.com/page")
                .body(())
                .unwrap(),
            Request::get("/page")
                .header("host", "User:Pw@example.com")
                .body(())
                .unwrap(),
        ] {
            let cx = PushContext::new(&config, &parent);
            assert_eq!(cx.parent_authority(), None);
            assert!(matches!(
                PushRequest::get(&cx, "/style.css"),
                Err(Error::MissingAuthority)
            ));
            // Not even for an absolute target: the parent names no authority to compare with.
            assert!(matches!(
                PushRequest::get(&cx, "http://example.com/style.css"),
                Err(Error::ForeignAuthority(_))
            ));
        }
    }

    #[test]
    fn configured_authorities_are_canonical() {
        let config = PushConfig::new(Scheme::HTTPS).with_authorities([
            "Example.com:443".parse().unwrap(),
            "u@cdn.example".parse().unwrap(),
        ]);
        let parent = Request::get("https://example.com/page").body(()).unwrap();
        let cx = PushContext::new(&config, &parent);
        assert!(PushRequest::get(&cx, "/a.css").is_ok());
        assert!(matches!(
            PushRequest::get(&cx, "https://cdn.example/a.css"),
            Err(Error::ForeignAuthority(_))
        ));
    }
}
