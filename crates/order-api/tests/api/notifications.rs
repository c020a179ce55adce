//! Notifications end to end: a goods order's committed status changes, relayed from the outbox
//! to the real RabbitMQ, reach the simulated notification service once each, in order, addressed
//! to the buyer's token e-mail, with the outbox event's id as the notification id.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use order_amqp::{EventPublisher, OutboxRelay};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

impl TestApp {
    /// Publishes everything in this app's outbox.
    pub(crate) async fn relay_outbox(&self) {
        let publisher = EventPublisher::connect(&amqp_url())
            .await
            .expect("RabbitMQ is not reachable: run `just services-up` first");
        let relay = OutboxRelay::new(
            Arc::new(self.store.clone()),
            100,
            time::Duration::seconds(30),
        );
        while relay.relay_once(&publisher).await.expect("relayed") > 0 {}
    }

    /// The simulator's notifications about `order`, once `count` arrived (10 s at most).
    async fn notifications_of(&self, order: &str, count: usize) -> Vec<Value> {
        let what = format!("{count} notifications about {order}");
        crate::helpers::eventually(&what, StdDuration::from_secs(10), || async move {
            let all: Value = self
                .client
                .get(format!("{}/_admin/notifications", self.simulator))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            let seen: Vec<Value> = all["notifications"]
                .as_array()?
                .iter()
                .filter(|n| n["orderId"] == order)
                .cloned()
                .collect();
            (seen.len() >= count).then_some(seen)
        })
        .await
    }
}

#[tokio::test]
async fn each_committed_status_change_of_an_order_is_announced_to_its_buyer_once() {
    let app = spawn_with(Setup {
        messaging: true,
        ..Setup::default()
    })
    .await;
    let buyer = customer(31);
    let id = app.paid_goods_order(&buyer, 6).await;
    app.deliver(&id).await;
    app.relay_outbox().await;

    let sent = app.notifications_of(&id, 5).await;
    let templates: Vec<&str> = sent
        .iter()
        .map(|n| n["template"].as_str().expect("template"))
        .collect();
    assert_eq!(
        templates,
        [
            "order.reserved",
            "order.confirmed",
            "order.processing",
            "order.shipped",
            "order.delivered"
        ]
    );
    let statuses: Vec<&str> = sent
        .iter()
        .map(|n| n["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        [
            "RESERVED",
            "CONFIRMED",
            "PROCESSING",
            "SHIPPED",
            "DELIVERED"
        ]
    );
    let year = time::OffsetDateTime::now_utc().year();
    assert_eq!(
        sent[1]["invoiceNumber"],
        format!("INV-{year}-000001").as_str(),
        "the receipt names the invoice"
    );
    assert!(
        sent.iter()
            .enumerate()
            .all(|(n, s)| n == 1 || s["invoiceNumber"].is_null())
    );
    let email = format!("{}@example.com", user(31).as_uuid().simple());
    assert!(sent.iter().all(|n| n["email"] == email.as_str()));
    assert!(sent.iter().all(|n| n["userId"] == user(31).to_string()));
    assert!(sent[3]["trackingNumber"].is_string(), "{}", sent[3]);

    // Each notification is named by the outbox event it announces, and recorded in the inbox.
    let order_id: Uuid = id.parse().expect("uuid");
    let announced: Vec<Uuid> = sqlx::query_scalar(
        "SELECT o.id FROM outbox o WHERE o.order_id = $1 AND o.event_type = ANY($2)
         ORDER BY o.position",
    )
    .bind(order_id)
    .bind(
        templates
            .iter()
            .map(|t| (*t).to_owned())
            .collect::<Vec<_>>(),
    )
    .fetch_all(&app.owner)
    .await
    .expect("outbox");
    let ids: Vec<Uuid> = sent
        .iter()
        .map(|n| n["id"].as_str().expect("id").parse().expect("uuid"))
        .collect();
    assert_eq!(ids, announced);
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inbox WHERE consumer LIKE '%.notifications' AND message_id = ANY($1)",
    )
    .bind(ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
    .fetch_one(&app.owner)
    .await
    .expect("inbox");
    assert_eq!(recorded, 5);

    // The same events relayed again (a relay that lost its confirms) announce nothing new.
    sqlx::query("UPDATE outbox SET published_at = NULL, claimed_until = NULL WHERE order_id = $1")
        .bind(order_id)
        .execute(&app.owner)
        .await
        .expect("republish");
    app.relay_outbox().await;
    let returned = app
        .post(
            &buyer,
            &format!("/api/v1/orders/{id}/returns"),
            &json!({ "reason": "too small" }),
        )
        .await;
    assert_eq!(returned.status(), 200);
    app.relay_outbox().await;
    let after = app.notifications_of(&id, 6).await;
    assert_eq!(
        after.len(),
        6,
        "the replayed events were not announced twice"
    );
    assert_eq!(after[5]["template"], "order.returned");
}
