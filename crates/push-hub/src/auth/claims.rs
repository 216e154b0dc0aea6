//! What a verified token grants: the draft-07 `mercure` claim, or the 1.0 `at+jwt`
//! `authorization_details`, with the time, issuer and audience checks of each.

use std::borrow::Cow;

use push_core::{Pattern, Topic, UrlPattern};
use serde_json::{Map, Value};

use super::{MAX_CLAIM_SELECTORS, Reason};

/// The `type` of a Mercure authorization detail (draft-08).
pub const DETAIL_TYPE: &str = "https://mercure.rocks/authorization-detail";

/// The namespaced form of the draft-07 claim, which Mercure's hub also reads.
const NAMESPACED_CLAIM: &str = "https://mercure.rocks/";

/// What a token grants.
#[derive(Clone, Debug, Default)]
pub(crate) struct Grants {
    pub(crate) publish: Vec<Pattern>,
    pub(crate) subscribe: Vec<Pattern>,
    pub(crate) payload: Option<Value>,
    /// `exp`, in seconds since the Unix epoch.
    pub(crate) exp: Option<f64>,
}

/// What the checks compare a token with.
pub(crate) struct Checks<'a> {
    /// Seconds since the Unix epoch.
    pub(crate) now: f64,
    pub(crate) leeway: f64,
    /// 1.0 tokens: accepted issuers (empty: any, but one is required).
    pub(crate) issuers: &'a [String],
    /// 1.0 tokens: accepted audiences (one of them must be in `aud`).
    pub(crate) audience: &'a [String],
}

/// The grants of `claims`, a verified token's payload; `access_token` is its header's
/// `typ: at+jwt`.
pub(crate) fn grants(
    claims: Value,
    access_token: bool,
    checks: &Checks<'_>,
) -> Result<Grants, Reason> {
    let Value::Object(mut claims) = claims else {
        return Err(invalid("the payload is not a JSON object"));
    };
    let exp = numeric_date(&claims, "exp")?;
    if let Some(exp) = exp
        && checks.now >= exp + checks.leeway
    {
        return Err(Reason::Expired);
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")?
        && checks.now + checks.leeway < nbf
    {
        return Err(Reason::NotYetValid);
    }
    let mut grants = if access_token {
        if exp.is_none() {
            return Err(invalid("a 1.0 access token (at+jwt) needs an expiry (exp)"));
        }
        check_issuer(&claims, checks.issuers)?;
        check_audience(&claims, checks.audience)?;
        details(claims.remove("authorization_details"))?
    } else {
        let claim = match claims.remove("mercure") {
            Some(claim) => Some(claim),
            None => claims.remove(NAMESPACED_CLAIM),
        };
        mercure_claim(claim)?
    };
    grants.exp = exp;
    Ok(grants)
}

fn invalid(what: &'static str) -> Reason {
    Reason::InvalidClaims(Cow::Borrowed(what))
}

/// A NumericDate claim (RFC 7519 §2): a JSON number of seconds, or absent.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<f64>, Reason> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(Reason::InvalidClaims(Cow::Owned(format!(
            "{name} is not a number of seconds"
        )))),
    }
}

fn check_issuer(claims: &Map<String, Value>, issuers: &[String]) -> Result<(), Reason> {
    let Some(Value::String(iss)) = claims.get("iss") else {
        return Err(invalid("a 1.0 access token (at+jwt) needs an issuer (iss)"));
    };
    if issuers.is_empty() || issuers.iter().any(|i| i == iss) {
        Ok(())
    } else {
        Err(invalid("the issuer (iss) is not one the hub trusts"))
    }
}

