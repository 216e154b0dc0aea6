//! RFC 8030 §5: the request that hands a push message to a push service.
//!
//! ```text
//! POST <endpoint>
//! TTL: <seconds the push service keeps an undelivered message>
//! Urgency: very-low | low | normal | high          (optional, §5.3)
//! Topic: <≤ 32 base64url characters>               (optional, §5.4: replaces a pending message)
//! Content-Encoding: aes128gcm
//! Content-Type: application/octet-stream
//! Authorization: vapid t=…, k=…
//! <encrypted body>
//! ```

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, Request};

use crate::{Encoding, EndpointPolicy, Error, PushSubscription, Vapid, message};

/// RFC 8030 §5.3 `Urgency`: how much the user agent's battery may be spent on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Urgency {
    /// On power and Wi-Fi only.
    VeryLow,
    /// On power or Wi-Fi.
    Low,
    /// Not on low battery (the default when absent).
    Normal,
    /// Even on low battery.
    High,
}

impl Urgency {
    /// The header's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VeryLow => "very-low",
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
        }
    }
}

/// RFC 8030 §5.4 `Topic`: a newer message with the same topic replaces an undelivered one.
/// At most 32 characters of the base64url alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Topic(HeaderValue);

impl Topic {
    /// Checks `topic` against RFC 8030 §5.4.
    pub fn new(topic: &str) -> Result<Self, Error> {
        let valid = !topic.is_empty()
            && topic.len() <= 32
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(Error::Topic);
        }
        HeaderValue::from_str(topic)
            .map(Self)
            .map_err(|_| Error::Topic)
    }

    /// A topic standing for any `key` (an event's type, a publisher's replacement key): the
    /// first 32 characters of the base64url SHA-256 of the key, so equal keys replace each other
    /// and any text fits the header.
    pub fn digest(key: &str) -> Self {
        use sha2::Digest as _;
        let hash = sha2::Sha256::digest(key.as_bytes());
        let mut text = URL_SAFE_NO_PAD.encode(hash);
        text.truncate(32);
        // Invariant: 32 base64url characters are a valid topic.
        Self::new(&text).expect("a base64url digest is a topic")
    }

    /// The topic text.
    pub fn as_str(&self) -> &str {
        // Invariant: built from a checked base64url string.
        self.0.to_str().expect("base64url is ASCII")
    }
}

/// The delivery options of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    ttl: Duration,
    urgency: Option<Urgency>,
    topic: Option<Topic>,
}

impl Default for Delivery {
    /// A TTL of four weeks (what push services keep at most anyway), no urgency, no topic.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(28 * 24 * 60 * 60),
            urgency: None,
            topic: None,
        }
    }
}

impl Delivery {
    /// How long the push service keeps the message for an offline user agent (whole seconds;
    /// zero: deliver now or never).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
    /// The message's urgency.
    #[must_use]
    pub fn with_urgency(mut self, urgency: Urgency) -> Self {
        self.urgency = Some(urgency);
        self
    }
    /// The message's topic: it replaces a pending message with the same topic.
    #[must_use]
    pub fn with_topic(mut self, topic: Topic) -> Self {
        self.topic = Some(topic);
        self
    }
    /// The TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
    /// The urgency, if set.
    pub fn urgency(&self) -> Option<Urgency> {
        self.urgency
    }
    /// The topic, if set.
    pub fn topic(&self) -> Option<&Topic> {
        self.topic.as_ref()
    }
}

static TTL: HeaderName = HeaderName::from_static("ttl");
static URGENCY: HeaderName = HeaderName::from_static("urgency");
static TOPIC: HeaderName = HeaderName::from_static("topic");

/// Builds push requests: checks the endpoint, encrypts the payload for the subscription, signs
/// VAPID for the endpoint's origin. Pure: the caller sends the request and passes the time.
#[derive(Debug)]
pub struct WebPush {
    vapid: Vapid,
    policy: EndpointPolicy,
    encoding: Encoding,
}

impl WebPush {
    /// With the default [`EndpointPolicy`] and [`Encoding`].
    pub fn new(vapid: Vapid) -> Self {
        Self {
            vapid,
            policy: EndpointPolicy::default(),
            encoding: Encoding::default(),
        }
    }
    /// The endpoints this builder sends to.
    #[must_use]
    pub fn with_policy(mut self, policy: EndpointPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// The padding, record size and body limit.
    #[must_use]
    pub fn with_encoding(mut self, encoding: Encoding) -> Self {
        self.encoding = encoding;
        self
    }
    /// The VAPID signer.
    pub fn vapid(&self) -> &Vapid {
        &self.vapid
    }
    /// The endpoint policy.
    pub fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }
    /// The encoding.
    pub fn encoding(&self) -> &Encoding {
        &self.encoding
    }

