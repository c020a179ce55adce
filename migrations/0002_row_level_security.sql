-- Tenant isolation enforced by the database (docs/product/routes.md): every tenant table only shows the rows of
-- the tenant set for the current transaction (`SELECT set_config('app.tenant_id', $1, true)`).
-- FORCE applies the policies to the table owner too; only roles with BYPASSRLS (the migration
-- owner) skip them. The API connects as a login role that is a member of `order_app`, which owns
-- nothing and cannot bypass the policies.

CREATE FUNCTION app_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['orders', 'order_items', 'order_events', 'order_refunds', 'outbox', 'inbox',
                             'shopping_carts', 'cart_items', 'promotions', 'promo_codes', 'promo_code_usages']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = app_tenant()) '
                       'WITH CHECK (tenant_id = app_tenant())', t);
    END LOOP;
END
$$;

-- Work that spans tenants runs through these functions only, with the owner's rights, returning
-- no more than the job needs.

-- The expiry job: unpaid orders whose window ended before `before`.
CREATE FUNCTION orders_expiring(before timestamptz, max_rows integer)
    RETURNS TABLE (tenant_id uuid, order_id uuid, status text, expires_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT o.tenant_id, o.id, o.status, o.expires_at
        FROM orders o
        WHERE o.status IN ('PENDING', 'RESERVED') AND o.expires_at < before
        ORDER BY o.expires_at
        LIMIT max_rows
    $$;

-- The outbox relay: claims unpublished rows in order; other relays skip the locked ones.
CREATE FUNCTION outbox_claim(max_rows integer)
    RETURNS TABLE ("position" bigint, payload jsonb)
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
        SELECT o.position, o.payload
        FROM outbox o
        WHERE o.published_at IS NULL
        ORDER BY o.position
        LIMIT max_rows
        FOR UPDATE SKIP LOCKED
    $$;

CREATE FUNCTION outbox_mark_published(ids uuid[])
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$ UPDATE outbox SET published_at = now() WHERE id = ANY (ids) AND published_at IS NULL $$;

REVOKE ALL ON FUNCTION orders_expiring(timestamptz, integer), outbox_claim(integer),
    outbox_mark_published(uuid[]) FROM PUBLIC;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'order_app') THEN
        CREATE ROLE order_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO order_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO order_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO order_app;
GRANT EXECUTE ON FUNCTION app_tenant(), orders_expiring(timestamptz, integer), outbox_claim(integer),
    outbox_mark_published(uuid[]) TO order_app;
-- Tables added by later migrations get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO order_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO order_app;
