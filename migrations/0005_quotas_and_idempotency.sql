-- Exact per-buyer quotas and idempotency keys stored with the order (docs/persistence.md).
--
-- The order's own INSERT statement claims a place in both counters with a conditional upsert:
-- the upsert locks the buyer's counter row and re-reads it after any concurrent writer commits,
-- so two racing requests of one buyer can never both take the last place. A count of orders read
-- before the write could not give that guarantee.

-- Orders a buyer created per UTC day (decision 0011); never decremented.
CREATE TABLE buyer_daily_orders (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    day        date NOT NULL,
    created    integer NOT NULL CHECK (created >= 0),
    PRIMARY KEY (tenant_id, user_id, day)
);

-- A buyer's active (PENDING, RESERVED, CONFIRMED) orders per event; an order that leaves the
-- active statuses gives its place back in the statement that changes its status.
CREATE TABLE buyer_event_orders (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    event_id   uuid NOT NULL,
    active     integer NOT NULL CHECK (active >= 0),
    PRIMARY KEY (tenant_id, user_id, event_id)
);

INSERT INTO buyer_daily_orders (tenant_id, user_id, day, created)
SELECT tenant_id, user_id, (created_at AT TIME ZONE 'UTC')::date, count(*)
FROM orders GROUP BY 1, 2, 3;

INSERT INTO buyer_event_orders (tenant_id, user_id, event_id, active)
SELECT tenant_id, user_id, event_id, count(*)
FROM orders WHERE event_id IS NOT NULL AND status IN ('PENDING', 'RESERVED', 'CONFIRMED')
GROUP BY 1, 2, 3;

-- `Idempotency-Key` of a created order, written by the order's INSERT statement: a retry after
-- any failure (a connection lost during COMMIT, a crash after it) finds the order instead of
-- creating a second one. A key older than the idempotency TTL may be taken over by a new order.
CREATE TABLE order_idempotency_keys (
    tenant_id    uuid NOT NULL,
    user_id      uuid NOT NULL,
    key          text NOT NULL,
    fingerprint  text NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, key)
);

-- GET /orders?eventId=… newest first, for buyers' and admins' lists.
CREATE INDEX orders_tenant_event_created_idx ON orders (tenant_id, event_id, created_at DESC, id DESC)
    WHERE event_id IS NOT NULL;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['buyer_daily_orders', 'buyer_event_orders', 'order_idempotency_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;
