// A front end's first walk through the order service with the client generated from its
// /openapi.json: create a ticket order, read it back, list the buyer's orders. `just clients`
// type-checks it against the generated types, then runs it against the running service.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Order = components["schemas"]["Order"];

const base = process.env.ORDER_API_URL ?? "http://127.0.0.1:8080";
const token = process.env.BUYER_TOKEN ?? "";
const event = process.env.EVENT_ID ?? "";
const ticketType = process.env.TICKET_TYPE_ID ?? "";
const pricing = process.env.TICKET_PRICING_ID ?? "";

const client = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${token}` },
});

function fail(step: string, detail: unknown): never {
  throw new Error(`${step}: ${JSON.stringify(detail)}`);
}

async function walk(): Promise<void> {
  const created = await client.POST("/api/v1/orders", {
    params: { header: { "Idempotency-Key": `walk-${Date.now()}` } },
    body: {
      eventId: event,
      items: [{ ticketTypeId: ticketType, ticketPricingId: pricing, quantity: 2 }],
    },
  });
  if (!created.data) fail("create", created.error);
  // A ticket order answers the order itself; a goods order `{order, paymentIntent}`.
  const order: Order = "order" in created.data ? created.data.order : created.data;
  if (order.status !== "RESERVED") fail("create: a new order is RESERVED", order.status);
  const total: number = order.pricing.total;

  const read = await client.GET("/api/v1/orders/{id}", {
    params: { path: { id: order.id } },
  });
  if (!read.data) fail("get", read.error);
  if (read.data.pricing.total !== total) fail("get: the same total", read.data.pricing);

  const listed = await client.GET("/api/v1/orders", {
    params: { query: { status: "RESERVED", limit: 10 } },
  });
  if (!listed.data) fail("list", listed.error);
  const ids: string[] = listed.data.orders.map((o: Order) => o.id);
  if (!ids.includes(order.id)) fail("list: the new order is listed", ids);
  const more: boolean = listed.data.pagination.hasMore;

  console.log(
    `create -> get -> list: ${order.orderNumber} total ${total} ${order.currency}, ` +
      `${ids.length} listed, hasMore ${more}`,
  );
}

walk().catch((error: unknown) => {
  console.error(`error: the generated TypeScript client's walk failed: ${String(error)}`);
  process.exit(1);
});
