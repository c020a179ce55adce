-- A message id is unique within its tenant, as the tenant-scoped lookup already assumed: the same
-- id in two tenants is two messages, each applied once.
ALTER TABLE inbox DROP CONSTRAINT inbox_pkey;
ALTER TABLE inbox ADD CONSTRAINT inbox_pkey PRIMARY KEY (tenant_id, consumer, message_id);
