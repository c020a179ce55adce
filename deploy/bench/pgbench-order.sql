-- One ticket order as separate statements: the order, two items, an audit row and an outbox
-- row, in one transaction (the ceiling the order service is compared with).
\set r random(1, 9000000000000000000)
BEGIN;
INSERT INTO pgb.orders (id, tenant_id, order_number, user_id, kind, status, version, event_id, currency,
    subtotal, discount, platform_fee, processing_fee, shipping, tax, total, hold_id, expires_at,
    payment_intent_id, created_at, updated_at, reserved_at)
VALUES (md5(:r || '-' || :client_id)::uuid, '00000000-0000-4000-8000-00000000b001', 'ORD-P-' || :r || '-' || :client_id,
    md5(:r || '-u')::uuid, 'TICKET', 'RESERVED', 1, '00000000-0000-4000-8000-0000000000e1', 'USD',
    10000, 0, 500, 320, 0, 865, 11685, 'hold_x', now() + interval '15 minutes', 'pi_x',
    now(), now(), now());
INSERT INTO pgb.order_items (id, tenant_id, order_id, position, ticket_type_id, ticket_pricing_id, quantity,
    unit_price, subtotal, discount, platform_fee, processing_fee, shipping, tax, total)
VALUES (md5(:r || '-i1-' || :client_id)::uuid, '00000000-0000-4000-8000-00000000b001', md5(:r || '-' || :client_id)::uuid, 1,
    '00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000f2', 1, 5000, 5000, 0, 250, 160,
    0, 433, 5843);
INSERT INTO pgb.order_items (id, tenant_id, order_id, position, ticket_type_id, ticket_pricing_id, quantity,
    unit_price, subtotal, discount, platform_fee, processing_fee, shipping, tax, total)
VALUES (md5(:r || '-i2-' || :client_id)::uuid, '00000000-0000-4000-8000-00000000b001', md5(:r || '-' || :client_id)::uuid, 2,
    '00000000-0000-4000-8000-0000000000f1', '00000000-0000-4000-8000-0000000000f2', 1, 5000, 5000, 0, 250, 160,
    0, 432, 5842);
-- The audit row with its chain link, hashed as the service's trigger hashes it.
INSERT INTO pgb.order_events (id, tenant_id, order_id, event_type, from_status, to_status, actor_kind, actor_name,
    actor_roles, metadata, occurred_at, seq, prev_hash, entry_hash)
VALUES (md5(:r || '-a-' || :client_id)::uuid, '00000000-0000-4000-8000-00000000b001', md5(:r || '-' || :client_id)::uuid,
    'order.created', NULL, 'PENDING', 'user', md5(:r || '-u')::uuid, '{customer}', '{}', now(), 1, audit_genesis(),
    sha256(audit_genesis() || convert_to(jsonb_build_array(md5(:r || '-a-' || :client_id)::uuid,
        'order.created', 'PENDING', 'user', md5(:r || '-u')::uuid, '{customer}'::text[], '{}'::jsonb,
        (extract(epoch FROM now()) * 1000000)::bigint)::text, 'UTF8')));
INSERT INTO pgb.outbox (id, tenant_id, order_id, event_type, payload, occurred_at)
VALUES (md5(:r || '-e-' || :client_id)::uuid, '00000000-0000-4000-8000-00000000b001', md5(:r || '-' || :client_id)::uuid,
    'order.created', '{"type": "order.created"}', now());
COMMIT;
