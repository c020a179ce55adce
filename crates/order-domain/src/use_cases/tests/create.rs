//! The creation sagas: success, every validation failure, and each compensation step.

use std::collections::BTreeMap;

use mockall::predicate::eq;
use time::Duration;

use super::*;
use crate::cart::{Cart, CartOwner};
use crate::ids::{CartId, CartLineId, ProductId, TicketPricingId, TicketTypeId};
use crate::money::Money;
use crate::order::Address;
use crate::pricing::goods::{DiscountRule, PromoCode, PromoCodeError, Promotion};
use crate::use_cases::{CreateGoodsOrder, CreateTicketOrder, TicketItemRequest, UseCaseError};

fn ticket_type() -> TicketTypeId {
    TicketTypeId::from_uuid(uuid(20))
}
fn ticket_pricing() -> TicketPricingId {
    TicketPricingId::from_uuid(uuid(21))
}

pub(super) fn two_tickets() -> CreateTicketOrder {
    CreateTicketOrder {
        event_id: event_id(),
        items: vec![TicketItemRequest {
            ticket_type_id: ticket_type(),
            ticket_pricing_id: ticket_pricing(),
            quantity: 2,
        }],
        currency: None,
        idempotency: None,
        metadata: Default::default(),
        contact_email: crate::order::ContactEmail::parse("buyer@example.com").ok(),
    }
}

/// A harness where the event is on sale, the user has no orders yet, and tickets cost `price`
/// with `available` left.
pub(super) fn ticket_harness(price: i64, available: u32) -> Harness {
    let mut h = Harness::new().with_event(Duration::days(10), EventStatus::Scheduled);
    h.tickets.expect_prices().returning(move |_, _, lines| {
        Ok(lines
            .iter()
            .map(|l| TicketPrice {
                ticket_type_id: l.ticket_type_id,
                ticket_pricing_id: l.ticket_pricing_id,
                price: Money::new(price, Currency::Usd),
                available,
            })
            .collect())
    });
    h
}

pub(super) fn holding(h: &mut Harness) {
    h.tickets
        .expect_hold()
        .times(1)
        .returning(|_, _, _, _, expires_at| {
            Ok(Hold {
                hold_id: HoldId::new("hold-9"),
                expires_at,
            })
        });
}

pub(super) fn creating_intent(h: &mut Harness) {
    h.payments
        .expect_create_intent()
        .times(1)
        .returning(|_, _, _, _, _| {
            Ok(PaymentIntent {
                id: PaymentIntentId::new("pi-9"),
                client_secret: Some("secret".into()),
            })
        });
}

#[tokio::test]
async fn a_ticket_order_is_priced_held_paid_for_and_stored_in_one_change() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let h = h.committing();
    let (service, commits) = h.build();

    let created = service
        .create_ticket_order(&customer(), two_tickets())
        .await
        .expect("created");

    let order = &created.order;
    assert_eq!(order.status(), OrderStatus::Reserved);
    let p = order.pricing();
    // docs/product/pricing.md worked example: 20 000 → 1 000, 639, 1 731, total 23 370.
    assert_eq!(
        (
            p.subtotal().minor(),
            p.platform_fee().minor(),
            p.processing_fee().minor(),
            p.tax().minor(),
            p.total().minor()
        ),
        (20_000, 1_000, 639, 1_731, 23_370)
    );
    assert_eq!(
        order.payment_intent_id(),
        Some(&PaymentIntentId::new("pi-9"))
    );
    assert_eq!(order.hold_id(), Some(&HoldId::new("hold-9")));
    assert_eq!(order.expires_at(), T0 + Duration::minutes(15));
    assert_eq!(created.client_secret.as_deref(), Some("secret"));
    assert_eq!(order.version(), 1);
    let commits = commits.lock().expect("lock");
    assert_eq!(commits.len(), 1);
    assert_eq!(
        event_names(&commits[0]),
        ["order.created", "order.reserved"]
    );
    assert_eq!(
        audit_names(&commits[0]),
        ["order.created", "order.reserved"]
    );
    assert_eq!(commits[0].audit[0].ip, customer().ip);
    assert_eq!(
        (
            commits[0].audit[0].from_status,
            commits[0].audit[0].to_status
        ),
        (None, Some(OrderStatus::Pending))
    );
    assert_eq!(
        (
            commits[0].audit[1].from_status,
            commits[0].audit[1].to_status
        ),
        (Some(OrderStatus::Pending), Some(OrderStatus::Reserved))
    );
    assert_eq!(commits[0].order.version(), 0, "a new order is inserted");
    assert_eq!(
        commits[0].order.contact_email().map(|e| e.as_str()),
        Some("buyer@example.com"),
        "notifications reach the address the token named"
    );
}

