//! A customer's export and erasure: who may, what an unknown customer and open orders answer.

use mockall::predicate::eq;

use super::*;
use crate::ids::OrderNumber;
use crate::personal_data::{ErasureReport, StoredErasure};
use crate::use_cases::UseCaseError;

#[tokio::test]
async fn only_the_customer_and_admins_read_an_export_and_nothing_is_read_for_others() {
    let h = Harness::new();
    let (service, _) = h.build();
    for caller in [stranger(), warehouse()] {
        let refused = service.customer_export(&caller, owner()).await;
        assert_eq!(refused.expect_err("refused"), UseCaseError::Forbidden);
        let refused = service.customer_export_page(&caller, owner(), None).await;
        assert_eq!(refused.expect_err("refused"), UseCaseError::Forbidden);
    }
}

#[tokio::test]
async fn an_export_of_a_customer_the_tenant_does_not_know_is_not_found() {
    let mut h = Harness::new();
    h.personal_data
        .expect_knows_customer()
        .with(eq(tenant()), eq(owner()))
        .returning(|_, _| Ok(false));
    let (service, _) = h.build();
    let answer = service.customer_export(&customer(), owner()).await;
    assert_eq!(
        answer.expect_err("refused"),
        UseCaseError::NotFound { what: "customer" }
    );
}

#[tokio::test]
async fn erasure_is_for_admins_and_open_orders_refuse_it_by_number() {
    let mut h = Harness::new();
    h.personal_data
        .expect_knows_customer()
        .returning(|_, _| Ok(true));
    let open: OrderNumber = "ORD-20261122-ABC123".parse().expect("number");
    let numbers = vec![open.clone()];
    h.personal_data
        .expect_erase_customer()
        .withf(|t, u, by, at| *t == tenant() && *u == owner() && by.is_privileged() && *at == T0)
        .times(1)
        .returning(move |_, _, _, _| Ok(StoredErasure::OpenOrders(numbers.clone())));
    let (service, _) = h.build();
    for caller in [customer(), warehouse()] {
        assert_eq!(
            service
                .erase_customer(&caller, owner())
                .await
                .expect_err("refused"),
            UseCaseError::Forbidden
        );
    }
    let refused = service
        .erase_customer(&admin(), owner())
        .await
        .expect_err("refused");
    assert_eq!(refused, UseCaseError::OpenOrders { orders: vec![open] });
    assert_eq!(refused.problem().1, "customer_has_open_orders");
}

#[tokio::test]
async fn an_erasure_answers_what_storage_did() {
    let mut h = Harness::new();
    h.personal_data
        .expect_knows_customer()
        .returning(|_, _| Ok(true));
    h.personal_data
        .expect_erase_customer()
        .returning(|_, user, _, at| {
            Ok(StoredErasure::Erased(ErasureReport {
                user_id: user,
                orders_erased: 3,
                carts_deleted: 1,
                stored_answers_deleted: 0,
                first_erased_at: at,
                erased_at: at,
            }))
        });
    let (service, _) = h.build();
    let report = service
        .erase_customer(&admin(), owner())
        .await
        .expect("erased");
    assert_eq!((report.orders_erased, report.carts_deleted), (3, 1));
    assert_eq!(report.erased_at, T0);
}
