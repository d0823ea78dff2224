//! What the events router (`api::events`) asks of the engine, and `Engine`'s answer.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::service::events::Event;
use crate::service::Engine;

pub trait EventsBackend: Send + Sync + 'static {
    /// The events still in the ring, and a receiver for the ones to come (no gap between them).
    fn events_subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>);
}

impl EventsBackend for Engine {
    fn events_subscribe(&self) -> (Vec<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        self.events().subscribe()
    }
}
