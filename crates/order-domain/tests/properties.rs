//! Property tests of the money invariants (docs/product/pricing.md): components never negative, the
//! total is the sum of its components, line allocations add up exactly, refunds never exceed the
//! refundable maximum, and a cart merge never breaks the cart limits.

use std::collections::BTreeMap;

use order_domain::cart::{Cart, CartLimits, CartOwner};
use order_domain::ids::{
    CartId, CartLineId, EventId, OrderId, OrderItemId, OrderNumber, PaymentIntentId, ProductId,
    RefundId, SessionId, TenantId, TicketPricingId, TicketTypeId, UserId,
};
use order_domain::money::{Currency, Money, MoneyError, Rate, RoundingMode};
use order_domain::order::{
    GoodsDetails, ItemProduct, NewOrder, NewOrderItem, Order, OrderKind, RefundRequest,
    RefundScope, RefundTerms,
};
use order_domain::pricing::allocation::allocate;
use order_domain::pricing::{FeeSchedule, PricingLine, PricingRequest, price_order};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn rounding() -> impl Strategy<Value = RoundingMode> {
    prop_oneof![
        Just(RoundingMode::HalfUp),
        Just(RoundingMode::HalfEven),
        Just(RoundingMode::Floor)
    ]
}

fn schedule() -> impl Strategy<Value = FeeSchedule> {
    (
        0u32..200_000,
        0u32..100_000,
        0i64..500,
        0u32..300_000,
        any::<bool>(),
        rounding(),
    )
        .prop_map(
            |(platform, processing, fixed, tax, tax_shipping, rounding)| FeeSchedule {
                platform_rate: Rate::from_ppm(platform),
                processing_rate: Rate::from_ppm(processing),
                processing_fixed: fixed,
                default_tax_rate: Rate::from_ppm(tax),
                tax_shipping,
                rounding,
            },
        )
}

fn lines() -> impl Strategy<Value = Vec<PricingLine>> {
    prop::collection::vec(
        (0i64..2_000_000, 1u32..=10).prop_map(|(unit_price, quantity)| PricingLine {
            unit_price,
            quantity,
        }),
        1..50,
    )
}

fn request() -> impl Strategy<Value = PricingRequest> {
    (lines(), 0i64..50_000_000, 0i64..100_000).prop_map(|(lines, discount, shipping)| {
        PricingRequest {
            currency: Currency::Usd,
            lines,
            discount,
            shipping,
            tax_rate: None,
        }
    })
}

