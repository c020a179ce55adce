//! The simulated inventory: units on hand per product, reservations that lapse at their
//! `expiresAt`, commits that take units out of stock, and allocations at a warehouse.
//!
//! Counters keep every call O(log n) in the number of reservations; checking and reserving
//! happen under the simulator's one lock, so reservations never exceed the stock.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::catalog::SeedProduct;

/// Where a reservation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ReservationStatus {
    /// Units set aside until `expires_at`.
    Reserved,
    /// Units taken out of stock (paid).
    Committed,
    /// Given back before it lapsed.
    Released,
    /// Lapsed.
    Expired,
}

/// One order's reservation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reservation {
    pub(crate) id: String,
    pub(crate) tenant_id: Uuid,
    pub(crate) order_id: Uuid,
    /// Units per product.
    pub(crate) items: BTreeMap<Uuid, u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) status: ReservationStatus,
    pub(crate) allocation: Option<Allocation>,
    /// Lines given back one by one (idempotency of a line's release).
    pub(crate) released_lines: Vec<Uuid>,
}

/// Where an order's units are picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Allocation {
    pub(crate) warehouse: String,
    pub(crate) picks: Vec<Pick>,
}

/// One line of a pick list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pick {
    pub(crate) product_id: Uuid,
    pub(crate) quantity: u32,
    pub(crate) location: String,
}

/// A reservation that cannot be made: the first product short of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Short {
    pub(crate) product_id: Uuid,
    pub(crate) available: u32,
}

/// The stock of every seeded product.
#[derive(Debug, Default)]
pub(crate) struct Stock {
    on_hand: HashMap<Uuid, u32>,
    reserved: HashMap<Uuid, u32>,
    reservations: HashMap<(Uuid, Uuid), Reservation>,
    expiries: BinaryHeap<Reverse<(OffsetDateTime, (Uuid, Uuid))>>,
}

impl Stock {
    /// The seeded units of `products`.
    pub(crate) fn seeded(products: &[SeedProduct]) -> Self {
        Self {
            on_hand: products.iter().map(|p| (p.id, p.stock)).collect(),
            ..Self::default()
        }
    }

    /// Units free now: on hand minus live reservations.
    pub(crate) fn available(&self, product: Uuid) -> u32 {
        self.on_hand
            .get(&product)
            .copied()
            .unwrap_or(0)
            .saturating_sub(self.reserved.get(&product).copied().unwrap_or(0))
    }

    /// Lapses reservations past their expiry.
    pub(crate) fn expire(&mut self, now: OffsetDateTime) {
        while let Some(Reverse((at, key))) = self.expiries.peek().copied() {
            if at > now {
                break;
            }
            self.expiries.pop();
            if self
                .reservations
                .get(&key)
                .is_some_and(|r| r.status == ReservationStatus::Reserved && r.expires_at <= now)
            {
                self.settle(key, ReservationStatus::Expired);
            }
        }
    }

    /// Reserves `items` for `order` until `expires_at`, all or none; the order's live (or
    /// committed) reservation again when it has one (`false`: nothing new was made).
    pub(crate) fn reserve(
        &mut self,
        tenant: Uuid,
        order: Uuid,
        items: &[(Uuid, u32)],
        expires_at: OffsetDateTime,
    ) -> Result<(Reservation, bool), Short> {
        let key = (tenant, order);
        if let Some(existing) = self.reservations.get(&key).filter(|r| {
            matches!(
                r.status,
                ReservationStatus::Reserved | ReservationStatus::Committed
            )
        }) {
            return Ok((existing.clone(), false));
        }
        let mut wanted: BTreeMap<Uuid, u32> = BTreeMap::new();
        for (product, quantity) in items {
            *wanted.entry(*product).or_default() += quantity;
        }
        if let Some((product, _)) = wanted
            .iter()
            .find(|(product, quantity)| self.available(**product) < **quantity)
        {
            return Err(Short {
                product_id: *product,
                available: self.available(*product),
            });
        }
        for (product, quantity) in &wanted {
            *self.reserved.entry(*product).or_default() += quantity;
        }
        let reservation = Reservation {
            id: format!("res_{}", order.simple()),
            tenant_id: tenant,
            order_id: order,
            items: wanted,
            expires_at,
            status: ReservationStatus::Reserved,
            allocation: None,
            released_lines: Vec::new(),
        };
        self.expiries.push(Reverse((expires_at, key)));
        self.reservations.insert(key, reservation.clone());
        Ok((reservation, true))
    }

    /// Gives a live reservation back; anything else is left as it is.
    pub(crate) fn release(&mut self, tenant: Uuid, order: Uuid) {
        self.settle((tenant, order), ReservationStatus::Released);
    }

