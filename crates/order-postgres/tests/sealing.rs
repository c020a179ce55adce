//! Addresses at rest (docs/product/running.md): sealed in the table, opened by the store, across a
//! key rotation.

mod common;

use std::sync::Arc;

use common::*;
use order_domain::ids::*;
use order_domain::money::Currency;
use order_domain::order::{
    Address, ContactEmail, GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind,
    price_items,
};
use order_domain::ports::{OrderFilter, OrderPageRequest, OrderRepository, UnitOfWork};
use order_domain::pricing::FeeSchedule;
use order_postgres::{AddressKeys, PgStore};
use time::Duration;

const OLD_KEY: &str = "old:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NEW_KEY: &str = "new:HxwdHhscGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

fn keys(list: &str) -> Arc<AddressKeys> {
    Arc::new(AddressKeys::parse(list).expect("keys"))
}

fn address(name: &str, street: &str, phone: &str) -> Address {
    Address {
        name: name.into(),
        line1: street.into(),
        line2: Some("Flat 3".into()),
        city: "Springfield".into(),
        region: Some("CA".into()),
        postal_code: "94016".into(),
        country: "US".into(),
        phone: Some(phone.into()),
    }
}

fn goods_order(n: u128) -> Order {
    let items = vec![NewOrderItem {
        id: OrderItemId::from_uuid(id(n * 1_000)),
        product: ItemProduct::Goods {
            product_id: ProductId::from_uuid(id(900)),
            name: "Mug".into(),
            attributes: Default::default(),
        },
        quantity: 2,
        unit_price: 9_999,
    }];
    let priced = price_items(&FeeSchedule::goods(), Currency::Usd, &items).expect("priced");
    let (order, _) = Order::create(NewOrder {
        id: OrderId::from_uuid(id(n)),
        tenant_id: tenant_a(),
        number: OrderNumber::new(NOW.date(), u32::try_from(n).expect("small")),
        user_id: UserId::from_uuid(id(7)),
        kind: OrderKind::Goods,
        event_id: None,
        items,
        priced,
        goods: GoodsDetails {
            shipping_address: Some(address("Ada Lovelace", "12 Analytical Row", "+1 555 0100")),
            billing_address: Some(address(
                "Charles Babbage",
                "1 Difference Lane",
                "+1 555 0199",
            )),
            ..GoodsDetails::default()
        },
        metadata: Default::default(),
        contact_email: order_domain::order::ContactEmail::parse("ada@example.com").ok(),
        expires_at: NOW + Duration::minutes(30),
        now: NOW,
    })
    .expect("created");
    order
}

async fn raw_row(db: &TestDb, order: &Order) -> String {
    sqlx::query_scalar::<_, String>("SELECT to_jsonb(o)::text FROM orders o WHERE id = $1")
        .bind(order.id().as_uuid())
        .fetch_one(&db.owner)
        .await
        .expect("the row, read as the owner")
}

/// The row's columns in clear, and the bytes of each sealed value: a secret must be in neither.
/// (Searching the base64 text itself would find a short secret like `555` by chance, now and
/// then, in a random nonce or ciphertext.)
fn clear_and_sealed(raw: &str) -> (String, Vec<Vec<u8>>) {
    use base64::Engine;
    let mut row: serde_json::Value = serde_json::from_str(raw).expect("json");
    let mut sealed = Vec::new();
    for column in row.as_object_mut().expect("a row").values_mut() {
        let Some(value) = column.as_object_mut() else {
            continue;
        };
        for field in ["nonce", "ciphertext"] {
            if let Some(text) = value.get_mut(field) {
                sealed.push(
                    base64::engine::general_purpose::STANDARD
                        .decode(text.as_str().expect("base64"))
                        .expect("base64"),
                );
                *text = serde_json::Value::Null;
            }
        }
    }
    (row.to_string(), sealed)
}

#[tokio::test]
async fn the_raw_row_holds_no_name_street_or_phone_and_the_store_reads_them_back() {
    let db = fresh_db().await;
    let order = goods_order(1);
    db.store
        .commit(&change(&order, Vec::new(), 10_000))
        .await
        .expect("commit");
    let raw = raw_row(&db, &order).await;
    let (clear, sealed) = clear_and_sealed(&raw);
    assert_eq!(
        sealed.len(),
        6,
        "two addresses and the e-mail, each a nonce and a ciphertext"
    );
    for secret in [
        "Ada",
        "Lovelace",
        "Analytical",
        "Babbage",
        "Difference",
        "555",
        "Flat 3",
    ] {
        assert!(!clear.contains(secret), "{secret:?} is readable in {clear}");
        assert!(
            sealed
                .iter()
                .all(|bytes| !bytes.windows(secret.len()).any(|w| w == secret.as_bytes())),
            "{secret:?} is inside a sealed value in clear"
        );
    }
    assert!(
        raw.contains("\"kid\": \"test\""),
        "the key id is kept: {raw}"
    );
    let stored = db
        .store
        .find(tenant_a(), order.id())
        .await
        .expect("read")
        .expect("found");
    assert_eq!(stored.record().goods, order.record().goods);
}

