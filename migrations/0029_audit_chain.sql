-- The tamper-evident audit trail (docs/audit.md). Every entry of an order is a link of that
-- order's hash chain: `seq` counts the order's entries from 1, `prev_hash` is the entry before's
-- `entry_hash` (32 zero bytes for the first), and `entry_hash` is SHA-256 over `prev_hash` and the
-- entry's canonical content. A chain per order keeps writes to different orders parallel; the
-- order row's version check already serialises the writers of one order.
--
-- The caller's IP address is personal data that erasure removes, so the chain does not hash it
-- directly: it hashes `ip_commitment` = SHA-256(`ip_salt` || address). Erasure deletes the
-- address and the salt; the commitment stays, so the chain still verifies, and without the salt
-- nobody can test guesses of the address against it.

ALTER TABLE order_events
    ADD COLUMN seq integer,
    ADD COLUMN prev_hash bytea,
    ADD COLUMN entry_hash bytea,
    ADD COLUMN ip_salt bytea,
    ADD COLUMN ip_commitment bytea;

CREATE FUNCTION audit_genesis() RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea $$;

CREATE FUNCTION audit_ip_commitment(p_salt bytea, p_ip inet) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT sha256(p_salt || convert_to(coalesce(host(p_ip), ''), 'UTF8')) $$;

-- The canonical content is a JSON array of the entry's columns in a fixed order (jsonb's text is
-- deterministic: no whitespace choices, numbers as written); the time as microseconds since the
-- epoch, so no session time zone or date style can change it.
CREATE FUNCTION audit_entry_hash(p_prev bytea, e order_events) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
        SELECT sha256(p_prev || convert_to(jsonb_build_array(
            e.id, e.tenant_id, e.order_id, e.seq, e.event_type, e.from_status, e.to_status,
            e.actor_kind, e.actor_name, e.actor_roles, e.actor_vip, encode(e.ip_commitment, 'hex'),
            e.metadata, (extract(epoch FROM e.occurred_at) * 1000000)::bigint)::text, 'UTF8'))
    $$;

-- Existing entries get their chain, oldest first within each order.
DO $$
DECLARE
    e order_events;
    previous_order uuid;
    previous_hash bytea;
    n integer;
BEGIN
    FOR e IN SELECT * FROM order_events ORDER BY order_id, occurred_at, id LOOP
        IF previous_order IS DISTINCT FROM e.order_id THEN
            previous_order := e.order_id;
            previous_hash := audit_genesis();
            n := 0;
        END IF;
        n := n + 1;
        e.seq := n;
        e.prev_hash := previous_hash;
        IF e.ip IS NOT NULL THEN
            e.ip_salt := uuid_send(gen_random_uuid());
            e.ip_commitment := audit_ip_commitment(e.ip_salt, e.ip);
        END IF;
        e.entry_hash := audit_entry_hash(previous_hash, e);
        UPDATE order_events SET seq = e.seq, prev_hash = e.prev_hash, entry_hash = e.entry_hash,
            ip_salt = e.ip_salt, ip_commitment = e.ip_commitment
        WHERE id = e.id;
        previous_hash := e.entry_hash;
    END LOOP;
END
$$;

ALTER TABLE order_events
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN entry_hash SET NOT NULL,
    ADD CONSTRAINT order_events_ip_sealed CHECK (ip IS NULL OR ip_salt IS NOT NULL);
-- One link per place: two writers that raced past the version check could not fork a chain.
CREATE UNIQUE INDEX order_events_chain_key ON order_events (order_id, seq);
-- Daily anchors and range checks find a day's entries without reading the table (the entries
-- arrive in time order, which is what a BRIN index needs).
CREATE INDEX order_events_occurred_brin ON order_events USING brin (occurred_at);
-- The service appends entries and may erase an address (and its salt) from one; it never rewrites
-- or deletes an entry.
REVOKE UPDATE, DELETE ON order_events FROM order_app;
GRANT UPDATE (ip, ip_salt) ON order_events TO order_app;

-- Links each new entry to its order's chain, in the statement that writes it (a row-level trigger
-- sees the rows the same statement inserted before it, so an order's several entries chain in
-- the order they are written).
CREATE FUNCTION audit_chain_link() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    DECLARE
        head record;
    BEGIN
        SELECT seq, entry_hash INTO head FROM order_events
        WHERE order_id = NEW.order_id ORDER BY seq DESC LIMIT 1;
        NEW.seq := coalesce(head.seq, 0) + 1;
        NEW.prev_hash := coalesce(head.entry_hash, audit_genesis());
        IF NEW.ip IS NOT NULL THEN
            NEW.ip_salt := uuid_send(gen_random_uuid());
            NEW.ip_commitment := audit_ip_commitment(NEW.ip_salt, NEW.ip);
        ELSE
            NEW.ip_salt := NULL;
            NEW.ip_commitment := NULL;
        END IF;
        NEW.entry_hash := audit_entry_hash(NEW.prev_hash, NEW);
        RETURN NEW;
    END
    $$;
