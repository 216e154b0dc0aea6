//! The hand-written parsers `push-http::grammar` replaces, frozen as they were (push-h2's
//! `link.rs`, push-longpoll's `prefer_wait`), so the bench keeps measuring against them after
//! the crates switch.

// Accessors kept as they were, though the bench reads only some of them.
#![allow(dead_code)]

pub(crate) mod link {
    /// The most links kept from one response (over all its `Link` headers).
    pub(crate) const MAX_LINKS: usize = 64;

    /// One parsed link-value.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Link {
        target: String,
        preload: bool,
        nopush: bool,
        as_type: Option<String>,
    }

    impl Link {
        /// The URI reference between `<` and `>`.
        pub(crate) fn target(&self) -> &str {
            &self.target
        }

        /// `rel` names `preload` (possibly among other relation types).
        pub(crate) fn is_preload(&self) -> bool {
            self.preload
        }

        /// The `nopush` attribute: hint, but do not push.
        pub(crate) fn is_nopush(&self) -> bool {
            self.nopush
        }

        /// The `as` attribute (`style`, `script`, `fetch`, …), lowercased.
        pub(crate) fn as_type(&self) -> Option<&str> {
            self.as_type.as_deref()
        }

        /// A preload the server should push: `rel=preload` without `nopush`.
        pub(crate) fn is_push_candidate(&self) -> bool {
            self.preload && !self.nopush
        }
    }

    /// Parses one `Link` header value, appending to `out` until it holds [`MAX_LINKS`] links.
    pub(crate) fn parse_link_header(value: &[u8], out: &mut Vec<Link>) {
        let mut p = Parser { s: value, i: 0 };
        while out.len() < MAX_LINKS {
            p.skip_while(|b| b == b',' || is_ows(b));
            if p.i >= p.s.len() {
                break;
            }
            match p.link_value() {
                Some(link) => out.push(link),
                None => p.skip_to_comma(),
            }
        }
    }

    struct Parser<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl<'a> Parser<'a> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }

        fn skip_while(&mut self, f: impl Fn(u8) -> bool) {
            while self.peek().is_some_and(&f) {
                self.i += 1;
            }
        }

        /// Skips the rest of a malformed link-value: up to a comma outside `<…>` and quotes.
        fn skip_to_comma(&mut self) {
            let (mut quoted, mut bracket) = (false, false);
            while let Some(b) = self.peek() {
                self.i += 1;
                match b {
                    b'\\' if quoted => self.i += 1,
                    b'"' if !bracket => quoted = !quoted,
                    b'<' if !quoted => bracket = true,
                    b'>' if !quoted => bracket = false,
                    b',' if !quoted && !bracket => return,
                    _ => {}
                }
            }
        }

        fn link_value(&mut self) -> Option<Link> {
            if self.peek() != Some(b'<') {
                return None;
            }
            self.i += 1;
            let start = self.i;
            let len = self.s[start..].iter().position(|&b| b == b'>')?;
            let raw = &self.s[start..start + len];
            self.i = start + len + 1;
            if raw.iter().any(|&b| b <= b' ' || b >= 0x7f) {
                return None;
            }
            let target = core::str::from_utf8(raw).ok()?.to_owned();
            let mut link = Link {
                target,
                preload: false,
                nopush: false,
                as_type: None,
            };
            let (mut seen_rel, mut seen_as) = (false, false);
            loop {
                self.skip_while(is_ows);
                match self.peek() {
                    None | Some(b',') => return Some(link),
                    Some(b';') => self.i += 1,
                    Some(_) => return None,
                }
                self.skip_while(is_ows);
                let name = self.token()?;
                self.skip_while(is_ows);
                let value = if self.peek() == Some(b'=') {
                    self.i += 1;
                    self.skip_while(is_ows);
                    Some(if self.peek() == Some(b'"') {
                        self.quoted()?
                    } else {
                        self.token()?.to_vec()
                    })
                } else {
                    None
                };
                if name.eq_ignore_ascii_case(b"rel") && !seen_rel {
                    seen_rel = true;
                    let value = value.unwrap_or_default();
                    link.preload = value
                        .split(|b| b.is_ascii_whitespace())
                        .any(|t| t.eq_ignore_ascii_case(b"preload"));
                } else if name.eq_ignore_ascii_case(b"as") && !seen_as {
                    seen_as = true;
                    link.as_type = value
                        .and_then(|v| String::from_utf8(v).ok())
                        .map(|v| v.to_ascii_lowercase());
                } else if name.eq_ignore_ascii_case(b"nopush") {
                    link.nopush = true;
                }
            }
        }

        /// A non-empty RFC 9110 token.
        fn token(&mut self) -> Option<&'a [u8]> {
            let (s, start) = (self.s, self.i);
            self.skip_while(is_tchar);
            (self.i > start).then(|| &s[start..self.i])
        }

        /// A quoted-string, unescaped; `None` if unterminated.
        fn quoted(&mut self) -> Option<Vec<u8>> {
            self.i += 1;
            let mut out = Vec::new();
            loop {
                let b = self.peek()?;
                self.i += 1;
                match b {
                    b'"' => return Some(out),
                    b'\\' => {
                        out.push(self.peek()?);
                        self.i += 1;
                    }
                    _ => out.push(b),
                }
            }
        }
    }

    fn is_ows(b: u8) -> bool {
        b == b' ' || b == b'\t'
    }

    fn is_tchar(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
    }
}

pub(crate) mod prefer {
    use core::time::Duration;

    /// The first `wait` preference of the `Prefer` header values. RFC 7240 §2: a preference the
    /// server cannot parse is ignored (no error), and only the first instance of a preference is
    /// considered, so a malformed first `wait` means no preference at all.
    pub(crate) fn prefer_wait(values: &[&[u8]]) -> Option<Duration> {
        for value in values {
            for preference in split_unquoted(value, b',') {
                let head = split_unquoted(preference, b';').next().unwrap_or_default();
                let (name, word) = match head.iter().position(|&b| b == b'=') {
                    Some(i) => (trim(&head[..i]), Some(trim(&head[i + 1..]))),
                    None => (trim(head), None),
                };
                if !name.eq_ignore_ascii_case(b"wait") {
                    continue;
                }
                let word = match word? {
                    [b'"', inner @ .., b'"'] => inner,
                    other => other,
                };
                return parse_seconds(word);
            }
        }
        None
    }

    /// Splits on `sep` outside double-quoted strings (a backslash escapes inside them).
    fn split_unquoted(input: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
        let mut rest = Some(input);
        core::iter::from_fn(move || {
            let s = rest?;
            let (mut quoted, mut escaped) = (false, false);
            for (i, &b) in s.iter().enumerate() {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' if quoted => escaped = true,
                    b'"' => quoted = !quoted,
                    _ if b == sep && !quoted => {
                        rest = Some(&s[i + 1..]);
                        return Some(&s[..i]);
                    }
                    _ => {}
                }
            }
            rest = None;
            Some(s)
        })
    }

    fn trim(s: &[u8]) -> &[u8] {
        s.trim_ascii()
    }

    pub(crate) fn parse_seconds(text: &[u8]) -> Option<Duration> {
        if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let secs = text.iter().fold(0u64, |acc, &d| {
            acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        });
        Some(Duration::from_secs(secs))
    }
}
