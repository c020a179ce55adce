//! What the tests of the asynchronous flow share: an app with its consumers and relay running,
//! and a message as the payment service would publish it.

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::{Value, json};

use crate::helpers::{Setup, amqp_url, tenant_a};

/// An app whose consumers, relay and jobs run against the real RabbitMQ.
pub(crate) fn messaging() -> Setup {
    Setup {
        messaging: true,
        ..Setup::default()
    }
}

/// Publishes `payment.succeeded` for `order` with message id `id`, as the payment service
/// would, carrying `traceparent` when the sender is part of a trace.
pub(crate) async fn publish_payment_succeeded(order: &Value, id: &str, traceparent: Option<&str>) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("RabbitMQ is not reachable: run `just services-up` first");
    let channel = connection.create_channel().await.expect("channel");
    let body = json!({
        "id": id,
        "type": "payment.succeeded",
        "version": 1,
        "occurredAt": "2026-11-22T10:00:00Z",
        "tenantId": tenant_a(),
        "orderId": order["id"],
        "data": { "paymentIntentId": order["paymentIntentId"] },
    });
    let mut headers = FieldTable::default();
    if let Some(traceparent) = traceparent {
        headers.insert(
            "traceparent".into(),
            AMQPValue::LongString(LongString::from(traceparent)),
        );
    }
    channel
        .basic_publish(
            "payment.events".into(),
            "payment.succeeded".into(),
            BasicPublishOptions::default(),
            &serde_json::to_vec(&body).expect("json"),
            BasicProperties::default()
                .with_message_id(id.into())
                .with_headers(headers),
        )
        .await
        .expect("publish")
        .await
        .expect("published");
    let _ = connection.close(200, "done".into()).await;
}