#[tokio::test]
async fn vip_buyers_get_the_longer_reservation() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let (service, _) = h.committing().build();
    let mut vip = customer();
    vip.actor = Actor::User {
        id: owner(),
        roles: vec![Role::Customer],
        vip: true,
    };
    let created = service
        .create_ticket_order(&vip, two_tickets())
        .await
        .expect("created");
    assert_eq!(created.order.expires_at(), T0 + Duration::minutes(30));
}

#[tokio::test]
async fn invalid_quantities_are_reported_per_field_before_any_call() {
    let (service, _) = Harness::new().build();
    let mut request = two_tickets();
    request.items.push(TicketItemRequest {
        quantity: 0,
        ..request.items[0]
    });
    request.items.push(TicketItemRequest {
        quantity: 11,
        ..request.items[0]
    });
    let Err(UseCaseError::Validation(v)) = service.create_ticket_order(&customer(), request).await
    else {
        panic!("validation error expected");
    };
    let paths: Vec<_> = v.0.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["items[1].quantity", "items[2].quantity"]);
}

#[tokio::test]
async fn an_event_that_is_not_on_sale_is_a_field_error() {
    let (service, _) = Harness::new()
        .with_event(Duration::days(1), EventStatus::Cancelled)
        .build();
    let Err(UseCaseError::Validation(v)) = service
        .create_ticket_order(&customer(), two_tickets())
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(v.0[0].path, "eventId");
    assert_eq!(v.0[0].code, "not_on_sale");
}

/// The commit refuses the order because `quota` is used up.
fn over_quota(h: &mut Harness, quota: crate::policy::QuotaExceeded) {
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(move |_| Err(RepositoryError::QuotaExceeded(quota)));
    h.payments
        .expect_cancel_intent()
        .with(eq(PaymentIntentId::new("pi-9")))
        .times(1)
        .returning(|_| Ok(()));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-9")))
        .times(1)
        .returning(|_| Ok(()));
}

#[tokio::test]
async fn the_daily_order_quota_is_decided_by_the_commit_and_undoes_the_saga() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let quota = crate::policy::QuotaExceeded::OrdersPerDay { limit: 20 };
    over_quota(&mut h, quota);
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert_eq!(result, Err(UseCaseError::Quota(quota)));
}

#[tokio::test]
async fn a_ticket_order_claims_its_places_in_both_quotas_with_its_commit() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let (service, commits) = h.committing().build();
    service
        .create_ticket_order(&customer(), two_tickets())
        .await
        .expect("created");
    let commits = commits.lock().expect("lock");
    assert_eq!(
        commits[0].quota,
        Some(QuotaClaim {
            day: T0.date(),
            max_orders_per_day: 20,
            active_for_event: Some((event_id(), 5)),
        })
    );
}

#[tokio::test]
async fn too_few_tickets_left_is_sold_out_without_a_hold() {
    let (service, _) = ticket_harness(10_000, 1).build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::SoldOut {
            ticket_type_id: ticket_type(),
            available: 1
        })
    );
}

