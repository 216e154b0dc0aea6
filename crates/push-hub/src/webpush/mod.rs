//! Web Push in the hub: a browser's push subscription is a registration whose [`Target`] is
//! [`Target::WebPush`], on the callbacks' registry, fan-out and delivery engine — so a Web Push
//! message gets the same durable queue, schedule and restart recovery as a webhook, through
//! push-webpush's [`WebPushKind`].
//!
//! ```text
//!  GET  /.well-known/push/vapid      ─► {"publicKey": "<base64url>"} (the applicationServerKey)
//!  POST /.well-known/push/webpush    {"subscription": PushSubscription, "topics": [...]}
//!        ─► authorized like any subscription ─► Registry (Target::WebPush)
//!  publish ─► fan-out ─► Registration::pending: event_payload(type, cursor, data) — the whole
//!        event, or its type and cursor only when the encrypted record would pass 4 KiB
//!        ─► Engine ─► WebPushKind: encrypt, VAPID, POST to the push service
//!  404/410 from the push service ─► the registration is removed
//! ```
//!
//! Each message carries `TTL` (`--webpush-ttl`, four weeks by default), `Urgency` when
//! `--webpush-urgency` is given, and `Topic` (a 32-character digest) when the publisher sent
//! `push_replace` (the digest of its key, kept with the event in the journal) or else when the
//! subscription asked `"replace": true` (the digest of the event's canonical topic). The
//! publisher's key wins: it knows which events supersede which; the subscriber's option is the
//! fallback for publishers that say nothing.
//!
//! The VAPID key: `--vapid-key`, else a development key made once and kept in `--data-dir`
//! (`vapid.pem`), or in memory with `--in-memory`; the start-up banner says so. A browser's
//! subscription is bound to the key it was made with.

mod routes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use push_webhook::sender::Deliver;
use push_webpush::client::{Config, Sender};
use push_webpush::engine::WebPushKind;
use push_webpush::{EndpointPolicy, Vapid, VapidKey};

pub(crate) use routes::answer;
pub use routes::{VAPID_PATH, WEBPUSH_PATH, is_webpush_path};

use crate::args::Args;
use crate::callbacks::{Registry, Target};

/// The file the development key is kept in, under `--data-dir`.
pub const VAPID_FILE: &str = "vapid.pem";

/// Why Web Push could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebPushError {
    /// `--vapid-key` could not be read.
    #[error("reading --vapid-key")]
    Read(#[source] std::io::Error),
    /// The development key file could not be read or written.
    #[error("the development VAPID key {}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key or the subject is not valid.
    #[error("the VAPID key or --vapid-subject")]
    Key(#[source] push_webpush::Error),
}

/// Web Push's part of the hub (see the module docs).
#[derive(Debug)]
pub struct WebPush {
    public_key: String,
    policy: EndpointPolicy,
    kind: WebPushKind,
    development: Option<String>,
    delivery: push_webpush::Delivery,
}

impl WebPush {
    /// Loads or makes the VAPID key `args` say, and the kind of delivery sending to the
    /// subscriptions `registry` holds.
    ///
    /// # Errors
    /// [`WebPushError`] for a key that cannot be read, parsed or kept.
    pub fn open(args: &Args, registry: Arc<Registry>) -> Result<Self, WebPushError> {
        let flags = &args.webpush;
        let (key, development) = match &flags.vapid_key {
            Some(text) => {
                let text = crate::args::key_text(text).map_err(WebPushError::Read)?;
                (parse_key(&text)?, None)
            }
            None if args.in_memory => (
                VapidKey::generate().map_err(WebPushError::Key)?,
                Some("made in memory: a restart makes a new one and every push subscription stops working".to_owned()),
            ),
            None => {
                let path = args.data_dir.join(VAPID_FILE);
                let key = development_key(&path)?;
                (key, Some(format!("kept in {}: keep that file, subscriptions are bound to it", path.display())))
            }
        };
        let public_key = key.public_key().to_owned();
        let vapid = Vapid::new(key, flags.vapid_subject.clone()).map_err(WebPushError::Key)?;
        let policy = EndpointPolicy::default().with_loopback(flags.webpush_allow_loopback);
        let web_push = push_webpush::WebPush::new(vapid).with_policy(policy.clone());
        let sender = Sender::new(web_push, Config::default()).map_err(WebPushError::Key)?;
        let subscriptions = Arc::new(move |id: &str| {
            let registration = registry.get(id)?;
            match &registration.target {
                Target::WebPush(target) if registration.disabled.is_none() => {
                    Some(target.subscription.clone())
                }
                _ => None,
            }
        });
        let kind = WebPushKind::new(Arc::new(sender), subscriptions);
        if let Some(development) = &development {
            tracing::warn!(
                public_key,
                "Web Push: no --vapid-key; a development key was {development}"
            );
        }
        let mut delivery = push_webpush::Delivery::default().with_ttl(flags.webpush_ttl);
        if let Some(urgency) = flags.webpush_urgency {
            delivery = delivery.with_urgency(urgency);
        }
        Ok(Self {
            public_key,
            policy,
            kind,
            development,
            delivery,
        })
    }

    /// The VAPID public key (base64url): a page's `applicationServerKey`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The endpoints subscriptions may name.
    pub fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }

    /// The kind of delivery, for the engine.
    pub fn kind(&self) -> Arc<dyn Deliver> {
        Arc::new(self.kind.clone())
    }

    /// Every message's options before its topic: `--webpush-ttl` and `--webpush-urgency`.
    pub fn delivery(&self) -> &push_webpush::Delivery {
        &self.delivery
    }

    /// Where the development key is, when the hub made one (for the banner).
    pub fn development(&self) -> Option<&str> {
        self.development.as_deref()
    }
}

/// A PEM document or a base64url raw key.
fn parse_key(text: &str) -> Result<VapidKey, WebPushError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        VapidKey::from_pem(text)
    } else {
        VapidKey::from_base64url(text)
    }
    .map_err(WebPushError::Key)
}

/// The key in `path`, or a new one written there (readable by the owner only).
fn development_key(path: &Path) -> Result<VapidKey, WebPushError> {
    let file_error = |source| WebPushError::File {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return parse_key(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(e)),
    }
    let key = VapidKey::generate().map_err(WebPushError::Key)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(file_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(file_error)?;
    std::io::Write::write_all(&mut file, key.to_pem().as_bytes()).map_err(file_error)?;
    file.sync_all().map_err(file_error)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_key_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("push-hub-vapid-{}", std::process::id()));
        let path = dir.join(VAPID_FILE);
        let _ = std::fs::remove_file(&path);
        let made = development_key(&path).unwrap();
        let again = development_key(&path).unwrap();
        assert_eq!(made.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keys_read_as_pem_or_base64url() {
        let key = VapidKey::generate().unwrap();
        let pem = parse_key(&key.to_pem()).unwrap();
        let raw = parse_key(&format!("{}\n", key.private_key_base64url())).unwrap();
        assert_eq!(pem.public_key(), key.public_key());
        assert_eq!(raw.public_key(), key.public_key());
        assert!(parse_key("not a key").is_err());
    }
}
