//! One registration: who owns it (the token's identity and subscribe grant), what it selects,
//! and where its deliveries go (its [`Target`]), with the record it is stored as.

use std::time::{SystemTime, UNIX_EPOCH};

use push_core::{Access, Pattern, Published, Selector, UrlPattern};
use push_webhook::sender::{Kind, Stored};
use push_webhook::{Secret, Signer};
use serde_json::{Map, Value, json};

/// Where a registration's deliveries go. The fan-out matches events against registrations
/// without looking at the kind: a registration makes its own queue record
/// ([`Registration::pending`]), and the one engine runs every kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A webhook: a signed `POST` to a URL (Standard Webhooks).
    Webhook(Webhook),
    /// A browser's Web Push subscription (see [`crate::webpush`]).
    WebPush(WebPushTarget),
}

/// A Web Push target: the browser's subscription, and whether a newer message replaces an
/// undelivered older one of the same topic at the push service (RFC 8030 `Topic`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebPushTarget {
    /// `PushSubscription.toJSON()` as the browser gave it.
    pub subscription: push_webpush::PushSubscription,
    /// Whether each message carries `Topic` (a digest of the event's topic) when the
    /// publisher gave no replacement key of its own (`push_replace`).
    pub replace: bool,
}

// `expirationTime` is the one float, and it is never NaN once parsed from JSON.
impl Eq for WebPushTarget {}

/// A webhook target: the URL and the secrets that sign its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The callback URL (checked against the address policy at registration and at each
    /// connect).
    pub url: String,
    /// The current secret.
    pub secret: Secret,
    /// The secret before the last rotation, signing beside the current one until its end.
    pub previous: Option<Previous>,
}

/// A rotated-out secret and when it stops signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// The secret.
    pub secret: Secret,
    /// When it stops signing (Unix seconds).
    pub until: u64,
}

impl Webhook {
    /// The signer at `now`: the current secret, and the previous one during a rotation.
    pub fn signer(&self, now: SystemTime) -> Signer {
        let signer = Signer::new(self.secret.clone());
        match &self.previous {
            Some(previous) if unix_secs(now) < previous.until => {
                signer.with_key(previous.secret.clone())
            }
            _ => signer,
        }
    }
}

/// A registration (see the [module](super) docs).
#[derive(Debug, Clone)]
pub struct Registration {
    /// The hub's id (`cb_` and 26 random base32 characters): unguessable, it names the
    /// registration in URLs.
    pub id: String,
    /// The id the client gave, echoed unchanged in every delivery.
    pub client_id: String,
    /// The selected topics' patterns.
    pub selector: Selector,
    /// The owner's access: private events on its token's subscribe grant.
    pub access: Access,
    /// The owner's token's `exp` (Unix seconds): nothing is delivered after it.
    pub expires: Option<u64>,
    /// The SHA-256 of the owner's token: with `client_id`, the key of an idempotent
    /// re-registration.
    pub owner: String,
    /// Where deliveries go.
    pub target: Target,
    /// How many deliveries may be in flight at once (1: in cursor order).
    pub in_flight: u32,
    /// The broker's head when it was made: it receives the events after it.
    pub from: String,
    /// When it was made (Unix milliseconds).
    pub created: u64,
    /// Why and when it was disabled, if it was.
    pub disabled: Option<Disabled>,
}

/// Why a registration stopped receiving deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disabled {
    /// `gone` (the receiver answered 410) or `exhausted` (the schedule was spent).
    pub reason: String,
    /// When (Unix milliseconds).
    pub at: u64,
}

impl Registration {
    /// Its start ([`from`](Self::from)) as a cursor; `None` when the record holds none.
    pub fn start(&self) -> Option<push_core::Cursor> {
        self.from.parse().ok()
    }

    /// Whether the registration receives `published` at `now`: it is active, its token has not
    /// expired, the event came after it was made, one of its patterns selects one of the
    /// event's topics, and its owner's access admits the event (a private event only on a
    /// granted topic).
    pub fn wants(&self, published: &Published, now: SystemTime) -> bool {
        if self.disabled.is_some() || self.expires.is_some_and(|exp| unix_secs(now) >= exp) {
            return false;
        }
        let cursor = published.cursor();
        if let Some(from) = self.start()
            && from.epoch() == cursor.epoch()
            && cursor <= from
        {
            return false;
        }
        published.topics().iter().any(|t| self.selector.matches(t)) && self.access.admits(published)
    }