CREATE TRIGGER order_events_chain BEFORE INSERT ON order_events
    FOR EACH ROW EXECUTE FUNCTION audit_chain_link();

-- An order's chain checked link by link: every entry whose place, link, content or address
-- commitment does not hold, first break first. The caller's row-level security applies.
CREATE FUNCTION audit_chain_breaks(p_tenant uuid, p_orders uuid[])
    RETURNS TABLE (order_id uuid, seq integer, entry_id uuid, problem text)
    LANGUAGE sql STABLE
    AS $$
        SELECT c.order_id, c.seq, c.id,
            CASE
                WHEN c.seq <> coalesce(c.previous_seq, 0) + 1 THEN 'entry_missing'
                WHEN c.prev_hash <> coalesce(c.previous_hash, audit_genesis()) THEN 'link_broken'
                WHEN c.ip_salt IS NOT NULL
                     AND c.ip_commitment IS DISTINCT FROM audit_ip_commitment(c.ip_salt, c.ip)
                    THEN 'address_changed'
                ELSE 'entry_changed'
            END
        FROM (
            SELECT e.*, lag(e.seq) OVER w AS previous_seq, lag(e.entry_hash) OVER w AS previous_hash,
                audit_entry_hash(e.prev_hash, e) AS recomputed
            FROM order_events e
            WHERE e.tenant_id = p_tenant AND e.order_id = ANY (p_orders)
            WINDOW w AS (PARTITION BY e.order_id ORDER BY e.seq)
        ) c
        WHERE c.seq <> coalesce(c.previous_seq, 0) + 1
           OR c.prev_hash <> coalesce(c.previous_hash, audit_genesis())
           OR c.entry_hash <> c.recomputed
           OR (c.ip_salt IS NOT NULL
               AND c.ip_commitment IS DISTINCT FROM audit_ip_commitment(c.ip_salt, c.ip))
        ORDER BY c.order_id, c.seq
    $$;

