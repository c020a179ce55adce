//! Housekeeping deletes what can no longer matter, and only that.

mod common;

use common::*;
use time::Duration;

#[tokio::test]
async fn pruning_deletes_past_quota_days_old_keys_and_old_inbox_rows_only() {
    let db = fresh_db().await;
    let order = store_reserved(&db, tenant_a(), 1, 7, 9).await;
    let today = NOW.date();
    for (user, day) in [(1u128, today - Duration::days(3)), (2, today)] {
        sqlx::query(
            "INSERT INTO buyer_daily_orders (tenant_id, user_id, day, created) VALUES ($1, $2, $3, 1)",
        )
        .bind(tenant_a().as_uuid())
        .bind(id(user))
        .bind(day)
        .execute(&db.owner)
        .await
        .expect("quota row");
    }
    for (key, at) in [("old", NOW - Duration::days(2)), ("fresh", NOW)] {
        sqlx::query(
            "INSERT INTO order_idempotency_keys (tenant_id, user_id, key, fingerprint, order_id, created_at)
             VALUES ($1, $2, $3, 'fp', $4, $5)",
        )
        .bind(tenant_a().as_uuid())
        .bind(id(7))
        .bind(key)
        .bind(order.id().as_uuid())
        .bind(at)
        .execute(&db.owner)
        .await
        .expect("key");
    }
    for (message, at) in [("m-old", NOW - Duration::days(40)), ("m-fresh", NOW)] {
        sqlx::query(
            "INSERT INTO inbox (tenant_id, consumer, message_id, processed_at) VALUES ($1, 'payments', $2, $3)",
        )
        .bind(tenant_a().as_uuid())
        .bind(message)
        .bind(at)
        .execute(&db.owner)
        .await
        .expect("inbox row");
    }

    let pruned = db
        .store
        .prune_expired(
            today - Duration::days(1),
            NOW - Duration::days(1),
            NOW - Duration::days(30),
            1_000,
        )
        .await
        .expect("pruned");
    assert_eq!(
        (
            pruned.daily_quotas,
            pruned.idempotency_keys,
            pruned.inbox_messages
        ),
        (1, 1, 1)
    );
    let left = |sql: &'static str| {
        let owner = db.owner.clone();
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(&owner)
                .await
                .expect("rows")
        }
    };
    assert_eq!(
        left("SELECT day::text FROM buyer_daily_orders ORDER BY day").await,
        [today.to_string()]
    );
    assert_eq!(
        left("SELECT key FROM order_idempotency_keys").await,
        ["fresh"]
    );
    assert_eq!(left("SELECT message_id FROM inbox").await, ["m-fresh"]);
    // Nothing left to delete: a second pass deletes nothing.
    let again = db
        .store
        .prune_expired(
            today - Duration::days(1),
            NOW - Duration::days(1),
            NOW - Duration::days(30),
            1_000,
        )
        .await
        .expect("pruned");
    assert!(!again.any());
}

#[tokio::test]
async fn carts_past_their_thirty_days_are_deleted_with_their_lines_and_live_ones_stay() {
    use order_domain::cart::{Cart, CartLimits, CartOwner};
    use order_domain::ids::{CartId, CartLineId, ProductId, UserId};
    use order_domain::money::Currency;
    use order_domain::ports::CartRepository;

    let db = fresh_db().await;
    let cart = |n: u128, changed: time::OffsetDateTime| {
        let mut cart = Cart::new(
            CartId::from_uuid(id(n)),
            tenant_a(),
            CartOwner::User(UserId::from_uuid(id(n + 1))),
            Currency::Usd,
            Duration::days(30),
            changed,
        );
        cart.add(
            CartLineId::from_uuid(id(n + 2)),
            ProductId::from_uuid(id(n + 3)),
            Default::default(),
            1,
            1_000,
            Currency::Usd,
            CartLimits {
                max_lines: 50,
                max_quantity: 10,
            },
            Duration::days(30),
            changed,
        )
        .expect("line");
        cart
    };
    db.store
        .save(&cart(100, NOW - Duration::days(31)))
        .await
        .expect("expired cart");
    db.store
        .save(&cart(200, NOW - Duration::days(29)))
        .await
        .expect("live cart");
    assert_eq!(
        db.store
            .prune_expired_carts(NOW, 1_000)
            .await
            .expect("pruned"),
        1
    );
    let carts: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM shopping_carts")
        .fetch_all(&db.owner)
        .await
        .expect("carts");
    assert_eq!(carts, [id(200)]);
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM cart_items")
        .fetch_one(&db.owner)
        .await
        .expect("lines");
    assert_eq!(lines, 1, "the expired cart's line went with it");
}
