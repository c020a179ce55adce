-- The blind index of contact e-mails (docs/personal-data.md): an HMAC-SHA256 of the lower-cased
-- address under a key derived from the address keys, beside the sealed address, so that admins
-- find orders by e-mail while the database never holds an address in clear. Orders sealed before
-- this migration are indexed by `order-api migrate` (it holds the keys; SQL does not).

ALTER TABLE orders ADD COLUMN contact_email_index bytea
    CHECK (octet_length(contact_email_index) = 32),
    -- An index without its address would still tell who ordered: erasure clears both.
    ADD CONSTRAINT orders_contact_email_index_needs_email
        CHECK (contact_email_index IS NULL OR contact_email IS NOT NULL);
CREATE INDEX orders_contact_email_idx ON orders (tenant_id, contact_email_index)
    WHERE contact_email_index IS NOT NULL;

-- As in 0030, and the index goes with the address.
CREATE OR REPLACE FUNCTION erase_order_personal_data(p_orders uuid[], p_event_type text, p_actor_kind text,
                                          p_actor_name text, p_actor_roles text[], p_metadata jsonb,
                                          p_at timestamptz, p_archive boolean)
    RETURNS SETOF uuid
    LANGUAGE sql VOLATILE
    AS $$
        WITH erased AS (
            UPDATE orders o SET shipping_address = NULL, billing_address = NULL, contact_email = NULL,
                contact_email_index = NULL,
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