fn check_audience(claims: &Map<String, Value>, audience: &[String]) -> Result<(), Reason> {
    let named = |a: &str| audience.iter().any(|b| a == b);
    let ok = match claims.get("aud") {
        Some(Value::String(aud)) => named(aud),
        Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(named),
        _ => {
            return Err(invalid(
                "a 1.0 access token (at+jwt) needs an audience (aud)",
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid("the audience (aud) does not name this hub"))
    }
}

/// The draft-07 claim: `{publish: [..], subscribe: [..], payload: any}`, each list optional.
fn mercure_claim(claim: Option<Value>) -> Result<Grants, Reason> {
    let mut claim = match claim {
        None | Some(Value::Null) => return Ok(Grants::default()),
        Some(Value::Object(claim)) => claim,
        Some(_) => return Err(invalid("the mercure claim is not a JSON object")),
    };
    Ok(Grants {
        publish: selectors(claim.get("publish"), "publish")?,
        subscribe: selectors(claim.get("subscribe"), "subscribe")?,
        payload: claim.remove("payload"),
        exp: None,
    })
}

/// A list of draft-07 selectors: `*`, a URI template, or an exact topic.
fn selectors(list: Option<&Value>, name: &'static str) -> Result<Vec<Pattern>, Reason> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Reason::InvalidClaims(Cow::Owned(format!(
                "mercure.{name} is not a list"
            ))));
        }
    };
    if items.len() > MAX_CLAIM_SELECTORS {
        return Err(Reason::InvalidClaims(Cow::Owned(format!(
            "mercure.{name} names {} selectors, more than {MAX_CLAIM_SELECTORS}",
            items.len()
        ))));
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Pattern::parse(s).map_err(|e| {
                Reason::InvalidClaims(Cow::Owned(format!(
                    "a selector of mercure.{name} is not a topic: {e}"
                )))
            }),
            _ => Err(Reason::InvalidClaims(Cow::Owned(format!(
                "mercure.{name} holds something other than strings"
            )))),
        })
        .collect()
}

/// The 1.0 `authorization_details`: Mercure details grant their `actions` on their `topics`;
/// details of other types are another resource's and are passed over; unknown actions are
/// ignored; anything malformed refuses the whole token.
fn details(details: Option<Value>) -> Result<Grants, Reason> {
    let details = match details {
        None | Some(Value::Null) => return Ok(Grants::default()),
        Some(Value::Array(details)) => details,
        Some(_) => return Err(invalid("authorization_details is not a list")),
    };
    let mut grants = Grants::default();
    for detail in details {
        let Value::Object(mut detail) = detail else {
            return Err(invalid("an authorization detail is not a JSON object"));
        };
        match detail.get("type") {
            Some(Value::String(t)) if t == DETAIL_TYPE => {}
            Some(Value::String(_)) => continue,
            _ => return Err(invalid("an authorization detail has no type")),
        }
        let Some(Value::Array(actions)) = detail.get("actions") else {
            return Err(invalid(
                "a Mercure authorization detail has no list of actions",
            ));
        };
        let (mut publish, mut subscribe) = (false, false);
        for action in actions {
            match action.as_str() {
                Some("publish") => publish = true,
                Some("subscribe") => subscribe = true,
                Some(_) => {}
                None => return Err(invalid("an authorization detail's action is not a string")),
            }
        }
        let Some(Value::Array(topics)) = detail.get("topics") else {
            return Err(invalid(
                "a Mercure authorization detail has no list of topics",
            ));
        };
        if topics.len() > MAX_CLAIM_SELECTORS {
            return Err(Reason::InvalidClaims(Cow::Owned(format!(
                "an authorization detail names more than {MAX_CLAIM_SELECTORS} topics"
            ))));
        }
        let patterns = topics.iter().map(matcher).collect::<Result<Vec<_>, _>>()?;
        if publish {
            grants.publish.extend(patterns.iter().cloned());
        }
        if subscribe {
            grants.subscribe.extend(patterns);
            if grants.payload.is_none() {
                grants.payload = detail.remove("payload");
            }
        }
        if grants.publish.len().max(grants.subscribe.len()) > MAX_CLAIM_SELECTORS {
            return Err(Reason::InvalidClaims(Cow::Owned(format!(
                "authorization_details name more than {MAX_CLAIM_SELECTORS} topics"
            ))));
        }
    }
    Ok(grants)
}

/// One 1.0 topic matcher: `{"match": "...", "match_type": "exact" | "urlpattern"}`.
fn matcher(topic: &Value) -> Result<Pattern, Reason> {
    let (Some(Value::String(text)), kind) = (topic.get("match"), topic.get("match_type")) else {
        return Err(invalid(
            "an authorization detail's topic has no match string",
        ));
    };
    let bad = |_| invalid("an authorization detail's topic is not a valid matcher");
    match kind.and_then(Value::as_str) {
        None | Some("exact") if text == "*" => Ok(Pattern::All),
        None | Some("exact") => Topic::new(text).map(Pattern::Exact).map_err(bad),
        Some("urlpattern") => UrlPattern::parse(text)
            .map(Pattern::UrlPattern)
            .map_err(bad),
        Some(_) => Err(invalid(
            "an authorization detail's topic has an unknown match_type",
        )),
    }
}
