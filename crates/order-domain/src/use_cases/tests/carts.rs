//! Carts: prices from the catalog, lines that add up, retries after a concurrent change, the
//! preview, and the merge of a session's cart at login.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use time::Duration;

use super::*;
use crate::cart::{Cart, CartOwner};
use crate::ids::{CartId, ProductId, SessionId};
use crate::money::Money;
use crate::use_cases::{CartAddition, CartPreview, CartScope, UseCaseError};

fn tee() -> ProductId {
    ProductId::from_uuid(uuid(500))
}

fn product(active: bool) -> Product {
    Product {
        id: tee(),
        sku: "TEE-1".into(),
        name: "T-shirt".into(),
        image_url: None,
        price: Money::new(2_000, Currency::Usd),
        active,
        variants: vec![ProductVariant {
            attributes: size("XL"),
            price: Money::new(2_500, Currency::Usd),
        }],
    }
}

fn size(s: &str) -> BTreeMap<String, String> {
    [("size".to_owned(), s.to_owned())].into()
}

fn buyer() -> CartScope {
    CartScope {
        tenant_id: tenant(),
        owner: CartOwner::User(owner()),
    }
}

fn session() -> SessionId {
    SessionId::new("session-0123456789abcdef")
}

/// A cart store in memory: `find_by_owner` answers what `save` stored, `save` checks versions.
fn storing(h: &mut Harness, carts: Arc<Mutex<Vec<Cart>>>, conflicts_first: usize) {
    let found = carts.clone();
    h.carts.expect_find_by_owner().returning(move |_, owner| {
        Ok(found
            .lock()
            .expect("carts")
            .iter()
            .find(|c| c.owner() == owner)
            .cloned())
    });
    let failures = Arc::new(Mutex::new(conflicts_first));
    let saved = carts.clone();
    h.carts.expect_save().returning(move |cart| {
        let mut left = failures.lock().expect("failures");
        if *left > 0 {
            *left -= 1;
            return Err(RepositoryError::Conflict { expected: 0 });
        }
        let mut all = saved.lock().expect("carts");
        all.retain(|c| c.id() != cart.id());
        let mut stored = cart.clone();
        stored.mark_committed();
        all.push(stored);
        Ok(())
    });
    let merged = carts;
    h.carts
        .expect_save_merged()
        .returning(move |cart, absorbed| {
            let mut all = merged.lock().expect("carts");
            all.retain(|c| c.id() != cart.id() && c.id() != absorbed);
            let mut stored = cart.clone();
            stored.mark_committed();
            all.push(stored);
            Ok(())
        });
}

fn selling(h: &mut Harness, active: bool, free: u32) {
    h.products
        .expect_products()
        .returning(move |_, _| Ok(vec![product(active)]));
    h.inventory
        .expect_availability()
        .returning(move |_, lines| {
            Ok(lines
                .iter()
                .map(|l| Availability {
                    product_id: l.product_id,
                    available: free,
                    in_stock: free >= l.quantity,
                })
                .collect())
        });
    h.promotions
        .expect_active_promotions()
        .returning(|_, _| Ok(Vec::new()));
}

#[tokio::test]
async fn lines_are_priced_by_the_catalog_and_the_same_product_and_attributes_add_up() {
    let mut h = Harness::new();
    let carts = Arc::new(Mutex::new(Vec::new()));
    storing(&mut h, carts.clone(), 0);
    selling(&mut h, true, 3);
    let (service, _) = h.build();
    let preview = CartPreview::default();
    let first = service
        .add_to_cart(&buyer(), tee(), size("XL"), 1, &preview)
        .await
        .expect("added");
    assert!(first.started, "the first line starts the cart");
    let CartAddition {
        view,
        line: again,
        started,
    } = service
        .add_to_cart(&buyer(), tee(), size("XL"), 2, &preview)
        .await
        .expect("added again");
    assert!(!started, "the cart had a line already");
    assert_eq!(
        first.line, again,
        "one line for the same product and attributes"
    );
    assert_eq!(view.lines.len(), 1);
    let line = &view.lines[0];
    assert_eq!(
        (line.line.quantity, line.unit_price),
        (3, 2_500),
        "the XL variant's price"
    );
    assert_eq!((line.in_stock, line.max_quantity), (true, 3));
    let view = service
        .add_to_cart(&buyer(), tee(), size("M"), 1, &preview)
        .await
        .expect("another size")
        .view;
    assert_eq!(view.lines.len(), 2, "another attribute set is another line");
    assert_eq!(view.totals.subtotal, 3 * 2_500 + 2_000);
    assert_eq!(view.totals.tax, 0, "no destination, no tax in the preview");
    assert_eq!(carts.lock().expect("carts").len(), 1);
}