    /// Gives `quantity` units of `product` (one line of the order) back: reserved units leave
    /// the reservation, committed ones return to stock and leave the pick list. Idempotent per
    /// `line`; `false` when the order has no such units.
    pub(crate) fn release_line(
        &mut self,
        tenant: Uuid,
        order: Uuid,
        line: Uuid,
        product: Uuid,
        quantity: u32,
    ) -> bool {
        let Some(reservation) = self.reservations.get_mut(&(tenant, order)) else {
            return false;
        };
        if reservation.released_lines.contains(&line) {
            return true;
        }
        let status = reservation.status;
        if matches!(
            status,
            ReservationStatus::Released | ReservationStatus::Expired
        ) {
            reservation.released_lines.push(line);
            return true;
        }
        let Some(units) = reservation
            .items
            .get_mut(&product)
            .filter(|units| **units >= quantity)
        else {
            return false;
        };
        *units -= quantity;
        if *units == 0 {
            reservation.items.remove(&product);
        }
        reservation.released_lines.push(line);
        if let Some(allocation) = reservation.allocation.as_mut() {
            allocation.picks.retain_mut(|pick| {
                if pick.product_id == product {
                    pick.quantity = pick.quantity.saturating_sub(quantity);
                }
                pick.quantity > 0
            });
        }
        let counter = match status {
            ReservationStatus::Reserved => self.reserved.get_mut(&product),
            _ => None,
        };
        match counter {
            Some(reserved) => *reserved = reserved.saturating_sub(quantity),
            None => *self.on_hand.entry(product).or_default() += quantity,
        }
        true
    }

    /// An order edit's difference on `order`'s stock, all or nothing, once per `key`: `added`
    /// units reserved too (deducted at once from committed stock) and `released` ones back (from
    /// the reservation, or to stock once committed). `Ok(false)` when the order has no such
    /// reservation or units; `Err` names the first product short of units.
    pub(crate) fn adjust(
        &mut self,
        tenant: Uuid,
        order: Uuid,
        key: Uuid,
        added: &[(Uuid, u32)],
        released: &[(Uuid, u32)],
    ) -> Result<bool, Short> {
        let Some(reservation) = self.reservations.get(&(tenant, order)) else {
            return Ok(false);
        };
        if reservation.released_lines.contains(&key) {
            return Ok(true);
        }
        let committed = match reservation.status {
            ReservationStatus::Reserved => false,
            ReservationStatus::Committed => true,
            _ => return Ok(false),
        };
        let mut items = reservation.items.clone();
        for (product, quantity) in released {
            match items.get_mut(product).filter(|units| **units >= *quantity) {
                Some(units) => *units -= quantity,
                None => return Ok(false),
            }
        }
        let mut wanted: BTreeMap<Uuid, u32> = BTreeMap::new();
        for (product, quantity) in added {
            *wanted.entry(*product).or_default() += quantity;
        }
        if let Some((product, _)) = wanted
            .iter()
            .find(|(product, quantity)| self.available(**product) < **quantity)
        {
            return Err(Short {
                product_id: *product,
                available: self.available(*product),
            });
        }
        for (product, quantity) in &wanted {
            *items.entry(*product).or_default() += quantity;
            // Units added to committed stock are deducted at once, like the rest of the order.
            if committed {
                let on_hand = self.on_hand.entry(*product).or_default();
                *on_hand = on_hand.saturating_sub(*quantity);
            } else {
                *self.reserved.entry(*product).or_default() += quantity;
            }
        }
        for (product, quantity) in released {
            let counter = if committed {
                self.on_hand.entry(*product).or_default()
            } else {
                self.reserved.entry(*product).or_default()
            };
            *counter = if committed {
                *counter + quantity
            } else {
                counter.saturating_sub(*quantity)
            };
        }
        items.retain(|_, units| *units > 0);
        if let Some(reservation) = self.reservations.get_mut(&(tenant, order)) {
            reservation.items = items;
            reservation.released_lines.push(key);
        }
        Ok(true)
    }

    /// Takes a live reservation's units out of stock; `false` when there is none to commit.
    pub(crate) fn commit(&mut self, tenant: Uuid, order: Uuid) -> bool {
        let key = (tenant, order);
        match self.reservations.get(&key).map(|r| r.status) {
            Some(ReservationStatus::Committed) => true,
            Some(ReservationStatus::Reserved) => {
                let items = self.reservations[&key].items.clone();
                self.settle(key, ReservationStatus::Committed);
                for (product, quantity) in items {
                    if let Some(units) = self.on_hand.get_mut(&product) {
                        *units = units.saturating_sub(quantity);
                    }
                }
                true
            }
            _ => false,
        }
    }

    /// The pick list of a committed order (the same one every time).
    pub(crate) fn allocate(&mut self, tenant: Uuid, order: Uuid) -> Option<Allocation> {
        let reservation = self
            .reservations
            .get_mut(&(tenant, order))
            .filter(|r| r.status == ReservationStatus::Committed)?;
        let allocation = reservation.allocation.get_or_insert_with(|| Allocation {
            warehouse: "WH-1".into(),
            picks: reservation
                .items
                .iter()
                .enumerate()
                .map(|(index, (product, quantity))| Pick {
                    product_id: *product,
                    quantity: *quantity,
                    location: format!("A-{:02}", index + 1),
                })
                .collect(),
        });
        Some(allocation.clone())
    }