    /// The request delivering `payload` to `subscription`: [`Error::Endpoint`] for an endpoint
    /// the policy refuses, [`Error::InvalidKey`] for bad keys, [`Error::TooLarge`] when the
    /// encrypted body exceeds the limit — all before anything is sent.
    pub fn request(
        &self,
        subscription: &PushSubscription,
        payload: &[u8],
        delivery: &Delivery,
        now: SystemTime,
    ) -> Result<Request<Bytes>, Error> {
        let url = self.policy.check(&subscription.endpoint)?;
        let recipient = subscription.recipient()?;
        let body = message::encrypt(&recipient, payload, &self.encoding)?;
        let audience = url.origin().ascii_serialization();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(url.as_str())
            .header(TTL.clone(), delivery.ttl.as_secs())
            .header(CONTENT_ENCODING, "aes128gcm")
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(AUTHORIZATION, self.vapid.authorization(&audience, now));
        if let Some(urgency) = delivery.urgency {
            request = request.header(URGENCY.clone(), urgency.as_str());
        }
        if let Some(topic) = &delivery.topic {
            request = request.header(TOPIC.clone(), topic.0.clone());
        }
        request
            .body(Bytes::from(body))
            .map_err(|e| Error::Endpoint(format!("not a request URI: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Receiver, SubscriptionKeys, VapidKey};

    fn subscription(receiver: &Receiver, endpoint: &str) -> PushSubscription {
        PushSubscription {
            endpoint: endpoint.into(),
            expiration_time: None,
            keys: SubscriptionKeys {
                p256dh: URL_SAFE_NO_PAD.encode(receiver.recipient().p256dh()),
                auth: URL_SAFE_NO_PAD.encode(receiver.recipient().auth()),
            },
        }
    }

    fn web_push() -> WebPush {
        let vapid = Vapid::new(VapidKey::generate().unwrap(), "mailto:ops@example.com").unwrap();
        WebPush::new(vapid)
    }

    #[test]
    fn the_request_carries_rfc_8030_headers_and_the_encrypted_payload() {
        let receiver = Receiver::generate().unwrap();
        let sub = subscription(&receiver, "https://fcm.googleapis.com/fcm/send/abc?x=1");
        let delivery = Delivery::default()
            .with_ttl(Duration::from_millis(60_900))
            .with_urgency(Urgency::High)
            .with_topic(Topic::new("news-1").unwrap());
        let request = web_push()
            .request(&sub, b"hi", &delivery, SystemTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "https://fcm.googleapis.com/fcm/send/abc?x=1");
        let h = request.headers();
        assert_eq!(h["ttl"], "60");
        assert_eq!(h["urgency"], "high");
        assert_eq!(h["topic"], "news-1");
        assert_eq!(h["content-encoding"], "aes128gcm");
        assert_eq!(h["content-type"], "application/octet-stream");
        assert!(h["authorization"].to_str().unwrap().starts_with("vapid t="));
        assert_eq!(receiver.decrypt(request.body()).unwrap(), b"hi");
    }

    #[test]
    fn refusals_come_before_encryption() {
        let receiver = Receiver::generate().unwrap();
        let push = web_push();
        let now = SystemTime::UNIX_EPOCH;
        let delivery = Delivery::default();
        let evil = subscription(&receiver, "https://169.254.169.254/latest");
        assert!(matches!(
            push.request(&evil, b"x", &delivery, now),
            Err(Error::Endpoint(_))
        ));
        let good = subscription(&receiver, "https://fcm.googleapis.com/x");
        let big = vec![0; 4000];
        assert!(matches!(
            push.request(&good, &big, &delivery, now),
            Err(Error::TooLarge { .. })
        ));
        let mut bad_keys = good.clone();
        bad_keys.keys.auth = "AAAA".into();
        assert!(matches!(
            push.request(&bad_keys, b"x", &delivery, now),
            Err(Error::InvalidKey { .. })
        ));
    }

    #[test]
    fn topics_follow_rfc_8030() {
        assert!(Topic::new(&"a".repeat(32)).is_ok());
        for bad in ["", &"a".repeat(33), "a b", "a=", "a+b", "é"] {
            assert!(Topic::new(bad).is_err(), "{bad}");
        }
        let digest = Topic::digest("scores/ARS-CHE — live");
        assert_eq!(digest.as_str().len(), 32);
        assert_eq!(digest, Topic::digest("scores/ARS-CHE — live"));
        assert_ne!(digest, Topic::digest("scores/ARS-CHE — final"));
    }
}