#[tokio::test]
async fn an_order_below_the_minimum_value_is_refused() {
    let (service, _) = ticket_harness(10, 100).build();
    let Err(UseCaseError::Validation(v)) = service
        .create_ticket_order(&customer(), two_tickets())
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(
        (v.0[0].path.as_str(), v.0[0].code.as_str()),
        ("total", "below_minimum")
    );
}

#[tokio::test]
async fn when_the_hold_fails_nothing_is_charged_or_persisted() {
    let mut h = ticket_harness(10_000, 100);
    h.tickets.expect_hold().times(1).returning(|_, _, _, _, _| {
        Err(HoldError::SoldOut {
            ticket_type_id: TicketTypeId::from_uuid(uuid(20)),
            available: 0,
        })
    });
    // No payment or unit-of-work expectations: calling them would panic.
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::SoldOut { available: 0, .. })
    ));
}

#[tokio::test]
async fn when_the_payment_intent_fails_the_hold_is_released() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    h.payments
        .expect_create_intent()
        .times(1)
        .returning(|_, _, _, _, _| Err(PaymentError::Declined("card".into())));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-9")))
        .times(1)
        .returning(|_| Ok(()));
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert_eq!(result, Err(UseCaseError::PaymentDeclined("card".into())));
}

#[tokio::test]
async fn a_compensation_that_fails_is_reported_with_the_order_and_its_cause() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(RepositoryError::Unavailable("db down".into())));
    h.payments.expect_cancel_intent().times(1).returning(|_| {
        Err(PaymentError::Upstream(UpstreamError::Unavailable {
            service: "payment",
            cause: "connection refused".into(),
        }))
    });
    h.tickets.expect_release().times(1).returning(|_| Ok(()));
    let incidents = h.incidents.clone();
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert!(result.is_err(), "the creation failed");
    let reported = incidents.recorded();
    assert_eq!(reported.len(), 1, "{reported:?}");
    let (orders, action, cause) = &reported[0];
    assert_eq!(orders.len(), 1, "the failed order is named");
    assert_eq!(*action, "cancel the payment intent of a failed creation");
    assert!(cause.contains("connection refused"), "{cause}");
}

#[tokio::test]
async fn when_persisting_fails_the_intent_is_cancelled_and_the_hold_released() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(RepositoryError::Unavailable("db down".into())));
    h.payments
        .expect_cancel_intent()
        .with(eq(PaymentIntentId::new("pi-9")))
        .times(1)
        .returning(|_| Ok(()));
    h.tickets
        .expect_release()
        .with(eq(HoldId::new("hold-9")))
        .times(1)
        .returning(|_| Ok(()));
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::Storage(RepositoryError::Unavailable(
            "db down".into()
        )))
    );
}

#[tokio::test]
async fn services_cannot_place_orders_for_nobody() {
    let (service, _) = Harness::new().build();
    assert_eq!(
        service
            .create_ticket_order(&service_caller(), two_tickets())
            .await,
        Err(UseCaseError::Forbidden)
    );
}

// ---------------------------------------------------------------------------------------------
// Goods
// ---------------------------------------------------------------------------------------------

fn product(n: u128) -> ProductId {
    ProductId::from_uuid(uuid(400 + n))
}

fn address() -> Address {
    Address {
        name: "Ada".into(),
        line1: "1 Main St".into(),
        line2: None,
        city: "Springfield".into(),
        region: Some("CA".into()),
        postal_code: "90000".into(),
        country: "US".into(),
        phone: None,
    }
}

fn checkout(promo: Option<&str>) -> CreateGoodsOrder {
    CreateGoodsOrder {
        shipping_address: address(),
        billing_address: None,
        shipping_method: Some("standard".into()),
        promo_code: promo.map(str::to_owned),
        notes: Some("leave at the door".into()),
        payment_method: Some("card".into()),
        idempotency: None,
        contact_email: None,
    }
}

