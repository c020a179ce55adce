//! Contracts of carts, merges, checkout and the outbox relay's leases.

use std::collections::BTreeMap;

use time::Duration;

use super::Storage;
use super::fixtures::*;
use crate::cart::{Cart, CartLimits, CartOwner};
use crate::ids::{CartId, CartLineId, ProductId, SessionId};
use crate::money::Currency;
use crate::ports::RepositoryError;

const LIMITS: CartLimits = CartLimits {
    max_lines: 50,
    max_quantity: 10,
};
const TTL: Duration = Duration::days(30);

fn cart(n: u128, owner: &CartOwner) -> Cart {
    Cart::new(
        CartId::from_uuid(id(n)),
        tenant_a(),
        owner.clone(),
        Currency::Usd,
        TTL,
        NOW,
    )
}

fn add_line(cart: &mut Cart, n: u128, quantity: u32) {
    cart.add(
        CartLineId::from_uuid(id(n)),
        ProductId::from_uuid(id(n + 1)),
        BTreeMap::from([("size".to_owned(), "M".to_owned())]),
        quantity,
        1_999,
        Currency::Usd,
        LIMITS,
        TTL,
        NOW,
    )
    .expect("the line fits the cart");
}

/// A cart reads back as saved, in its tenant only; a save from a stale version conflicts and
/// writes nothing; a second cart for one owner conflicts; a deleted cart is gone.
pub async fn carts_round_trip_and_stale_saves_conflict(store: &impl Storage) {
    let owner = CartOwner::Session(SessionId::new("sess-42"));
    let mut saved = cart(70, &owner);
    add_line(&mut saved, 71, 2);
    store.save(&saved).await.expect("insert");
    saved.mark_committed();
    let loaded = store
        .find_by_owner(tenant_a(), &owner)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(loaded, saved);
    assert_eq!(
        store.find_by_owner(tenant_b(), &owner).await.expect("find"),
        None
    );
    assert_eq!(
        store.save(&cart(75, &owner)).await,
        Err(RepositoryError::Conflict { expected: 0 }),
        "one cart per owner"
    );

    let mut stale = loaded.clone();
    saved
        .set_quantity(CartLineId::from_uuid(id(71)), 5, LIMITS, TTL, NOW)
        .expect("quantity");
    store.save(&saved).await.expect("update");
    stale.clear(TTL, NOW);
    assert_eq!(
        store.save(&stale).await,
        Err(RepositoryError::Conflict { expected: 1 })
    );
    let loaded = store
        .find_by_owner(tenant_a(), &owner)
        .await
        .expect("find")
        .expect("present");
    assert_eq!(loaded.lines()[0].quantity, 5);
    assert_eq!(loaded.version(), 2);
    store.delete(tenant_b(), saved.id()).await.expect("delete");
    assert!(
        store
            .find_by_owner(tenant_a(), &owner)
            .await
            .expect("find")
            .is_some(),
        "another tenant cannot delete it"
    );
    store.delete(tenant_a(), saved.id()).await.expect("delete");
    assert_eq!(
        store.find_by_owner(tenant_a(), &owner).await.expect("find"),
        None
    );
}

