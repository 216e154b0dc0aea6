//! What a subscriber got, as short strings a test compares at a glance: `data@offset` for an
//! event, `gap:reason@offset` for a gap (at its resume cursor), `closed:reason` for the end.

use push_core::Delivery;

/// `delivery` as a short string.
pub fn short(delivery: &Delivery) -> String {
    match delivery {
        Delivery::Event(published) => format!(
            "{}@{}",
            String::from_utf8_lossy(&published.event().data),
            published.cursor().offset()
        ),
        Delivery::Gap(gap) => format!("gap:{}@{}", gap.reason.as_str(), gap.resume.offset()),
        Delivery::Closed(reason) => format!("closed:{}", reason.as_str()),
    }
}

/// Every delivery `next` gives until it gives none (a subscription's `try_recv`: what is ready
/// now), each as [`short`].
pub fn drain(mut next: impl FnMut() -> Option<Delivery>) -> Vec<String> {
    std::iter::from_fn(|| next().map(|delivery| short(&delivery))).collect()
}
