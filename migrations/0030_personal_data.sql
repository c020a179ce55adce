-- The personal data lifecycle (docs/personal-data.md): erasure of a customer on request, and the
-- archiving of orders finished more than ORDER_RETENTION_DAYS ago. Both overwrite the personal
-- columns (names, addresses and phone inside the sealed addresses, the contact e-mail, notes,
-- metadata, the invoice's buyer, the audit's addresses) and keep every amount, the ledger and the
-- documents' numbers and totals.

ALTER TABLE orders ADD COLUMN archived_at timestamptz;
-- An erased invoice or credit note keeps its number, lines and totals; its buyer is gone.
ALTER TABLE order_documents ALTER COLUMN buyer DROP NOT NULL;
-- Documents stay immutable to the service except for erasing their buyer.
GRANT UPDATE (buyer) ON order_documents TO order_app;

-- Who was erased, when and by whom: the answer a repeated erasure gives. Holds no personal data
-- (the user id is the identity provider's pseudonymous subject).
CREATE TABLE customer_erasures (
    tenant_id        uuid NOT NULL,
    user_id          uuid NOT NULL,
    first_erased_at  timestamptz NOT NULL,
    last_erased_at   timestamptz NOT NULL,
    erased_by        text NOT NULL,
    times            integer NOT NULL DEFAULT 1 CHECK (times > 0),
    PRIMARY KEY (tenant_id, user_id)
);
ALTER TABLE customer_erasures ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_erasures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_erasures USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());

-- Overwrites the personal data of `p_orders` and writes one audit entry per order, in one
-- statement; answers the orders it erased. Invoker's rights: the service's role erases only in
-- its tenant (row-level security); the archive job below calls it with the owner's.
CREATE FUNCTION erase_order_personal_data(p_orders uuid[], p_event_type text, p_actor_kind text,
                                          p_actor_name text, p_actor_roles text[], p_metadata jsonb,
                                          p_at timestamptz, p_archive boolean)
    RETURNS SETOF uuid
    LANGUAGE sql VOLATILE
    AS $$
        WITH erased AS (
            UPDATE orders o SET shipping_address = NULL, billing_address = NULL, contact_email = NULL,
                notes = NULL, metadata = '{}', version = o.version + 1,
                archived_at = CASE WHEN p_archive THEN p_at ELSE o.archived_at END
            WHERE o.id = ANY (p_orders)
              -- An erasure repeated finds nothing left (no second audit entry); archiving marks
              -- every order it takes.
              AND (p_archive
                   OR o.shipping_address IS NOT NULL OR o.billing_address IS NOT NULL
                   OR o.contact_email IS NOT NULL OR o.notes IS NOT NULL OR o.metadata <> '{}'
                   OR EXISTS (SELECT 1 FROM order_documents d
                              WHERE d.order_id = o.id AND d.buyer IS NOT NULL)
                   OR EXISTS (SELECT 1 FROM order_events ev
                              WHERE ev.order_id = o.id AND ev.ip_salt IS NOT NULL))
            RETURNING o.id, o.tenant_id
        ),
        documents AS (
            UPDATE order_documents d SET buyer = NULL
            FROM erased e WHERE d.order_id = e.id AND d.buyer IS NOT NULL
        ),
        addresses AS (
            -- The chain keeps each address's commitment (docs/audit.md).
            UPDATE order_events ev SET ip = NULL, ip_salt = NULL
            FROM erased e WHERE ev.order_id = e.id AND ev.ip_salt IS NOT NULL
        ),
        audit AS (
            INSERT INTO order_events (id, tenant_id, order_id, event_type, actor_kind, actor_name,
                actor_roles, actor_vip, metadata, occurred_at)
            SELECT gen_random_uuid(), e.tenant_id, e.id, p_event_type, p_actor_kind, p_actor_name,
                p_actor_roles, false, p_metadata, p_at
            FROM erased e
        )
        SELECT id FROM erased
    $$;

-- Finished orders the retention job archives, oldest first.
CREATE INDEX orders_archivable_idx ON orders (updated_at)
    WHERE archived_at IS NULL AND status IN ('DELIVERED', 'CANCELLED', 'EXPIRED', 'RETURNED', 'REFUNDED');

-- The retention job: archives up to `max_rows` orders of any tenant that finished before
-- `p_before` and owe no refund; SKIP LOCKED, so replicas running it at once take different orders
-- and an order being changed right now waits for the next pass.
CREATE FUNCTION archive_finished_orders(p_before timestamptz, p_now timestamptz, max_rows integer,
                                        p_retention_days integer)
    RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        WITH due AS (
            SELECT o.id FROM orders o
            WHERE o.archived_at IS NULL
              AND o.status IN ('DELIVERED', 'CANCELLED', 'EXPIRED', 'RETURNED', 'REFUNDED')
              AND o.updated_at < p_before
              AND NOT EXISTS (SELECT 1 FROM order_refunds r WHERE r.order_id = o.id
                              AND r.status IN ('PENDING', 'APPROVED', 'FAILED'))
            ORDER BY o.updated_at
            LIMIT max_rows
            FOR UPDATE SKIP LOCKED
        )
        SELECT count(*)::integer
        FROM erase_order_personal_data(ARRAY(SELECT id FROM due), 'order.archived', 'system',
            'retention', '{}', jsonb_build_object('retentionDays', p_retention_days), p_now, true)
    $$;
REVOKE ALL ON FUNCTION archive_finished_orders(timestamptz, timestamptz, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION archive_finished_orders(timestamptz, timestamptz, integer, integer) TO order_app;