#[tokio::test]
async fn a_change_that_meets_a_concurrent_one_is_applied_again() {
    let mut h = Harness::new();
    let carts = Arc::new(Mutex::new(Vec::new()));
    storing(&mut h, carts.clone(), 2);
    selling(&mut h, true, 10);
    let (service, _) = h.build();
    let view = service
        .add_to_cart(&buyer(), tee(), BTreeMap::new(), 2, &CartPreview::default())
        .await
        .expect("added after two conflicts")
        .view;
    assert_eq!(view.lines[0].line.quantity, 2);
}

#[tokio::test]
async fn a_product_that_is_not_sold_cannot_be_added() {
    let mut h = Harness::new();
    selling(&mut h, false, 10);
    let (service, _) = h.build();
    let result = service
        .add_to_cart(&buyer(), tee(), BTreeMap::new(), 1, &CartPreview::default())
        .await;
    let Err(UseCaseError::Validation(violations)) = result else {
        panic!("a field error, got {result:?}");
    };
    assert_eq!(violations.0[0].path, "productId");
}

#[tokio::test]
async fn the_preview_taxes_the_destination_and_ships_by_the_chosen_method() {
    let mut h = Harness::new();
    let carts = Arc::new(Mutex::new(Vec::new()));
    storing(&mut h, carts, 0);
    selling(&mut h, true, 10);
    let (service, _) = h.build();
    service
        .add_to_cart(&buyer(), tee(), BTreeMap::new(), 1, &CartPreview::default())
        .await
        .expect("added");
    let preview = CartPreview {
        country: Some("US".into()),
        region: Some("CA".into()),
        shipping_method: Some("express".into()),
        promo_code: None,
    };
    let view = service.view_cart(&buyer(), &preview).await.expect("view");
    // 2 000 + express 1 499, taxed with shipping at California's 8.715 %: 304.8 → 305.
    assert_eq!((view.totals.shipping, view.totals.tax), (1_499, 305));
    assert_eq!(view.total, 2_000 + 1_499 + 305);
}

#[tokio::test]
async fn an_empty_cart_costs_nothing() {
    let mut h = Harness::new();
    storing(&mut h, Arc::new(Mutex::new(Vec::new())), 0);
    selling(&mut h, true, 10);
    let (service, _) = h.build();
    let view = service
        .view_cart(&buyer(), &CartPreview::default())
        .await
        .expect("view");
    assert!(view.lines.is_empty());
    assert_eq!((view.totals.shipping, view.total), (0, 0));
}

#[tokio::test]
async fn a_session_cart_is_merged_into_the_buyers_and_is_gone_after() {
    let mut h = Harness::new();
    let mut anonymous = Cart::new(
        CartId::from_uuid(uuid(700)),
        tenant(),
        CartOwner::Session(session()),
        Currency::Usd,
        Duration::days(30),
        T0,
    );
    anonymous
        .add(
            crate::ids::CartLineId::from_uuid(uuid(701)),
            tee(),
            BTreeMap::new(),
            2,
            2_000,
            Currency::Usd,
            crate::cart::CartLimits {
                max_lines: 50,
                max_quantity: 10,
            },
            Duration::days(30),
            T0,
        )
        .expect("line");
    anonymous.mark_committed();
    let carts = Arc::new(Mutex::new(vec![anonymous]));
    storing(&mut h, carts.clone(), 0);
    selling(&mut h, true, 10);
    let (service, _) = h.build();
    let (view, report) = service
        .merge_carts(&customer(), session(), &CartPreview::default())
        .await
        .expect("merged");
    assert_eq!(report.added, vec![tee()]);
    assert_eq!(view.lines[0].line.quantity, 2);
    let stored = carts.lock().expect("carts").clone();
    assert_eq!(stored.len(), 1, "the session's cart is gone");
    assert_eq!(stored[0].owner(), &CartOwner::User(owner()));
    let (_, again) = service
        .merge_carts(&customer(), session(), &CartPreview::default())
        .await
        .expect("merging again");
    assert_eq!(
        again,
        crate::cart::MergeReport::default(),
        "nothing left to merge"
    );
}
