//! A short-lived cache of event details for [`EventCatalog::recent_event`] (decision 0022):
//! taking an order reads an event many times a second during a sale, and the answer changes
//! rarely. Entries live `ttl`; the map is bounded, and a full map drops its expired entries
//! first, then everything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use order_domain::ids::{EventId, TenantId};
use order_domain::ports::EventInfo;
use tokio::time::Instant;

/// At most this many events are cached per process.
const MAX_ENTRIES: usize = 10_000;

/// One cached answer ("no such event" included) and when it was fetched.
type Entry = (Instant, Option<EventInfo>);

/// Event answers by tenant and event.
#[derive(Debug)]
pub(crate) struct EventCache {
    ttl: Duration,
    // A std mutex: it is held for a map lookup or insert only, never across an await.
    entries: Mutex<HashMap<(TenantId, EventId), Entry>>,
}

impl EventCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached answer, while it is younger than the TTL; `None` when it must be fetched.
    pub(crate) fn get(&self, tenant: TenantId, event: EventId) -> Option<Option<EventInfo>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&(tenant, event))
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, info)| info.clone())
    }

    pub(crate) fn put(&self, tenant: TenantId, event: EventId, info: Option<EventInfo>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert((tenant, event), (Instant::now(), info));
    }
}

#[cfg(test)]
mod tests {
    use order_domain::money::Currency;
    use order_domain::ports::EventStatus;
    use uuid::Uuid;

    use super::*;

    fn ids(n: u128) -> (TenantId, EventId) {
        (
            TenantId::from_uuid(Uuid::from_u128(1)),
            EventId::from_uuid(Uuid::from_u128(n)),
        )
    }

    fn info(event: EventId) -> EventInfo {
        EventInfo {
            id: event,
            starts_at: time::macros::datetime!(2027-01-01 20:00 UTC),
            status: EventStatus::Scheduled,
            currency: Currency::Usd,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_is_served_until_its_ttl_ends() {
        let cache = EventCache::new(Duration::from_secs(5));
        let (tenant, event) = ids(2);
        assert_eq!(cache.get(tenant, event), None);
        cache.put(tenant, event, Some(info(event)));
        tokio::time::advance(Duration::from_millis(4_999)).await;
        assert_eq!(cache.get(tenant, event), Some(Some(info(event))));
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(cache.get(tenant, event), None);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_events_are_cached_too_and_a_zero_ttl_caches_nothing() {
        let cache = EventCache::new(Duration::from_secs(5));
        let (tenant, event) = ids(3);
        cache.put(tenant, event, None);
        assert_eq!(cache.get(tenant, event), Some(None));
        let off = EventCache::new(Duration::ZERO);
        off.put(tenant, event, Some(info(event)));
        assert_eq!(off.get(tenant, event), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_cache_makes_room() {
        let cache = EventCache::new(Duration::from_secs(5));
        for n in 0..MAX_ENTRIES as u128 {
            let (tenant, event) = ids(n);
            cache.put(tenant, event, None);
        }
        let (tenant, newest) = ids(u128::MAX);
        cache.put(tenant, newest, Some(info(newest)));
        assert_eq!(cache.get(tenant, newest), Some(Some(info(newest))));
        let entries = cache.entries.lock().expect("lock").len();
        assert!(entries <= MAX_ENTRIES, "bounded: {entries}");
    }
}
