-- One order with its items by primary key (the read ceiling); pgb.ids numbers real order ids.
\set k random(1, :ids)
SELECT o.*, (SELECT json_agg(i) FROM order_items i WHERE i.order_id = o.id) AS items
FROM orders o WHERE o.id = (SELECT id FROM pgb.ids WHERE n = :k);
