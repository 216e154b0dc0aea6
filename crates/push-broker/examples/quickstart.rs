//! The workspace's main example: publish and subscribe through the embedded broker and print what
//! a subscriber receives — live events, a resume from a cursor, and an announced gap.
//!
//! ```text
//! cargo run --release -p push-broker --example quickstart
//! ```

use futures_util::StreamExt;
use push_broker::{Config, MemoryBroker};
use push_core::{Cursor, Delivery, Event, Selector, Topic};

fn show(label: &str, delivery: &Delivery) {
    match delivery {
        Delivery::Event(p) => println!(
            "{label}: event  cursor={} topic={} data={}",
            p.cursor(),
            p.topic(),
            String::from_utf8_lossy(&p.event().data)
        ),
        Delivery::Gap(g) => println!(
            "{label}: GAP    reason={} resume from {}",
            g.reason.as_str(),
            g.resume
        ),
        Delivery::Closed(r) => println!("{label}: closed ({})", r.as_str()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), push_core::Error> {
    let broker = MemoryBroker::new(Config::default().with_history_count(3));
    let news = Topic::new("news")?;
    let weather = Topic::new("weather")?;
    println!(
        "broker epoch {:x}; history keeps 3 events per topic\n",
        broker.epoch()
    );

    // A live subscriber to two topics.
    let selector = Selector::new([news.clone(), weather.clone()])?;
    let mut live = broker.subscribe(&selector, None, &push_core::Access::public())?;
    let first = broker.publish_now(&news, Event::new("hello").with_event("greeting"))?;
    broker.publish_now(&weather, Event::new(r#"{"temp":21}"#))?;
    for _ in 0..2 {
        if let Some(d) = live.next().await {
            show("live", &d);
        }
    }

    // A client that saw only the first event comes back with its cursor, after more happened.
    for i in 0..4 {
        broker.publish_now(&news, Event::new(format!("story {i}")))?;
    }
    let resumed_from: Cursor = first.to_string().parse()?;
    println!("\nresuming from {resumed_from} (the text a client sends back):");
    let mut resumed =
        broker.subscribe(&selector, Some(resumed_from), &push_core::Access::public())?;
    while let Some(d) = resumed.try_recv() {
        show("resume", &d);
    }

    // A cursor from an earlier run of the broker: the loss is announced, never silent.
    let stale = Cursor::new(broker.epoch() ^ 0xff, 7);
    println!("\nresuming from a cursor of another epoch ({stale}):");
    let mut foreign = broker.subscribe(
        &Selector::one(weather),
        Some(stale),
        &push_core::Access::public(),
    )?;
    while let Some(d) = foreign.try_recv() {
        show("foreign", &d);
    }
    println!("\nhead is now {}", broker.head());
    Ok(())
}
