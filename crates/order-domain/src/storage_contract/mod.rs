//! The contract tests every storage adapter passes (feature `contract-tests`): what the
//! storage ports' `MUST`s promise — version conflicts that write nothing, tenant scoping,
//! quotas and promo-code limits that concurrent commits never exceed, idempotency keys, order
//! numbers, carts and merges, the outbox's per-order ordering, the jobs' scans — written once
//! against the ports and run on every adapter, so `adapters::MemoryStore`
//! and PostgreSQL behave alike.
//!
//! An adapter's test file runs them all with [`storage_contract_tests!`](crate::storage_contract_tests),
//! given an expression that makes a fresh, empty store (each test gets its own):
//!
//! ```no_run
//! // tests/contract.rs of a storage adapter (needs tokio with `macros` and `rt`); here, the
//! // in-memory store as this crate runs it.
//! # #[cfg(feature = "memory")]
//! # mod in_memory {
//! use std::sync::Arc;
//! use order_domain::adapters::{ManualClock, MemoryStore};
//!
//! order_domain::storage_contract_tests!(MemoryStore::new(Arc::new(ManualClock::at(
//!     order_domain::time::OffsetDateTime::UNIX_EPOCH
//! ))));
//! # }
//! # fn main() {}
//! ```
//!
//! Each test is also a `pub async fn` here taking `&impl` [`Storage`], for adapters that run
//! only some (the functions panic, as assertions do, when the store breaks the contract).
//! Fixed ids and times make failures readable; a store must be empty at the start.

mod carts;
mod documents;
mod edits;
pub mod fixtures;
mod jobs;
mod ledger;
mod limits;
mod orders;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

pub use self::carts::*;
pub use self::documents::*;
pub use self::edits::*;
pub use self::jobs::*;
pub use self::ledger::*;
pub use self::limits::*;
pub use self::orders::*;
use crate::ports::{
    AuditLog, CartRepository, Inbox, OrderRepository, OrderScans, Outbox, PromotionRepository,
    RefundRepository, UnitOfWork,
};

/// Every storage port the contract tests drive, implemented by one store.
pub trait Storage:
    OrderRepository
    + OrderScans
    + AuditLog
    + UnitOfWork
    + RefundRepository
    + CartRepository
    + PromotionRepository
    + Outbox
    + Inbox
{
}

impl<T> Storage for T where
    T: OrderRepository
        + OrderScans
        + AuditLog
        + UnitOfWork
        + RefundRepository
        + CartRepository
        + PromotionRepository
        + Outbox
        + Inbox
{
}

/// One `#[tokio::test]` per contract test, each on the fresh store `$fresh` evaluates to
/// (inside the async test, so it may `.await`).
#[macro_export]
macro_rules! storage_contract_tests {
    ($fresh:expr) => {
        $crate::storage_contract_tests!(@each $fresh;
            an_order_round_trips_with_its_audit_trail_and_outbox_event,
            a_stale_version_is_a_conflict_and_writes_nothing,
            another_tenant_sees_none_of_the_orders_or_keys_and_changes_none,
            a_message_is_recorded_once_with_its_effect,
            a_message_id_belongs_to_its_tenant,
            lists_filter_page_count_and_sum_only_matching_orders,
            orders_are_found_by_contact_email_in_any_case,
            a_batch_stores_each_change_under_its_own_version,
            a_batch_refuses_changes_it_cannot_store_in_full,
            scans_find_due_orders_an_events_active_orders_and_due_refunds,
            refunds_are_listed_by_status_and_lead_to_their_order,
            concurrent_orders_of_one_buyer_never_exceed_the_event_quota,
            concurrent_orders_of_one_buyer_never_exceed_the_daily_quota,
            an_order_leaving_the_active_statuses_gives_its_event_place_back,
            one_idempotency_key_creates_one_order_until_it_may_be_reused,
            one_refund_request_key_stores_one_refund,
            a_taken_order_number_is_reported_so_another_can_be_drawn,
            concurrent_redemptions_never_exceed_a_promo_codes_limits,
            promo_codes_are_created_once_listed_and_retired,
            carts_round_trip_and_stale_saves_conflict,
            a_merge_applies_once_and_a_stale_one_writes_nothing,
            checkout_empties_the_cart_with_the_order_and_only_at_its_version,
            relays_lease_outbox_rows_in_order_and_never_overtake_an_order,
            ledger_entries_are_stored_with_their_change_and_never_twice,
            documents_are_numbered_in_the_commit_without_gaps,
            an_edited_order_is_stored_with_its_new_lines_and_prices,
            an_edit_waiting_for_its_payment_is_stored_found_when_overdue_and_settled,
        );
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let store = $fresh;
                $crate::storage_contract::$name(&store).await;
            }
        )*
    };
}

/// Runs `futures` concurrently on the current task and returns their outputs in order: the
/// races of the quota tests without an executor dependency (each future still waits on its
/// own connection, so a database sees them at once).
pub(crate) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *output = Some(value);
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(outputs.iter_mut().filter_map(Option::take).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}