fn user_cart() -> Cart {
    let limits = crate::cart::CartLimits {
        max_lines: 50,
        max_quantity: 10,
    };
    let mut cart = Cart::new(
        CartId::from_uuid(uuid(60)),
        tenant(),
        CartOwner::User(owner()),
        Currency::Usd,
        Duration::days(30),
        T0,
    );
    for (n, quantity) in [(1u128, 2u32), (2, 1)] {
        cart.add(
            CartLineId::from_uuid(uuid(70 + n)),
            product(n),
            BTreeMap::new(),
            quantity,
            1,
            Currency::Usd,
            limits,
            Duration::days(30),
            T0,
        )
        .expect("added");
    }
    cart.mark_committed();
    cart
}

/// A harness with the user's cart (2 × 1 500 and 1 × 500), both products active.
fn goods_harness(second_active: bool) -> Harness {
    let mut h = Harness::new();
    h.carts
        .expect_find_by_owner()
        .returning(|_, _| Ok(Some(user_cart())));
    h.products.expect_products().returning(move |_, _| {
        Ok(vec![
            Product {
                id: product(1),
                sku: "MUG-1".into(),
                name: "mug".into(),
                image_url: None,
                price: Money::new(1_500, Currency::Usd),
                active: true,
                variants: Vec::new(),
            },
            Product {
                id: product(2),
                sku: "TEA-1".into(),
                name: "tea".into(),
                image_url: None,
                price: Money::new(500, Currency::Usd),
                active: second_active,
                variants: Vec::new(),
            },
        ])
    });
    h.promotions.expect_active_promotions().returning(|_, _| {
        Ok(vec![Promotion {
            name: "autumn".into(),
            rule: DiscountRule::Fixed(300),
            min_subtotal: 2_000,
            starts_at: None,
            ends_at: None,
        }])
    });
    h
}

fn reserving_stock(h: &mut Harness) {
    h.inventory
        .expect_reserve()
        .times(1)
        .returning(|_, _, _, expires_at| {
            Ok(Hold {
                hold_id: HoldId::new("stock-1"),
                expires_at,
            })
        });
}

fn save10() -> PromoCode {
    PromoCode {
        code: "SAVE10".into(),
        rule: DiscountRule::Percentage(crate::money::Rate::from_basis_points(1_000)),
        min_subtotal: 0,
        valid_from: T0 - Duration::days(1),
        valid_until: None,
        usage_limit: None,
        times_used: 0,
        per_user_limit: Some(1),
    }
}

#[tokio::test]
async fn a_goods_order_is_priced_from_the_catalog_and_empties_the_cart() {
    let mut h = goods_harness(true);
    h.promotions
        .expect_find_code()
        .with(eq(tenant()), eq("SAVE10"), eq(owner()))
        .returning(|_, _, _| Ok(Some((save10(), 0))));
    reserving_stock(&mut h);
    creating_intent(&mut h);
    let (service, commits) = h.committing().build();

    let created = service
        .create_goods_order(&customer(), checkout(Some(" save10 ")))
        .await
        .expect("created");

    let p = created.order.pricing();
    // subtotal 3 500; discount 300 + 350; net 2 850 < 5 000 → shipping 599; California's
    // 8.715 % of 3 449 = 300.58 → 301.
    assert_eq!(
        (
            p.subtotal().minor(),
            p.discount().minor(),
            p.shipping().minor(),
            p.tax().minor()
        ),
        (3_500, 650, 599, 301)
    );
    assert_eq!(p.total().minor(), 2_850 + 599 + 301);
    assert_eq!(created.order.status(), OrderStatus::Reserved);
    assert_eq!(created.order.expires_at(), T0 + Duration::minutes(30));
    assert_eq!(created.order.goods().billing_address, Some(address()));
    let commits = commits.lock().expect("lock");
    assert_eq!(
        commits[0].consumed_cart,
        Some((CartId::from_uuid(uuid(60)), 1))
    );
    assert_eq!(
        commits[0].promo_redemption,
        Some(PromoRedemption {
            code: "SAVE10".into(),
            user_id: owner()
        })
    );
}