/// A merge stores the buyer's cart and deletes the session's together; merging the same
/// session cart again (a concurrent request) conflicts and adds nothing twice.
pub async fn a_merge_applies_once_and_a_stale_one_writes_nothing(store: &impl Storage) {
    let session = CartOwner::Session(SessionId::new("session-0123456789abcdef"));
    let buyer = CartOwner::User(user(8));
    let mut anonymous = cart(900, &session);
    add_line(&mut anonymous, 901, 2);
    store.save(&anonymous).await.expect("session cart");
    anonymous.mark_committed();
    let mut merged = cart(910, &buyer);
    merged
        .merge(
            &anonymous,
            || CartLineId::from_uuid(id(911)),
            LIMITS,
            TTL,
            NOW,
        )
        .expect("merge");
    store
        .save_merged(&merged, anonymous.id())
        .await
        .expect("merged");
    assert_eq!(
        store
            .find_by_owner(tenant_a(), &session)
            .await
            .expect("find"),
        None,
        "the session's cart is gone"
    );
    let stored = store
        .find_by_owner(tenant_a(), &buyer)
        .await
        .expect("find")
        .expect("the buyer's cart");
    assert_eq!(stored.lines()[0].quantity, 2);

    let mut again = stored.clone();
    again
        .merge(
            &anonymous,
            || CartLineId::from_uuid(id(912)),
            LIMITS,
            TTL,
            NOW,
        )
        .expect("merge");
    assert!(matches!(
        store.save_merged(&again, anonymous.id()).await,
        Err(RepositoryError::Conflict { .. })
    ));
    let unchanged = store
        .find_by_owner(tenant_a(), &buyer)
        .await
        .expect("find")
        .expect("the buyer's cart");
    assert_eq!(
        unchanged.lines()[0].quantity,
        2,
        "the lines were not added twice"
    );

    // A merge into a stale buyer's cart keeps the session's cart.
    let second_session = CartOwner::Session(SessionId::new("session-fedcba9876543210"));
    let mut other = cart(920, &second_session);
    add_line(&mut other, 921, 1);
    store.save(&other).await.expect("second session cart");
    other.mark_committed();
    let mut stale = stored.clone();
    stale
        .merge(&other, || CartLineId::from_uuid(id(922)), LIMITS, TTL, NOW)
        .expect("merge");
    let mut newer = stored.clone();
    add_line(&mut newer, 930, 1);
    store
        .save(&newer)
        .await
        .expect("the buyer changed the cart meanwhile");
    assert!(matches!(
        store.save_merged(&stale, other.id()).await,
        Err(RepositoryError::Conflict { .. })
    ));
    assert!(
        store
            .find_by_owner(tenant_a(), &second_session)
            .await
            .expect("find")
            .is_some(),
        "a refused merge deletes nothing"
    );
}

/// The order created from a cart empties it in the same commit; a cart changed since it was
/// priced refuses the order.
pub async fn checkout_empties_the_cart_with_the_order_and_only_at_its_version(
    store: &impl Storage,
) {
    let owner = CartOwner::User(user(7));
    let mut saved = cart(80, &owner);
    add_line(&mut saved, 81, 1);
    store.save(&saved).await.expect("insert");
    saved.mark_committed();

    let stale_order = OrderFixture::new(89).build();
    let mut stale = change(&stale_order, Vec::new(), 89_000);
    stale.consumed_cart = Some((saved.id(), saved.version() + 1));
    assert_eq!(
        store.commit(&stale).await,
        Err(RepositoryError::Conflict { expected: 0 })
    );
    assert_eq!(
        store
            .find(tenant_a(), stale_order.id())
            .await
            .expect("find"),
        None
    );

    let order = OrderFixture::new(90).build();
    let mut checkout = change(&order, Vec::new(), 90_000);
    checkout.consumed_cart = Some((saved.id(), saved.version()));
    store.commit(&checkout).await.expect("checkout");
    let emptied = store
        .find_by_owner(tenant_a(), &owner)
        .await
        .expect("find")
        .expect("the cart stays, empty");
    assert!(emptied.lines().is_empty());
    assert_eq!(emptied.version(), saved.version() + 1);
    assert!(
        store
            .find(tenant_a(), order.id())
            .await
            .expect("find")
            .is_some()
    );
}

/// A relay leases rows in position order; another relay skips them and never takes a later
/// event of an order whose earlier one is leased; published rows are not claimed again.
pub async fn relays_lease_outbox_rows_in_order_and_never_overtake_an_order(store: &impl Storage) {
    let x = store_reserved(store, OrderFixture::new(40).build(), 40_000).await;
    store_confirmed(store, x.clone(), 40_500).await;
    let y = store_reserved(
        store,
        OrderFixture::new(41).tenant(tenant_b()).build(),
        41_000,
    )
    .await;
    let lease = Duration::seconds(30);

    let a = store.claim_unpublished(1, lease).await.expect("claim");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].envelope.order_id, x.id());
    assert_eq!(a[0].envelope.event_type(), "order.reserved");
    let b = store.claim_unpublished(10, lease).await.expect("claim");
    assert_eq!(
        b.iter().map(|r| r.envelope.order_id).collect::<Vec<_>>(),
        vec![y.id()],
        "x's second event waits for its first"
    );
    store
        .mark_published(&[a[0].envelope.id])
        .await
        .expect("published");
    let next = store.claim_unpublished(10, lease).await.expect("claim");
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].envelope.event_type(), "order.confirmed");
    assert!(
        next[0].position > a[0].position,
        "positions follow the commits"
    );
    store
        .mark_published(&[next[0].envelope.id, b[0].envelope.id])
        .await
        .expect("published");
    assert!(
        store
            .claim_unpublished(10, lease)
            .await
            .expect("claim")
            .is_empty()
    );
}
