-- A promo code's per-user limit decided in the order's own insert, like the buyer quotas: one
-- counter row per (code, buyer), claimed by a conditional upsert that waits for a concurrent one
-- and re-checks the limit against the committed count, so parallel orders of one buyer never
-- redeem a code more often than `per_user_limit` allows.
CREATE TABLE promo_code_user_uses (
    tenant_id  uuid NOT NULL,
    code       text NOT NULL,
    user_id    uuid NOT NULL,
    used       integer NOT NULL CHECK (used >= 0),
    PRIMARY KEY (tenant_id, code, user_id),
    FOREIGN KEY (tenant_id, code) REFERENCES promo_codes (tenant_id, code)
);

INSERT INTO promo_code_user_uses (tenant_id, code, user_id, used)
SELECT tenant_id, code, user_id, count(*) FROM promo_code_usages GROUP BY 1, 2, 3;

ALTER TABLE promo_code_user_uses ENABLE ROW LEVEL SECURITY;
ALTER TABLE promo_code_user_uses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON promo_code_user_uses USING (tenant_id = app_tenant())
    WITH CHECK (tenant_id = app_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON promo_code_user_uses TO order_app;
