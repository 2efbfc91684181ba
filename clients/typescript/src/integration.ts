// A shop's backend in TypeScript against the proxy, through a client generated from the
// proxy's OpenAPI document (`npm run generate`; openapi-typescript + openapi-fetch), type-checked
// with `tsc --strict`. Run by `scripts/clients` against a proxy in sandbox mode:
// create an order, read it, let a payer pay it on the sandbox's page, refund part of it, and
// verify its webhooks with the `standardwebhooks` library.
//
// PROXY_URL, MERCHANT_API_KEY, WEBHOOK_SECRET and HOOK_PORT come from the environment.

import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { strict as assert } from "node:assert";
import createClient from "openapi-fetch";
import { Webhook } from "standardwebhooks";
import type { components, paths } from "./schema.js";
import { payOnSandbox } from "./payer.js";

type WebhookPayload = components["schemas"]["WebhookPayload"];

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const proxy = need("PROXY_URL");
const hooks = new Webhook(need("WEBHOOK_SECRET"));

// The shop's webhook receiver: every body verified before it is believed.
const received: WebhookPayload[] = [];
const receiver = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    try {
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, String(v)]));
      received.push(hooks.verify(body, headers) as WebhookPayload);
      response.writeHead(204).end();
    } catch {
      response.writeHead(400).end();
    }
  });
});
await new Promise<void>((listening) => receiver.listen(Number(need("HOOK_PORT")), "127.0.0.1", listening));

const merchant = createClient<paths>({ baseUrl: proxy, headers: { Authorization: `Bearer ${need("MERCHANT_API_KEY")}` } });
const widget = createClient<paths>({ baseUrl: proxy });

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((later) => setTimeout(later, 100));
  }
  throw new Error(`gave up waiting: ${what}`);
}

// 1. The shop's backend prices the order.
const reference = `ts-${randomUUID()}`;
const created = await merchant.POST("/api/merchant/orders", {
  params: { header: { "Idempotency-Key": reference } },
  body: { amount: "1500.50", description: "Чайник", reference, metadata: { cart: "c-17" } },
});
assert.equal(created.response.status, 201, JSON.stringify(created.error));
const order = created.data!;
assert.equal(order.status, "open");
console.log(`created ${order.invoiceId} (${order.amount} ${order.currency})`);

// 2. It reads it back.
const read = await merchant.GET("/api/merchant/orders/{invoiceId}", { params: { path: { invoiceId: order.invoiceId } } });
assert.equal(read.data?.reference, reference);

// 3. The payer pays (what the widget and ePay's page do in a browser).
const checkout = await widget.POST("/api/orders/{invoiceId}/checkout", {
  params: { path: { invoiceId: order.invoiceId }, header: { "X-Order-Key": order.orderKey } },
});
assert.equal(checkout.response.status, 200, JSON.stringify(checkout.error));
await payOnSandbox(proxy, checkout.data!);
const paid = await until("paid", async () => {
  const now = await merchant.GET("/api/merchant/orders/{invoiceId}", { params: { path: { invoiceId: order.invoiceId } } });
  return now.data?.status === "paid" ? now.data : undefined;
});
console.log(`paid: ${paid.payment?.cardMask ?? "?"}, version ${paid.version}`);

// 4. Part of it goes back.
const refund = await merchant.POST("/api/merchant/orders/{invoiceId}/refunds", {
  params: { path: { invoiceId: order.invoiceId }, header: { "Idempotency-Key": `${reference}-r1` } },
  body: { amount: "500", reason: "a chipped lid" },
});
assert.equal(refund.response.status, 201, JSON.stringify(refund.error));
assert.equal(refund.data?.operation.status, "succeeded");
assert.equal(refund.data?.order.refundedAmount, "500");
console.log(`refunded 500: ${refund.data?.operation.id}`);

// 5. The shop heard both, signed.
const heard = await until("order.paid and refund.succeeded", async () => {
  const types = received.filter((event) => event.data.invoiceId === order.invoiceId).map((event) => event.type);
  return types.includes("order.paid") && types.includes("refund.succeeded") ? types : undefined;
});
const refunded = received.find((event) => event.type === "refund.succeeded" && event.data.invoiceId === order.invoiceId)!;
assert.equal(refunded.data.operation?.amount, "500");
console.log(`webhooks verified: ${heard.join(", ")}`);

receiver.close();
console.log("the TypeScript integration passed");