proptest! {
    #[test]
    fn components_are_never_negative_and_the_total_is_their_sum(schedule in schedule(), request in request()) {
        let priced = price_order(&schedule, &request).expect("in range");
        for breakdown in std::iter::once(&priced.order).chain(&priced.lines) {
            let c = breakdown.components();
            for part in [c.subtotal, c.discount, c.platform_fee, c.processing_fee, c.shipping, c.tax] {
                prop_assert!(part >= 0);
            }
            prop_assert!(c.discount <= c.subtotal);
            prop_assert_eq!(
                breakdown.total().minor(),
                c.subtotal - c.discount + c.platform_fee + c.processing_fee + c.shipping + c.tax
            );
        }
    }

    #[test]
    fn lines_add_up_to_the_order_component_by_component(schedule in schedule(), request in request()) {
        let priced = price_order(&schedule, &request).expect("in range");
        let o = priced.order.components();
        let sum = |f: fn(&order_domain::pricing::Components) -> i64| {
            priced.lines.iter().map(|l| f(&l.components())).sum::<i64>()
        };
        prop_assert_eq!(sum(|c| c.subtotal), o.subtotal);
        prop_assert_eq!(sum(|c| c.discount), o.discount);
        prop_assert_eq!(sum(|c| c.platform_fee), o.platform_fee);
        prop_assert_eq!(sum(|c| c.processing_fee), o.processing_fee);
        prop_assert_eq!(sum(|c| c.shipping), o.shipping);
        prop_assert_eq!(sum(|c| c.tax), o.tax);
        prop_assert_eq!(priced.lines.iter().map(|l| l.total().minor()).sum::<i64>(), priced.order.total().minor());
    }

    #[test]
    fn allocations_are_exact_and_never_negative(total in 0i64..1_000_000_000, weights in prop::collection::vec(0i64..10_000_000, 1..60)) {
        let shares = allocate(total, &weights);
        prop_assert_eq!(shares.len(), weights.len());
        prop_assert_eq!(shares.iter().sum::<i64>(), total);
        prop_assert!(shares.iter().all(|s| *s >= 0));
    }

    #[test]
    fn huge_amounts_fail_with_overflow_instead_of_panicking(a in any::<i64>(), b in any::<i64>(), q in any::<u32>()) {
        let x = Money::new(a, Currency::Eur);
        let y = Money::new(b, Currency::Eur);
        prop_assert_eq!(x.checked_add(y).ok().map(Money::minor), a.checked_add(b));
        prop_assert_eq!(x.checked_sub(y).ok().map(Money::minor), a.checked_sub(b));
        if let Err(e) = x.checked_mul(q) {
            prop_assert_eq!(e, MoneyError::Overflow);
        }
        let huge = PricingRequest {
            currency: Currency::Eur,
            lines: vec![PricingLine { unit_price: a.saturating_abs(), quantity: q.max(1) }],
            discount: 0,
            shipping: 0,
            tax_rate: None,
        };
        // Either priced within range or a typed error; never a panic.
        let _ = price_order(&FeeSchedule::tickets(), &huge);
    }
}

fn confirmed_order(lines: &[(i64, u32)]) -> Order {
    let priced = price_order(
        &FeeSchedule::tickets(),
        &PricingRequest {
            currency: Currency::Usd,
            lines: lines
                .iter()
                .map(|&(unit_price, quantity)| PricingLine {
                    unit_price,
                    quantity,
                })
                .collect(),
            discount: 0,
            shipping: 0,
            tax_rate: None,
        },
    )
    .expect("priced");
    let items = lines
        .iter()
        .enumerate()
        .map(|(i, &(unit_price, quantity))| NewOrderItem {
            id: OrderItemId::from_uuid(Uuid::from_u128(100 + i as u128)),
            product: ItemProduct::Ticket {
                ticket_type_id: TicketTypeId::from_uuid(Uuid::from_u128(1)),
                ticket_pricing_id: TicketPricingId::from_uuid(Uuid::from_u128(2)),
            },
            quantity,
            unit_price,
        })
        .collect();
    let (mut order, _) = Order::create(NewOrder {
        id: OrderId::from_uuid(Uuid::from_u128(1)),
        tenant_id: TenantId::from_uuid(Uuid::from_u128(2)),
        number: OrderNumber::new(NOW.date(), 7),
        user_id: UserId::from_uuid(Uuid::from_u128(3)),
        kind: OrderKind::Ticket,
        event_id: Some(EventId::from_uuid(Uuid::from_u128(4))),
        items,
        priced,
        goods: GoodsDetails::default(),
        metadata: Default::default(),
        contact_email: None,
        expires_at: NOW + Duration::minutes(15),
        now: NOW,
    })
    .expect("created");
    order
        .attach_payment_intent(PaymentIntentId::new("pi"))
        .expect("intent");
    order
        .confirm(&PaymentIntentId::new("pi"), NOW)
        .expect("confirmed");
    order
}

#[derive(Debug, Clone)]
enum RefundStep {
    Amount(i64),
    Line(usize),
    Remaining,
    RejectLast,
}

fn refund_step() -> impl Strategy<Value = RefundStep> {
    prop_oneof![
        (-100i64..40_000).prop_map(RefundStep::Amount),
        (0usize..6).prop_map(RefundStep::Line),
        Just(RefundStep::Remaining),
        Just(RefundStep::RejectLast),
    ]
}

