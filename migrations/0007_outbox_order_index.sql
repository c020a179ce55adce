-- The relay skips rows whose order has an earlier unpublished row leased to another relay
-- (migration 0003). Without an index on the order that check read every unpublished row before
-- the candidate, so a backlog of 100 000 events (an expiry wave) made each claim O(backlog).
CREATE INDEX outbox_unpublished_order_idx ON outbox (order_id, position) WHERE published_at IS NULL;