    /// The delivery of `published` to this registration's target, made at `now`: a queue
    /// record of the target's [`Kind`], which the one engine hands to that kind's
    /// [`Deliver`](push_webhook::sender::Deliver).
    ///
    /// `None` when there is nothing to send: a Web Push event whose type and cursor alone would
    /// not fit the 4 KiB record (a type of thousands of bytes).
    ///
    /// `web_push` is a Web Push message's options (TTL, urgency); its `Topic` is the digest of
    /// the publisher's replacement key ([`Event::replace`](push_core::Event::replace)), else,
    /// when the subscription asked `replace`, of the event's canonical topic.
    pub fn pending(
        &self,
        published: &Published,
        now: SystemTime,
        web_push: &push_webpush::Delivery,
    ) -> Option<Stored> {
        let cursor = published.cursor().to_string();
        Some(match &self.target {
            Target::WebPush(target) => {
                let event = published.event();
                let encoding = push_webpush::Encoding::default();
                let (payload, _) = push_webpush::event_payload(
                    event.event.as_deref(),
                    &cursor,
                    &event.data,
                    &encoding,
                )?;
                let mut delivery = web_push.clone();
                let key = match &event.replace {
                    Some(key) => Some(key.as_str()),
                    None => target.replace.then(|| published.topic().as_str()),
                };
                if let Some(key) = key {
                    delivery = delivery.with_topic(push_webpush::Topic::digest(key));
                }
                push_webpush::engine::WebPushKind::stored(
                    &self.id,
                    &target.subscription,
                    &push_webhook::message_id(&self.id, &cursor),
                    payload,
                    &delivery,
                )
            }
            Target::Webhook(webhook) => {
                let event = published.event();
                let data = String::from_utf8_lossy(&event.data);
                let body = push_webhook::Payload {
                    kind: push_webhook::EVENT_TYPE,
                    timestamp: now,
                    topic: published.topic().as_str(),
                    cursor: &cursor,
                    registration: &self.client_id,
                    event: event.event.as_deref(),
                    data: &data,
                }
                .to_json();
                Stored {
                    kind: Kind::WEBHOOK,
                    registration: self.id.clone(),
                    url: webhook.url.clone(),
                    message_id: push_webhook::message_id(&self.id, &cursor),
                    body,
                    ..Stored::default()
                }
            }
        })
    }

    /// The JSON answer of the API; with `secret` the current secret too (only the answers of
    /// a registration and a rotation carry it).
    pub fn answer(&self, secret: bool) -> Value {
        let mut answer = Map::new();
        answer.insert("id".into(), self.client_id.clone().into());
        answer.insert("hub_id".into(), self.id.clone().into());
        answer.insert("topics".into(), patterns_text(&self.selector).into());
        answer.insert("in_flight".into(), self.in_flight.into());
        answer.insert("created".into(), self.created.into());
        match &self.target {
            Target::Webhook(webhook) => {
                answer.insert("url".into(), webhook.url.clone().into());
                if secret {
                    answer.insert("secret".into(), webhook.secret.to_string().into());
                }
                if let Some(previous) = &webhook.previous {
                    answer.insert("previous_secret_until".into(), previous.until.into());
                }
            }
            Target::WebPush(target) => {
                answer.insert(
                    "endpoint".into(),
                    target.subscription.endpoint.clone().into(),
                );
                answer.insert("replace".into(), target.replace.into());
            }
        }
        answer.insert(
            "status".into(),
            match &self.disabled {
                None => "active".into(),
                Some(d) => json!({"disabled": d.reason, "at": d.at}),
            },
        );
        Value::Object(answer)
    }