#[tokio::test]
async fn an_order_sealed_under_the_old_key_reads_after_a_rotation_and_new_orders_use_the_new_key() {
    let db = fresh_db().await;
    let before = PgStore::from_pool(db.app.clone(), keys(OLD_KEY));
    let old_order = goods_order(1);
    before
        .commit(&change(&old_order, Vec::new(), 10_000))
        .await
        .expect("commit");

    let rotated = PgStore::from_pool(db.app.clone(), keys(&format!("{NEW_KEY},{OLD_KEY}")));
    let read = rotated
        .find(tenant_a(), old_order.id())
        .await
        .expect("read")
        .expect("found");
    assert_eq!(read.record().goods, old_order.record().goods);
    let new_order = goods_order(2);
    rotated
        .commit(&change(&new_order, Vec::new(), 20_000))
        .await
        .expect("commit");
    assert!(raw_row(&db, &new_order).await.contains("\"kid\": \"new\""));

    let old_key_dropped = PgStore::from_pool(db.app.clone(), keys(NEW_KEY));
    assert!(
        old_key_dropped
            .find(tenant_a(), old_order.id())
            .await
            .is_err(),
        "an address under a key that is no longer configured is an error, not a blank"
    );
}

fn by_email(address: &str) -> OrderFilter {
    OrderFilter {
        contact_email: Some(ContactEmail::parse(address).expect("an e-mail")),
        ..OrderFilter::default()
    }
}

async fn found_by_email(store: &PgStore, address: &str) -> Vec<OrderId> {
    let page = OrderPageRequest {
        limit: 10,
        offset: 0,
        after: None,
    };
    store
        .list(tenant_a(), &by_email(address), page)
        .await
        .expect("list")
        .orders
        .iter()
        .map(Order::id)
        .collect()
}

#[tokio::test]
async fn an_order_is_found_by_a_keyed_hash_of_its_e_mail_across_a_key_rotation() {
    let db = fresh_db().await;
    let before = PgStore::from_pool(db.app.clone(), keys(OLD_KEY));
    let old_order = goods_order(1);
    before
        .commit(&change(&old_order, Vec::new(), 10_000))
        .await
        .expect("commit");
    let index: Vec<u8> = sqlx::query_scalar("SELECT contact_email_index FROM orders WHERE id = $1")
        .bind(old_order.id().as_uuid())
        .fetch_one(&db.owner)
        .await
        .expect("the index");
    let unkeyed = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"ada@example.com");
    assert_eq!(index.len(), 32);
    assert_ne!(
        index,
        unkeyed.as_ref(),
        "the hash is keyed, not the address's bare hash"
    );
    assert_eq!(
        found_by_email(&before, "ADA@Example.com").await,
        [old_order.id()]
    );

    let rotated = PgStore::from_pool(db.app.clone(), keys(&format!("{NEW_KEY},{OLD_KEY}")));
    let new_order = goods_order(2);
    rotated
        .commit(&change(&new_order, Vec::new(), 20_000))
        .await
        .expect("commit");
    assert_eq!(
        found_by_email(&rotated, "ada@example.com").await,
        [new_order.id(), old_order.id()],
        "indexed under either key, both are found"
    );
    assert!(found_by_email(&rotated, "bob@example.com").await.is_empty());
}

#[tokio::test]
async fn orders_sealed_before_the_index_are_indexed_once_by_the_backfill() {
    let db = fresh_db().await;
    let orders = [goods_order(1), goods_order(2)];
    for (order, seed) in orders.iter().zip([10_000, 20_000]) {
        db.store
            .commit(&change(order, Vec::new(), seed))
            .await
            .expect("commit");
    }
    // As a deployment migrated from before the index has them.
    sqlx::query("UPDATE orders SET contact_email_index = NULL")
        .execute(&db.owner)
        .await
        .expect("unindexed");
    assert!(
        found_by_email(&db.store, "ada@example.com")
            .await
            .is_empty()
    );

    let mut reported = Vec::new();
    let indexed = order_postgres::index_contact_emails(
        &db.owner,
        &order_postgres::setup::testing::address_keys(),
        |n| reported.push(n),
    )
    .await
    .expect("backfill");
    assert_eq!((indexed, reported), (2, vec![2]));
    assert_eq!(found_by_email(&db.store, "ada@example.com").await.len(), 2);
    let again = order_postgres::index_contact_emails(
        &db.owner,
        &order_postgres::setup::testing::address_keys(),
        |_| {},
    )
    .await
    .expect("backfill");
    assert_eq!(again, 0, "a second run finds nothing to index");
}

#[tokio::test]
async fn an_index_cannot_outlive_its_e_mail() {
    let db = fresh_db().await;
    let order = goods_order(1);
    db.store
        .commit(&change(&order, Vec::new(), 10_000))
        .await
        .expect("commit");
    let refused = sqlx::query("UPDATE orders SET contact_email = NULL WHERE id = $1")
        .bind(order.id().as_uuid())
        .execute(&db.owner)
        .await;
    assert!(
        refused.is_err(),
        "erasing the address alone would leave who ordered findable"
    );
}
