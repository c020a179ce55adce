//! Helpers shared by the PostgreSQL integration tests: a fresh database per test, and the order
//! fixtures of `order-domain`'s storage contract.
#![allow(dead_code, unreachable_pub, unused_imports)]

use order_domain::ids::TenantId;
use order_domain::order::Order;
use order_domain::storage_contract::fixtures;
pub use order_domain::storage_contract::fixtures::{
    NOW, OrderFixture, actor, change, id, tenant_a, tenant_b,
};
use order_postgres::PgStore;
use sqlx::postgres::PgPool;

pub struct TestDb {
    pub store: PgStore,
    /// Owner connection to the same database (bypasses RLS), for checks behind the store's back.
    pub owner: PgPool,
    /// The application role's own pool, for hand-written queries.
    pub app: PgPool,
}

pub async fn fresh_db() -> TestDb {
    fresh_db_sized(5).await
}

/// A fresh database whose application pool has `connections` connections (for races).
pub async fn fresh_db_sized(connections: u32) -> TestDb {
    let db = order_postgres::setup::testing::fresh_database().await;
    let app = db.app_pool(connections).await;
    TestDb {
        store: PgStore::from_pool(app.clone(), order_postgres::setup::testing::address_keys()),
        owner: db.owner,
        app,
    }
}

/// Stores a new RESERVED order and returns it as stored (version 1).
pub async fn store_reserved(
    db: &TestDb,
    tenant: TenantId,
    n: u128,
    user: u128,
    event: u128,
) -> Order {
    fixtures::store_reserved(
        &db.store,
        OrderFixture::new(n)
            .tenant(tenant)
            .buyer(user)
            .event(event)
            .build(),
        n * 10_000,
    )
    .await
}