#[tokio::test]
async fn an_empty_or_missing_cart_cannot_be_checked_out() {
    let mut h = Harness::new();
    h.carts.expect_find_by_owner().returning(|_, _| Ok(None));
    let (service, _) = h.build();
    let Err(UseCaseError::Validation(v)) = service
        .create_goods_order(&customer(), checkout(None))
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(v.0[0].path, "cart");
}

#[tokio::test]
async fn an_unknown_promo_code_is_refused() {
    let mut h = goods_harness(true);
    h.promotions
        .expect_find_code()
        .returning(|_, _, _| Ok(None));
    let (service, _) = h.build();
    let result = service
        .create_goods_order(&customer(), checkout(Some("NOPE")))
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::PromoCode(PromoCodeError::Unknown))
    );
}

#[tokio::test]
async fn a_promo_code_used_up_by_this_user_is_refused() {
    let mut h = goods_harness(true);
    h.promotions
        .expect_find_code()
        .returning(|_, _, _| Ok(Some((save10(), 1))));
    let (service, _) = h.build();
    let result = service
        .create_goods_order(&customer(), checkout(Some("SAVE10")))
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::PromoCode(PromoCodeError::PerUserLimitReached))
    );
}

#[tokio::test]
async fn a_product_no_longer_sold_is_a_field_error_on_its_line() {
    let (service, _) = goods_harness(false).build();
    let Err(UseCaseError::Validation(v)) = service
        .create_goods_order(&customer(), checkout(None))
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(v.0[0].path, "items[1].productId");
}

#[tokio::test]
async fn an_unknown_shipping_method_is_a_field_error() {
    let mut h = Harness::new();
    h.carts
        .expect_find_by_owner()
        .returning(|_, _| Ok(Some(user_cart())));
    let (service, _) = h.build();
    let mut request = checkout(None);
    request.shipping_method = Some("teleport".into());
    let Err(UseCaseError::Validation(v)) = service.create_goods_order(&customer(), request).await
    else {
        panic!("validation error expected");
    };
    assert_eq!(v.0[0].path, "shippingMethod");
}

#[tokio::test]
async fn missing_stock_stops_the_goods_saga_before_payment() {
    let mut h = goods_harness(true);
    h.inventory
        .expect_reserve()
        .times(1)
        .returning(|_, _, _, _| {
            Err(StockError::Insufficient {
                product_id: product(1),
                available: 1,
            })
        });
    let (service, _) = h.build();
    let result = service
        .create_goods_order(&customer(), checkout(None))
        .await;
    assert_eq!(
        result,
        Err(UseCaseError::OutOfStock {
            product_id: product(1),
            available: 1
        })
    );
}

#[tokio::test]
async fn a_failed_goods_payment_intent_releases_the_stock() {
    let mut h = goods_harness(true);
    reserving_stock(&mut h);
    h.payments
        .expect_create_intent()
        .times(1)
        .returning(|_, _, _, _, _| {
            Err(PaymentError::Upstream(UpstreamError::Unavailable {
                service: "payment",
                cause: "timeout".into(),
            }))
        });
    h.inventory
        .expect_release()
        .times(1)
        .returning(|_, _| Ok(()));
    let (service, _) = h.build();
    let result = service
        .create_goods_order(&customer(), checkout(None))
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::Upstream(UpstreamError::Unavailable { .. }))
    ));
}

