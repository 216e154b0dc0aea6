//! Entry points for the fuzz targets and their stable seed replay. Not part of the API.

use http::Request;
use http::uri::Scheme;

use crate::link::preload_link_header;
use crate::policy::{Ledger, PageBudget};
use crate::{CacheDigest, PushConfig, PushContext, PushRequest};

/// `Link` parsing and the push policy: the first byte picks the limits, the rest is one `Link`
/// header value. Every candidate becomes a push request and goes through the ledger; the limits
/// and the request invariants must hold.
pub fn link_policy(data: &[u8]) {
    let (knobs, value) = data.split_first().map_or((0, data), |(k, rest)| (*k, rest));
    let config = PushConfig::new(Scheme::HTTPS)
        .with_max_per_page(usize::from(knobs & 7))
        .with_max_concurrent(usize::from((knobs >> 3) & 3) + 1)
        .with_max_bytes_per_page(u64::from(knobs) * 64)
        .with_diary_capacity(usize::from(knobs >> 5) * 4);
    let parent = Request::get("https://example.com/dir/page.html")
        .body(())
        .unwrap_or_default();
    let context = PushContext::new(&config, &parent);
    let mut links = Vec::new();
    preload_link_header(value, &mut links);
    assert!(links.len() <= crate::MAX_LINKS);
    let mut ledger = Ledger::new(&config);
    let mut page = PageBudget::default();
    let mut digest = CacheDigest::new(8);
    for (i, link) in links.iter().enumerate() {
        let Ok(request) = PushRequest::get(&context, link.target()) else {
            continue;
        };
        let uri = request.uri();
        assert_eq!(uri.scheme(), Some(&Scheme::HTTPS));
        // Canonical: lower case, no userinfo, no default (443) port; any other port is foreign.
        assert_eq!(
            uri.authority().map(http::uri::Authority::as_str),
            Some("example.com")
        );
        assert!(uri.path().starts_with('/'));
        let _ = request.to_http();
        let etag = link.as_type();
        let path = request.path_and_query();
        if ledger
            .reserve(
                &config,
                &mut page,
                Some(&digest),
                path,
                etag,
                Some(i as u64 * 10),
            )
            .is_ok()
        {
            assert!(config.diary_capacity == 0 || ledger.diary.contains(path, etag));
            digest.insert(path, etag);
            if i % 3 == 0 {
                ledger.finished();
            }
        }
        assert!(page.pushes <= config.max_per_page);
        assert!(ledger.stats.in_flight <= ledger.concurrency(&config));
    }
}

/// Cache digest decoding: whatever decodes re-encodes to a text that decodes to the same digest;
/// the bytes as paths round-trip too.
pub fn cookie_digest(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(digest) = CacheDigest::decode(&text) {
        let again = CacheDigest::decode(&digest.encode()).expect("an encoded digest decodes");
        assert_eq!(again, digest);
    }
    let mut digest = CacheDigest::new(data.first().copied().unwrap_or(20));
    for path in data.split(|&b| b == b'\n').take(512) {
        let path = String::from_utf8_lossy(path);
        digest.insert(&path, None);
    }
    let back = CacheDigest::decode(&digest.encode()).expect("an encoded digest decodes");
    assert_eq!(back, digest);
    for path in data.split(|&b| b == b'\n').take(512) {
        assert!(back.contains(&String::from_utf8_lossy(path), None));
    }
}
