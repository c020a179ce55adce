-- Reads in one round trip (docs/persistence.md). A read used to be four statements — BEGIN, the
-- tenant setting for row-level security, the query, COMMIT. These functions set the tenant and
-- read in one statement that runs as its own transaction; they run with the caller's rights
-- (SECURITY INVOKER), so row-level security still applies.

-- One order row as the JSON the adapter restores the aggregate from: items and refunds included.
-- PL/pgSQL rather than SQL: a SQL function with sub-selects is not inlined and would be planned
-- again for every statement that calls it; PL/pgSQL keeps its plans for the session.
CREATE FUNCTION order_json(o orders) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$ BEGIN RETURN jsonb_build_object(
            'id', o.id, 'tenantId', o.tenant_id, 'number', o.order_number, 'userId', o.user_id,
            'kind', o.kind, 'status', o.status, 'version', o.version, 'eventId', o.event_id,
            'items', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'id', i.id, 'product', i.product, 'quantity', i.quantity, 'unitPrice', i.unit_price,
                    'pricing', jsonb_build_object('currency', o.currency, 'subtotal', i.subtotal,
                        'discount', i.discount, 'platformFee', i.platform_fee,
                        'processingFee', i.processing_fee, 'shipping', i.shipping, 'tax', i.tax,
                        'total', i.total)) ORDER BY i.position), '[]'::jsonb)
                FROM order_items i WHERE i.order_id = o.id),
            'pricing', jsonb_build_object('currency', o.currency, 'subtotal', o.subtotal,
                'discount', o.discount, 'platformFee', o.platform_fee, 'processingFee', o.processing_fee,
                'shipping', o.shipping, 'tax', o.tax, 'total', o.total),
            'goods', o.goods, 'holdId', o.hold_id, 'expiresAt', o.expires_at,
            'paymentIntentId', o.payment_intent_id, 'shipment', o.shipment, 'ticketIds', o.ticket_ids,
            'refunds', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'id', r.id, 'amount', r.amount, 'status', r.status, 'items', r.items,
                    'reason', r.reason, 'requestedBy', r.requested_by, 'requestedAt', r.requested_at,
                    'decidedBy', r.decided_by, 'decidedAt', r.decided_at, 'decisionNote', r.decision_note,
                    'paymentReference', r.payment_reference, 'failureReason', r.failure_reason,
                    'attempts', r.attempts, 'completedAt', r.completed_at)
                    ORDER BY r.requested_at, r.id), '[]'::jsonb)
                FROM order_refunds r WHERE r.order_id = o.id),
            'refundableMax', o.refundable_max, 'cancellationReason', o.cancellation_reason,
            'returnReason', o.return_reason, 'milestones', o.milestones); END $$;

-- The order `p_id` of tenant `p_tenant`, or NULL.
CREATE FUNCTION order_find(p_tenant uuid, p_id uuid) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN (SELECT order_json(o) FROM orders o WHERE o.id = p_id AND o.tenant_id = p_tenant);
END
$$;

GRANT EXECUTE ON FUNCTION order_json(orders), order_find(uuid, uuid) TO order_app;
