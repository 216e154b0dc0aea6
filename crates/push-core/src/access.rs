//! Who may receive what: the audience of an event and the access of a subscription.

use std::time::Instant;

use crate::{Published, Selector};

/// Who an [`Event`](crate::Event) is for.
///
/// A public event reaches every subscriber whose selector matches one of its topics. A private
/// event (Mercure's `private=on`) reaches only the subscribers whose [`Access`] grants private
/// events on one of its topics: the authorization hook of the transport decides that grant,
/// once per subscription, and the broker checks it per event.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Every subscriber of a matching topic.
    #[default]
    Public,
    /// Only subscribers granted private events on one of the event's topics.
    Private,
}

/// What a subscription may have, as an authorization decided it: private events on the topics a
/// selector matches, until an optional deadline (a token's expiry).
///
/// The default is public events only, with no deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// use push_core::{Access, Selector, Topic};
///
/// let deadline = Instant::now() + Duration::from_secs(3600);
/// let access = Access::public()
///     .with_private(Selector::one(Topic::new("users/7").unwrap()))
///     .with_until(deadline);
/// assert!(access.private().is_some());
/// assert_eq!(access.until(), Some(deadline));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    private: Option<Selector>,
    until: Option<Instant>,
}

impl Access {
    /// Public events only, no deadline.
    pub fn public() -> Self {
        Self::default()
    }

    /// Grants private events on the topics `selector` matches (besides every public event).
    #[must_use]
    pub fn with_private(mut self, selector: Selector) -> Self {
        self.private = Some(selector);
        self
    }

    /// Ends the subscription at `deadline`: it then yields
    /// [`Delivery::Closed`](crate::Delivery::Closed) with
    /// [`CloseReason::Expired`](crate::CloseReason::Expired).
    #[must_use]
    pub fn with_until(mut self, deadline: Instant) -> Self {
        self.until = Some(deadline);
        self
    }

    /// The topics whose private events this subscription may receive, if any.
    pub fn private(&self) -> Option<&Selector> {
        self.private.as_ref()
    }

    /// When the subscription ends, if ever.
    pub fn until(&self) -> Option<Instant> {
        self.until
    }

    /// Whether this access admits `published`: always when it is public, when it is private
    /// only if the grant matches one of its topics.
    ///
    /// ```
    /// use push_core::{Access, Audience, Cursor, Event, Published, Selector, Topic};
    ///
    /// let [a, b] = ["a", "b"].map(|t| Topic::new(t).unwrap());
    /// let secret = Event::new("x").with_audience(Audience::Private);
    /// let p = Published::with_topics(Box::new([a, b.clone()]), Cursor::new(1, 1), secret);
    /// assert!(!Access::public().admits(&p));
    /// assert!(Access::public().with_private(Selector::one(b)).admits(&p));
    /// ```
    pub fn admits(&self, published: &Published) -> bool {
        match published.event().audience {
            Audience::Public => true,
            Audience::Private => self.grants(published.topics()),
        }
    }

    /// Whether the private grant matches one of `topics`.
    pub fn grants(&self, topics: &[crate::Topic]) -> bool {
        self.private
            .as_ref()
            .is_some_and(|s| topics.iter().any(|t| s.matches(t)))
    }
}