-- Daily anchors: per tenant and UTC day, a digest over the head of every chain that grew that day
-- (order, last place, its hash), chained to the tenant's previous anchor. An order deleted
-- outright, or the last entries of a chain, no longer add up to the anchor of their day.
CREATE TABLE audit_anchors (
    tenant_id   uuid NOT NULL,
    day         date NOT NULL,
    orders      integer NOT NULL CHECK (orders > 0),
    entries     bigint NOT NULL CHECK (entries > 0),
    digest      bytea NOT NULL,
    previous    bytea NOT NULL,
    anchor      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day)
);
ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_anchors FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_anchors USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
-- Only the anchor job (below, with the owner's rights) writes anchors.
REVOKE INSERT, UPDATE, DELETE ON audit_anchors FROM order_app;

-- The day's digest as it stands now, for anchoring and for checking an anchor.
CREATE FUNCTION audit_day_digest(p_tenant uuid, p_day date,
                                 OUT orders integer, OUT entries bigint, OUT digest bytea)
    LANGUAGE sql STABLE
    AS $$
        WITH day_entries AS (
            SELECT e.order_id, e.seq, e.entry_hash
            FROM order_events e
            WHERE e.tenant_id = p_tenant
              AND e.occurred_at >= (p_day::timestamp AT TIME ZONE 'UTC')
              AND e.occurred_at < ((p_day + 1)::timestamp AT TIME ZONE 'UTC')
        ),
        heads AS (
            SELECT DISTINCT ON (d.order_id) d.order_id, d.seq, d.entry_hash,
                count(*) OVER (PARTITION BY d.order_id) AS n
            FROM day_entries d
            ORDER BY d.order_id, d.seq DESC
        )
        SELECT count(*)::integer, coalesce(sum(h.n), 0)::bigint,
            sha256(coalesce(string_agg(uuid_send(h.order_id) || int4send(h.seq) || h.entry_hash, ''::bytea
                                       ORDER BY h.order_id), ''::bytea))
        FROM heads h
    $$;

CREATE FUNCTION audit_anchor_hash(p_previous bytea, p_day date, p_orders integer, p_entries bigint,
                                  p_digest bytea) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT sha256(p_previous || convert_to(p_day::text, 'UTF8') || int4send(p_orders)
                      || int8send(p_entries) || p_digest)
    $$;

-- Where anchoring has reached: every day before `anchored_before` is anchored for every tenant.
CREATE TABLE audit_anchor_progress (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    anchored_before  date
);
INSERT INTO audit_anchor_progress (anchored_before)
SELECT min((occurred_at AT TIME ZONE 'UTC')::date) FROM order_events;
REVOKE INSERT, UPDATE, DELETE ON audit_anchor_progress FROM order_app;

-- The anchor job: anchors up to `max_days` whole days before `p_before`, every tenant's entries of
-- each, and moves the progress on. The progress row is locked for the pass, so two replicas never
-- anchor the same day twice; a day without entries gets no anchor.
CREATE FUNCTION audit_anchor_days(p_before date, max_days integer)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public
    AS $$
    DECLARE
        next_day date;
        t uuid;
        d record;
        previous_anchor bytea;
        made integer := 0;
        days integer := 0;
    BEGIN
        SELECT anchored_before INTO next_day FROM audit_anchor_progress FOR UPDATE SKIP LOCKED;
        IF NOT FOUND THEN
            RETURN 0;
        END IF;
        IF next_day IS NULL THEN
            SELECT min((occurred_at AT TIME ZONE 'UTC')::date) INTO next_day FROM order_events;
            IF next_day IS NULL THEN
                RETURN 0;
            END IF;
        END IF;
        WHILE next_day < p_before AND days < max_days LOOP
            FOR t IN
                SELECT DISTINCT e.tenant_id FROM order_events e
                WHERE e.occurred_at >= (next_day::timestamp AT TIME ZONE 'UTC')
                  AND e.occurred_at < ((next_day + 1)::timestamp AT TIME ZONE 'UTC')
            LOOP
                SELECT * INTO d FROM audit_day_digest(t, next_day);
                SELECT a.anchor INTO previous_anchor FROM audit_anchors a
                WHERE a.tenant_id = t AND a.day < next_day ORDER BY a.day DESC LIMIT 1;
                previous_anchor := coalesce(previous_anchor, audit_genesis());
                INSERT INTO audit_anchors (tenant_id, day, orders, entries, digest, previous, anchor)
                VALUES (t, next_day, d.orders, d.entries, d.digest, previous_anchor,
                        audit_anchor_hash(previous_anchor, next_day, d.orders, d.entries, d.digest))
                ON CONFLICT DO NOTHING;
                made := made + 1;
            END LOOP;
            next_day := next_day + 1;
            days := days + 1;
        END LOOP;
        UPDATE audit_anchor_progress SET anchored_before = next_day;
        RETURN made;
    END
    $$;
REVOKE ALL ON FUNCTION audit_anchor_days(date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_anchor_days(date, integer) TO order_app;

-- A tenant's anchors in a range checked against the entries as they stand: the first whose
-- digest no longer adds up or whose link to the anchor before it is broken, and days that had
-- entries before the progress mark but no anchor.
CREATE FUNCTION audit_anchor_breaks(p_tenant uuid, p_from date, p_to date)
    RETURNS TABLE (day date, problem text, orders integer, entries bigint,
                   found_orders integer, found_entries bigint)
    LANGUAGE sql STABLE
    AS $$
        WITH anchors AS (
            SELECT a.*, lag(a.anchor) OVER (ORDER BY a.day) AS chained_from,
                (SELECT b.anchor FROM audit_anchors b WHERE b.tenant_id = p_tenant AND b.day < p_from
                 ORDER BY b.day DESC LIMIT 1) AS before_range
            FROM audit_anchors a
            WHERE a.tenant_id = p_tenant AND a.day >= p_from AND a.day <= p_to
        ),
        checked AS (
            SELECT a.day, a.orders, a.entries, a.digest, a.previous, a.anchor,
                coalesce(a.chained_from, a.before_range, audit_genesis()) AS expected_previous,
                f.orders AS found_orders, f.entries AS found_entries, f.digest AS found_digest
            FROM anchors a, LATERAL audit_day_digest(p_tenant, a.day) f
        ),
        unanchored AS (
            SELECT DISTINCT (e.occurred_at AT TIME ZONE 'UTC')::date AS day
            FROM order_events e
            WHERE e.tenant_id = p_tenant
              AND e.occurred_at >= (p_from::timestamp AT TIME ZONE 'UTC')
              AND e.occurred_at < ((least(p_to + 1, (SELECT anchored_before FROM audit_anchor_progress))
                                   )::timestamp AT TIME ZONE 'UTC')
        )
        SELECT c.day,
            CASE
                WHEN c.previous <> c.expected_previous THEN 'anchor_link_broken'
                WHEN c.anchor <> audit_anchor_hash(c.previous, c.day, c.orders, c.entries, c.digest)
                    THEN 'anchor_changed'
                ELSE 'entries_changed_since_anchor'
            END,
            c.orders, c.entries, c.found_orders, c.found_entries
        FROM checked c
        WHERE c.previous <> c.expected_previous
           OR c.anchor <> audit_anchor_hash(c.previous, c.day, c.orders, c.entries, c.digest)
           OR c.digest <> c.found_digest
        UNION ALL
        SELECT u.day, 'anchor_missing', 0, 0, 0, 0
        FROM unanchored u
        WHERE NOT EXISTS (SELECT 1 FROM audit_anchors a WHERE a.tenant_id = p_tenant AND a.day = u.day)
        ORDER BY 1
    $$;