proptest! {
    #[test]
    fn refunds_never_exceed_the_refundable_maximum(
        lines in prop::collection::vec((100i64..20_000, 1u32..=5), 1..6),
        retained_share in 0i64..=100,
        steps in prop::collection::vec(refund_step(), 1..20),
    ) {
        let mut order = confirmed_order(&lines);
        let retained = order.total().minor() * retained_share / 100;
        let terms = RefundTerms { refundable_max: order.total().minor() - retained, retained };
        let mut last = None;
        for (n, step) in steps.into_iter().enumerate() {
            let id = RefundId::from_uuid(Uuid::from_u128(1_000 + n as u128));
            let scope = match step {
                RefundStep::Amount(a) => RefundScope::Amount(a),
                RefundStep::Line(i) => {
                    let ids: Vec<_> = order.items().iter().map(|it| it.id).collect();
                    RefundScope::Items(vec![ids[i % ids.len()]])
                }
                RefundStep::Remaining => RefundScope::Remaining,
                RefundStep::RejectLast => {
                    if let Some(previous) = last.take() {
                        let _ = order.reject_refund(previous, "admin", "no", NOW);
                    }
                    continue;
                }
            };
            let request = RefundRequest {
                id,
                scope,
                reason: "p".into(),
                requested_by: "u".into(),
                auto_approve_below: 0,
            };
            if order.request_refund(request, terms, NOW).is_ok() {
                last = Some(id);
            }
            prop_assert!(order.committed_refunds() <= terms.refundable_max);
            prop_assert!(order.refunds().iter().all(|r| r.amount > 0));
        }
    }
}

fn cart_limits() -> CartLimits {
    CartLimits {
        max_lines: 50,
        max_quantity: 10,
    }
}

fn fill(cart: &mut Cart, products: &[(u8, u8, u32)], id_base: u128) {
    for (i, (product, size, quantity)) in products.iter().enumerate() {
        let attributes = BTreeMap::from([("size".to_owned(), size.to_string())]);
        let _ = cart.add(
            CartLineId::from_uuid(Uuid::from_u128(id_base + i as u128)),
            ProductId::from_uuid(Uuid::from_u128(u128::from(*product))),
            attributes,
            *quantity,
            100,
            Currency::Usd,
            cart_limits(),
            Duration::days(30),
            NOW,
        );
    }
}

proptest! {
    #[test]
    fn a_cart_merge_never_exceeds_the_limits(
        mine in prop::collection::vec((0u8..80, 0u8..2, 1u32..=10), 0..60),
        theirs in prop::collection::vec((0u8..80, 0u8..2, 1u32..=10), 0..60),
    ) {
        let tenant = TenantId::from_uuid(Uuid::from_u128(1));
        let mut user_cart = Cart::new(CartId::from_uuid(Uuid::from_u128(2)), tenant, CartOwner::User(UserId::from_uuid(Uuid::from_u128(3))), Currency::Usd, Duration::days(30), NOW);
        let mut anon = Cart::new(CartId::from_uuid(Uuid::from_u128(4)), tenant, CartOwner::Session(SessionId::new("s")), Currency::Usd, Duration::days(30), NOW);
        fill(&mut user_cart, &mine, 10_000);
        fill(&mut anon, &theirs, 20_000);
        let before: u32 = user_cart.lines().iter().map(|l| l.quantity).sum();
        let mut next = 30_000u128;
        let report = user_cart
            .merge(&anon, || { next += 1; CartLineId::from_uuid(Uuid::from_u128(next)) }, cart_limits(), Duration::days(30), NOW)
            .expect("merge");
        prop_assert!(user_cart.lines().len() <= 50);
        prop_assert!(user_cart.lines().iter().all(|l| (1..=10).contains(&l.quantity)));
        prop_assert_eq!(report.merged.len() + report.added.len() + report.dropped.len(), anon.lines().len());
        let after: u32 = user_cart.lines().iter().map(|l| l.quantity).sum();
        prop_assert!(after >= before);
    }
}
