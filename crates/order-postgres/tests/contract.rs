//! The storage contract of `order-domain` (the same tests the in-memory store passes) on a
//! fresh PostgreSQL database per test, through the application's role. The pool has a
//! connection for each of the contract's racing commits, so they really race.

mod common;

order_domain::storage_contract_tests!(common::fresh_db_sized(30).await.store);
