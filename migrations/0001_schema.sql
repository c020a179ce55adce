-- The order service's schema. Money is bigint minor units; every table carries tenant_id and is
-- protected by row-level security (0002). Nested value objects the database never filters on
-- (addresses, shipment, milestones) are jsonb in the shape of the domain's serde types.

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    tenant_id           uuid NOT NULL,
    order_number        text NOT NULL,
    user_id             uuid NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('TICKET', 'GOODS')),
    status              text NOT NULL CHECK (status IN ('PENDING', 'RESERVED', 'CONFIRMED', 'PROCESSING',
                            'SHIPPED', 'DELIVERED', 'CANCELLED', 'EXPIRED', 'RETURNED', 'REFUNDED')),
    version             bigint NOT NULL CHECK (version > 0),
    event_id            uuid,
    currency            char(3) NOT NULL,
    subtotal            bigint NOT NULL CHECK (subtotal >= 0),
    discount            bigint NOT NULL CHECK (discount >= 0),
    platform_fee        bigint NOT NULL CHECK (platform_fee >= 0),
    processing_fee      bigint NOT NULL CHECK (processing_fee >= 0),
    shipping            bigint NOT NULL CHECK (shipping >= 0),
    tax                 bigint NOT NULL CHECK (tax >= 0),
    total               bigint NOT NULL CHECK (total >= 0),
    hold_id             text,
    expires_at          timestamptz NOT NULL,
    payment_intent_id   text,
    goods               jsonb NOT NULL DEFAULT '{}',
    shipment            jsonb,
    ticket_ids          jsonb NOT NULL DEFAULT '[]',
    refundable_max      bigint,
    cancellation_reason text,
    return_reason       text,
    milestones          jsonb NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    CONSTRAINT orders_tenant_number_key UNIQUE (tenant_id, order_number)
);

-- GET /orders: the caller's orders, newest first (keyset-friendly: created_at, id).
CREATE INDEX orders_tenant_user_created_idx ON orders (tenant_id, user_id, created_at DESC, id DESC);
-- GET /orders for admins, with or without a status filter.
CREATE INDEX orders_tenant_created_idx ON orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_tenant_status_created_idx ON orders (tenant_id, status, created_at DESC, id DESC);
-- GET /orders?eventId=…, bulk cancel, and the per-user active-orders-per-event limit.
CREATE INDEX orders_tenant_event_status_idx ON orders (tenant_id, event_id, status) WHERE event_id IS NOT NULL;
CREATE INDEX orders_user_event_active_idx ON orders (tenant_id, user_id, event_id)
    WHERE status IN ('PENDING', 'RESERVED', 'CONFIRMED');
-- The expiry job: only unpaid orders are in this index.
CREATE INDEX orders_expiring_idx ON orders (expires_at) WHERE status IN ('PENDING', 'RESERVED');
-- The ticketing API's payment lookups.
CREATE INDEX orders_payment_intent_idx ON orders (payment_intent_id) WHERE payment_intent_id IS NOT NULL;

CREATE TABLE order_items (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    order_id        uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    product         jsonb NOT NULL,
    quantity        integer NOT NULL CHECK (quantity > 0),
    unit_price      bigint NOT NULL CHECK (unit_price >= 0),
    subtotal        bigint NOT NULL,
    discount        bigint NOT NULL,
    platform_fee    bigint NOT NULL,
    processing_fee  bigint NOT NULL,
    shipping        bigint NOT NULL,
    tax             bigint NOT NULL,
    total           bigint NOT NULL,
    CONSTRAINT order_items_order_position_key UNIQUE (order_id, position)
);

-- The audit trail (the ticketing API's order_events).
CREATE TABLE order_events (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL,
    order_id     uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_type   text NOT NULL,
    from_status  text,
    to_status    text,
    actor        jsonb NOT NULL,
    ip           inet,
    metadata     jsonb NOT NULL,
    occurred_at  timestamptz NOT NULL
);
CREATE INDEX order_events_order_idx ON order_events (tenant_id, order_id, occurred_at, id);

CREATE TABLE order_refunds (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL,
    order_id           uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    amount             bigint NOT NULL CHECK (amount > 0),
    status             text NOT NULL CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED', 'COMPLETED', 'FAILED')),
    items              jsonb NOT NULL DEFAULT '[]',
    reason             text NOT NULL,
    requested_by       text NOT NULL,
    requested_at       timestamptz NOT NULL,
    decided_by         text,
    decided_at         timestamptz,
    decision_note      text,
    payment_reference  text,
    failure_reason     text,
    attempts           integer NOT NULL DEFAULT 0,
    completed_at       timestamptz
);
CREATE INDEX order_refunds_order_idx ON order_refunds (order_id);
-- The admin review queue: GET /admin/refunds?status=PENDING.
CREATE INDEX order_refunds_tenant_status_idx ON order_refunds (tenant_id, status, requested_at, id);

-- Transactional outbox: written with the state change, relayed in position order.
CREATE TABLE outbox (
    position      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id            uuid NOT NULL UNIQUE,
    tenant_id     uuid NOT NULL,
    order_id      uuid NOT NULL,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    occurred_at   timestamptz NOT NULL,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (position) WHERE published_at IS NULL;

-- Messages already applied (exactly-once effects of at-least-once delivery).
CREATE TABLE inbox (
    tenant_id     uuid NOT NULL,
    consumer      text NOT NULL,
    message_id    text NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inbox_pkey PRIMARY KEY (consumer, message_id)
);

CREATE TABLE shopping_carts (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    user_id     uuid,
    session_id  text,
    currency    char(3) NOT NULL,
    version     bigint NOT NULL CHECK (version > 0),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    -- A cart belongs to a user or to an anonymous session, never both.
    CONSTRAINT shopping_carts_one_owner CHECK ((user_id IS NULL) <> (session_id IS NULL))
);
CREATE UNIQUE INDEX shopping_carts_user_key ON shopping_carts (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX shopping_carts_session_key ON shopping_carts (tenant_id, session_id) WHERE session_id IS NOT NULL;
CREATE INDEX shopping_carts_expires_idx ON shopping_carts (expires_at);

CREATE TABLE cart_items (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL,
    cart_id     uuid NOT NULL REFERENCES shopping_carts (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    product_id  uuid NOT NULL,
    attributes  jsonb NOT NULL DEFAULT '{}',
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  bigint NOT NULL CHECK (unit_price >= 0)
);
CREATE INDEX cart_items_cart_idx ON cart_items (cart_id, position);

CREATE TABLE promotions (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL,
    name          text NOT NULL,
    rule          jsonb NOT NULL,
    min_subtotal  bigint NOT NULL DEFAULT 0,
    starts_at     timestamptz,
    ends_at       timestamptz
);
CREATE INDEX promotions_tenant_idx ON promotions (tenant_id);

CREATE TABLE promo_codes (
    tenant_id       uuid NOT NULL,
    code            text NOT NULL CHECK (code = upper(code)),
    rule            jsonb NOT NULL,
    min_subtotal    bigint NOT NULL DEFAULT 0,
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz,
    usage_limit     integer,
    times_used      integer NOT NULL DEFAULT 0,
    per_user_limit  integer,
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE promo_code_usages (
    tenant_id  uuid NOT NULL,
    code       text NOT NULL,
    user_id    uuid NOT NULL,
    order_id   uuid NOT NULL,
    used_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, code, order_id),
    FOREIGN KEY (tenant_id, code) REFERENCES promo_codes (tenant_id, code)
);
CREATE INDEX promo_code_usages_user_idx ON promo_code_usages (tenant_id, code, user_id);