    /// Every reservation, for `/_admin/state`.
    pub(crate) fn reservations(&self) -> Vec<&Reservation> {
        let mut all: Vec<_> = self.reservations.values().collect();
        all.sort_by_key(|r| r.order_id);
        all
    }

    /// Units on hand per product, for `/_admin/state`.
    pub(crate) fn on_hand(&self, product: Uuid) -> u32 {
        self.on_hand.get(&product).copied().unwrap_or(0)
    }

    fn settle(&mut self, key: (Uuid, Uuid), status: ReservationStatus) {
        let Some(reservation) = self.reservations.get_mut(&key) else {
            return;
        };
        if reservation.status != ReservationStatus::Reserved {
            return;
        }
        reservation.status = status;
        for (product, quantity) in &reservation.items {
            if let Some(reserved) = self.reserved.get_mut(product) {
                *reserved = reserved.saturating_sub(*quantity);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;

    use super::*;

    const TENANT: Uuid = Uuid::from_u128(1);
    const SHIRT: Uuid = Uuid::from_u128(10);

    fn stock(units: u32) -> Stock {
        let mut stock = Stock::default();
        stock.on_hand.insert(SHIRT, units);
        stock
    }

    #[test]
    fn reservations_never_exceed_the_stock_and_lapse_at_their_expiry() {
        let now = OffsetDateTime::now_utc();
        let mut stock = stock(5);
        let order = |n: u128| Uuid::from_u128(100 + n);
        assert!(
            stock
                .reserve(TENANT, order(1), &[(SHIRT, 3)], now + Duration::minutes(1))
                .is_ok()
        );
        assert_eq!(
            stock
                .reserve(TENANT, order(2), &[(SHIRT, 3)], now + Duration::minutes(1))
                .map(|_| ())
                .expect_err("short"),
            Short {
                product_id: SHIRT,
                available: 2
            }
        );
        let (_, created) = stock
            .reserve(TENANT, order(1), &[(SHIRT, 3)], now + Duration::minutes(1))
            .expect("again");
        assert!(!created, "reserving again returns the same reservation");
        stock.expire(now + Duration::minutes(2));
        assert_eq!(
            stock.available(SHIRT),
            5,
            "a lapsed reservation gives its units back"
        );
    }

    #[test]
    fn a_released_line_gives_its_units_back_once_whether_reserved_or_committed() {
        let now = OffsetDateTime::now_utc();
        let mut stock = stock(10);
        let (reserved, committed) = (Uuid::from_u128(21), Uuid::from_u128(22));
        let line = Uuid::from_u128(99);
        for order in [reserved, committed] {
            stock
                .reserve(TENANT, order, &[(SHIRT, 3)], now + Duration::minutes(1))
                .expect("reserved");
        }
        assert!(stock.commit(TENANT, committed));
        assert_eq!(stock.available(SHIRT), 4);
        assert!(stock.release_line(TENANT, reserved, line, SHIRT, 2));
        assert!(
            stock.release_line(TENANT, reserved, line, SHIRT, 2),
            "again"
        );
        assert_eq!(stock.available(SHIRT), 6, "two reserved units back, once");
        stock.allocate(TENANT, committed).expect("allocated");
        assert!(stock.release_line(TENANT, committed, line, SHIRT, 1));
        assert_eq!(stock.on_hand(SHIRT), 8, "a sold unit back on hand");
        let picks = stock.allocate(TENANT, committed).expect("allocated");
        assert_eq!(picks.picks[0].quantity, 2, "and off the pick list");
        assert!(
            !stock.release_line(TENANT, committed, Uuid::from_u128(98), SHIRT, 5),
            "more units than the order has"
        );
    }

    #[test]
    fn a_commit_takes_units_out_of_stock_once_and_allocates_the_same_picks() {
        let now = OffsetDateTime::now_utc();
        let mut stock = stock(5);
        let order = Uuid::from_u128(7);
        stock
            .reserve(
                TENANT,
                order,
                &[(SHIRT, 1), (SHIRT, 1)],
                now + Duration::minutes(1),
            )
            .expect("reserved");
        assert!(stock.commit(TENANT, order));
        assert!(stock.commit(TENANT, order), "committing again is fine");
        assert_eq!(stock.on_hand(SHIRT), 3);
        assert_eq!(stock.available(SHIRT), 3);
        let picks = stock.allocate(TENANT, order).expect("allocated");
        assert_eq!(picks.picks[0].quantity, 2);
        assert_eq!(stock.allocate(TENANT, order), Some(picks));
        stock.release(TENANT, order);
        assert_eq!(
            stock.on_hand(SHIRT),
            3,
            "a committed reservation is not released"
        );
    }
}