    /// The stored record.
    pub fn record(&self) -> Vec<u8> {
        let target = match &self.target {
            Target::Webhook(w) => json!({
                "kind": "webhook",
                "url": w.url,
                "secret": w.secret.to_string(),
                "previous": w.previous.as_ref().map(|p| json!({
                    "secret": p.secret.to_string(), "until": p.until,
                })),
            }),
            Target::WebPush(w) => json!({
                "kind": "webpush",
                "subscription": w.subscription,
                "replace": w.replace,
            }),
        };
        let record = json!({
            "version": 1,
            "id": self.id,
            "client_id": self.client_id,
            "selector": self.selector.patterns().iter().map(pattern_record).collect::<Vec<_>>(),
            "grant": self.access.private().map(|s| s.patterns().iter().map(pattern_record).collect::<Vec<_>>()),
            "expires": self.expires,
            "owner": self.owner,
            "target": target,
            "in_flight": self.in_flight,
            "from": self.from,
            "created": self.created,
            "disabled": self.disabled.as_ref().map(|d| json!({"reason": d.reason, "at": d.at})),
        });
        record.to_string().into_bytes()
    }

    /// A stored record read back; `None` when it does not decode.
    pub fn from_record(bytes: &[u8]) -> Option<Self> {
        let r: Value = serde_json::from_slice(bytes).ok()?;
        if r["version"].as_u64()? != 1 {
            return None;
        }
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let patterns = |v: &Value| -> Option<Selector> {
            let list = v.as_array()?.iter().map(pattern_from_record);
            Selector::with_limit(list.collect::<Option<Vec<_>>>()?, usize::MAX).ok()
        };
        let mut access = Access::public();
        if !r["grant"].is_null() {
            access = access.with_private(patterns(&r["grant"])?);
        }
        let t = &r["target"];
        let target = match t["kind"].as_str()? {
            "webhook" => Target::Webhook(Webhook {
                url: text(&t["url"])?,
                secret: t["secret"].as_str()?.parse().ok()?,
                previous: match &t["previous"] {
                    Value::Null => None,
                    p => Some(Previous {
                        secret: p["secret"].as_str()?.parse().ok()?,
                        until: p["until"].as_u64()?,
                    }),
                },
            }),
            "webpush" => Target::WebPush(WebPushTarget {
                subscription: serde_json::from_value(t["subscription"].clone()).ok()?,
                replace: t["replace"].as_bool()?,
            }),
            _ => return None,
        };
        Some(Self {
            id: text(&r["id"])?,
            client_id: text(&r["client_id"])?,
            selector: patterns(&r["selector"])?,
            access,
            expires: r["expires"].as_u64(),
            owner: text(&r["owner"])?,
            target,
            in_flight: u32::try_from(r["in_flight"].as_u64()?).ok()?,
            from: text(&r["from"])?,
            created: r["created"].as_u64()?,
            disabled: match &r["disabled"] {
                Value::Null => None,
                d => Some(Disabled {
                    reason: text(&d["reason"])?,
                    at: d["at"].as_u64()?,
                }),
            },
        })
    }
}

/// Whether the grant covers the requested pattern: `*` covers everything, a grant that
/// matches an exact topic covers it, and a template or URL pattern is covered only by the
/// same pattern (whether one template's topics are all another's is not decided here).
pub fn covered(grant: Option<&Selector>, requested: &Pattern) -> bool {
    let Some(grant) = grant else {
        return false;
    };
    match requested {
        Pattern::Exact(topic) => grant.matches(topic),
        other => grant
            .patterns()
            .iter()
            .any(|g| matches!(g, Pattern::All) || g == other),
    }
}

fn patterns_text(selector: &Selector) -> Vec<Value> {
    selector
        .patterns()
        .iter()
        .map(|p| p.to_string().into())
        .collect()
}

fn pattern_record(pattern: &Pattern) -> Value {
    let kind = match pattern {
        Pattern::UrlPattern(_) => "urlpattern",
        // Exact topics, `*` and templates read back with `Pattern::parse`.
        _ => "mercure",
    };
    json!({"kind": kind, "text": pattern.to_string()})
}

fn pattern_from_record(record: &Value) -> Option<Pattern> {
    let text = record["text"].as_str()?;
    match record["kind"].as_str()? {
        "urlpattern" => UrlPattern::parse(text).ok().map(Pattern::UrlPattern),
        "mercure" => Pattern::parse(text).ok(),
        _ => None,
    }
}

pub(crate) fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