#[tokio::test]
async fn a_failed_goods_persist_cancels_the_intent_and_releases_the_stock() {
    let mut h = goods_harness(true);
    reserving_stock(&mut h);
    creating_intent(&mut h);
    h.unit_of_work
        .expect_commit()
        .times(1)
        .returning(|_| Err(RepositoryError::Conflict { expected: 1 }));
    h.payments
        .expect_cancel_intent()
        .times(1)
        .returning(|_| Ok(()));
    h.inventory
        .expect_release()
        .times(1)
        .returning(|_, _| Ok(()));
    let (service, _) = h.build();
    let result = service
        .create_goods_order(&customer(), checkout(None))
        .await;
    assert_eq!(result, Err(UseCaseError::Conflict));
}

#[tokio::test]
async fn an_unknown_event_is_a_field_error() {
    let mut h = Harness::new();
    h.events.expect_recent_event().returning(|_, _| Ok(None));
    let (service, _) = h.build();
    let Err(UseCaseError::Validation(v)) = service
        .create_ticket_order(&customer(), two_tickets())
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(
        (v.0[0].path.as_str(), v.0[0].code.as_str()),
        ("eventId", "unknown_event")
    );
}

#[tokio::test]
async fn an_unknown_ticket_price_is_a_field_error_on_its_line() {
    let mut h = Harness::new().with_event(Duration::days(1), EventStatus::Scheduled);
    h.tickets
        .expect_prices()
        .returning(|_, _, _| Ok(Vec::new()));
    let (service, _) = h.build();
    let Err(UseCaseError::Validation(v)) = service
        .create_ticket_order(&customer(), two_tickets())
        .await
    else {
        panic!("validation error expected");
    };
    assert_eq!(v.0[0].path, "items[0].ticketPricingId");
}

#[tokio::test]
async fn the_active_orders_per_event_quota_is_decided_by_the_commit_and_undoes_the_saga() {
    let mut h = ticket_harness(10_000, 100);
    holding(&mut h);
    creating_intent(&mut h);
    let quota = crate::policy::QuotaExceeded::ActiveOrdersPerEvent { limit: 5 };
    over_quota(&mut h, quota);
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert_eq!(result, Err(UseCaseError::Quota(quota)));
}

#[tokio::test]
async fn an_unreachable_ticket_service_is_an_upstream_error_with_nothing_held() {
    let mut h = Harness::new().with_event(Duration::days(1), EventStatus::Scheduled);
    h.tickets.expect_prices().returning(|_, _, _| {
        Err(UpstreamError::Unavailable {
            service: "tickets",
            cause: "circuit open".into(),
        })
    });
    let (service, _) = h.build();
    let result = service
        .create_ticket_order(&customer(), two_tickets())
        .await;
    assert!(matches!(
        result,
        Err(UseCaseError::Upstream(UpstreamError::Unavailable {
            service: "tickets",
            ..
        }))
    ));
}

#[tokio::test]
async fn a_currency_other_than_the_events_is_a_field_error() {
    let (service, _) = Harness::new()
        .with_event(Duration::days(1), EventStatus::Scheduled)
        .build();
    let mut request = two_tickets();
    request.currency = Some(Currency::Eur);
    let Err(UseCaseError::Validation(v)) = service.create_ticket_order(&customer(), request).await
    else {
        panic!("validation error expected");
    };
    assert_eq!(
        (v.0[0].path.as_str(), v.0[0].code.as_str()),
        ("currency", "mismatch")
    );
}

#[tokio::test]
async fn the_upstream_hold_lasts_through_the_grace_period() {
    let mut h = ticket_harness(10_000, 100);
    h.tickets
        .expect_hold()
        .withf(|_, _, _, _, until| *until == T0 + Duration::minutes(17))
        .times(1)
        .returning(|_, _, _, _, expires_at| {
            Ok(Hold {
                hold_id: HoldId::new("hold-9"),
                expires_at,
            })
        });
    creating_intent(&mut h);
    let (service, _) = h.committing().build();
    let created = service
        .create_ticket_order(&customer(), two_tickets())
        .await
        .expect("created");
    assert_eq!(
        created.order.expires_at(),
        T0 + Duration::minutes(15),
        "the buyer sees the reservation itself"
    );
}
