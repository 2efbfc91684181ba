// The merchant's side end to end in headless Chromium: the demo shop (its own origin and
// backend) creates the order through the merchant API, the buyer pays on the sandbox, and
// the shop's page, the hosted page and the shop's own records all say paid. The widget's
// events reach the shop's page; mount() returns a handle whose unmount() removes the widget.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { Harness, MERCHANT_KEY, STAFF_PASSWORD, STAFF_USER } from "./harness.mjs";

let h;
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const APPROVED = "4111 1111 1111 1111";

test("f: the shop fixes the price, the buyer pays it, the shop's page and the hosted page show paid", async () => {
  const page = await h.page();
  await page.goto(h.shopBase + "/");
  await page.click('[data-buy="kokpar"]');
  // The customer's own link: unguessable, not the shop's sequential order number.
  await page.waitForURL(/\/orders\/[0-9a-f]{32}$/);
  const shopOrderUrl = page.url();
  // The widget shows the order's amount and description from the proxy, not the page's.
  await page.waitForSelector(".epay-what:not(:empty)", { timeout: 15000 });
  assert.equal((await page.textContent(".epay-what")).trim(), "Пиала ручной работы");
  assert.equal((await page.textContent(".epay-total strong")).trim(), "4\u00a0200,50\u00a0₸");
  assert.equal((await page.textContent(".epay-pay")).trim().startsWith("Оплатить"), true);
  assert.equal(await page.isVisible(".epay-amount"), false, "nothing to type");
  const invoiceId = await page.getAttribute("[data-epay-checkout]", "data-order");
  await h.screenshot(page, "shop-order");

  // Record the widget's events on the shop's page (they bubble to the document).
  await page.evaluate(() => {
    window.__events = [];
    for (const name of ["epay:ready", "epay:redirect", "epay:paid", "epay:failed", "epay:pending", "epay:error"]) {
      document.addEventListener(name, (e) => window.__events.push({ name, detail: e.detail }));
    }
  });
  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  assert.match(await page.textContent("[data-amount]"), /4\u00a0200,50\u00a0₸/);
  await page.fill("#card", APPROVED);
  await page.click("#pay");
  // Back on the shop's page (returnUrl + ?order=), which follows the order until paid.
  await page.waitForURL((url) => url.href.startsWith(shopOrderUrl) && url.searchParams.get("order") === invoiceId, { timeout: 15000 });
  await page.waitForSelector('.epay-outcome[data-outcome="paid"]', { timeout: 15000 });
  assert.match(await page.textContent(".epay-message"), /4\u00a0200,50\u00a0₸/);
  // epay:paid reached the page, with the proxy's detail; the shop's own status follows its server.
  await page.waitForFunction(() => document.body.dataset.epayPaid, null, { timeout: 15000 });
  assert.equal(await page.evaluate(() => document.body.dataset.epayPaid), invoiceId);
  await page.waitForSelector('[data-shop-status][data-paid="true"]', { timeout: 15000 });
  assert.equal((await page.textContent("[data-shop-status]")).trim(), "Оплачен");
  await h.screenshot(page, "shop-paid");
  assert.deepEqual(page.errors, []);

  // The proxy told the shop's backend too: one signed order.paid, verified here by the npm
  // standardwebhooks package (and by the shop with the Rust crate).
  const paidEvents = () => h.webhooks.filter((w) => w.type === "order.paid" && w.invoiceId === invoiceId);
  for (let i = 0; i < 100 && paidEvents().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(paidEvents().length, 1);
  assert.equal(paidEvents()[0].verified, true, "the signature verifies with the npm implementation");
  assert.equal(paidEvents()[0].body.data.status, "paid");

  // The customer's page has no money actions.
  assert.equal(await page.isVisible("[data-refund]"), false, "customers cannot refund");

  // Staff sign in and refund it: backend → merchant API → ePay; refund.succeeded.
  const staff = await h.page();
  await staff.goto(h.shopBase + "/staff/login");
  await staff.fill('input[name="user"]', STAFF_USER);
  await staff.fill('input[name="password"]', STAFF_PASSWORD);
  await staff.click('button[type="submit"]');
  await staff.waitForURL(h.shopBase + "/staff", { timeout: 15000 });
  const row = `tr[data-invoice="${invoiceId}"]`;
  assert.match(await staff.textContent(row), /Пиала ручной работы/);
  assert.match(await staff.textContent(`${row} [data-status]`), /^Оплачен$/);
  assert.equal(await staff.inputValue(`${row} input[name="amount"]`), "4200.50", "prefilled with what is left");
  await staff.click(`${row} [data-refund]`);
  // Nothing moves before the person confirms the amount.
  assert.match(await staff.textContent("[data-confirm-text]"), /Вернуть покупателю 4\u00a0200,50 ₸ по заказу/);
  await staff.click("[data-confirm-refund]");
  await staff.waitForURL(h.shopBase + "/staff", { timeout: 15000 });
  // Back to the confirmation and "Yes" again: the shop used it once and sends nothing more.
  await staff.goBack();
  await staff.click("[data-confirm-refund]");
  await staff.waitForSelector("text=Возврат уже подтверждён или устарел");
  await staff.goto(h.shopBase + "/staff");
  const refunds = () => h.webhooks.filter((w) => w.type === "refund.succeeded" && w.invoiceId === invoiceId);
  for (let i = 0; i < 100 && refunds().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(refunds().length, 1);
  assert.equal(refunds()[0].verified, true);
  assert.equal(refunds()[0].body.data.refundedAmount, "4200.50");
  await page.reload();
  assert.equal((await page.textContent("[data-shop-status]")).trim(), "Деньги возвращены");
  await staff.reload();
  assert.equal(await staff.isVisible(`${row} [data-refund]`), false, "nothing more to refund");
  assert.equal((await staff.textContent(`${row} [data-status]`)).trim(), "Деньги возвращены");
  assert.equal((await staff.textContent(`${row} [data-refunded]`)).trim(), "4\u00a0200,50 ₸");
  assert.deepEqual(staff.errors, []);

  // The merchant API says the same, with the history; the hosted page too.
  const response = await fetch(h.url(`/api/merchant/orders/${invoiceId}`), { headers: { authorization: `Bearer ${MERCHANT_KEY}` } });
  const order = await response.json();
  assert.equal(order.status, "refunded");
  assert.equal(order.amount, "4200.50");
  assert.deepEqual(JSON.parse(JSON.stringify(order.metadata)), { product: "kokpar" });
  assert.deepEqual(order.history.map((step) => step.state), ["open", "created", "pending", "confirming", "paid", "refunded"]);
  assert.deepEqual(order.operations.map((op) => [op.kind, op.status, op.amount]), [["refund", "succeeded", "4200.50"]]);
  const hosted = await h.page();
  await hosted.goto(order.checkoutUrl);
  await hosted.waitForSelector('.epay-outcome[data-outcome="paid"]', { timeout: 15000 });
  // For the payer the payment went through (what the shop did since is the shop's business).
  assert.match(await hosted.textContent(".epay-message"), /Оплата прошла: 4\u00a0200,50\u00a0₸/);
  assert.deepEqual(hosted.errors, []);
});

test("g: the hosted page pays an order created by a backend that only sends a link; events carry the proxy's detail", async () => {
  const create = await fetch(h.url("/api/merchant/orders"), {
    method: "POST",
    headers: { authorization: `Bearer ${MERCHANT_KEY}`, "idempotency-key": "e2e-link-1", "content-type": "application/json" },
    body: JSON.stringify({ amount: "990", description: "Подписка на месяц", reference: "link-1", method: "pay" }),
  });
  assert.equal(create.status, 201);
  const order = await create.json();
  const page = await h.page();
  await page.addInitScript(() => {
    window.__events = [];
    for (const name of ["epay:ready", "epay:redirect", "epay:paid", "epay:failed", "epay:pending", "epay:error"]) {
      document.addEventListener(name, (e) => window.__events.push({ name, detail: e.detail }));
    }
  });
  await page.goto(order.checkoutUrl);
  await page.waitForSelector(".epay-what:not(:empty)", { timeout: 15000 });
  assert.equal((await page.textContent(".epay-total strong")).trim(), "990\u00a0₸");
  const ready = await page.evaluate(() => window.__events.find((e) => e.name === "epay:ready"));
  assert.deepEqual(ready.detail, { invoiceId: order.invoiceId, status: "open", amount: "990", currency: "KZT" });

  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  await page.fill("#card", APPROVED);
  await page.click("#pay");
  await page.waitForURL(/\/pay\/\d+\?order=\d+/, { timeout: 15000 });
  await page.waitForSelector('.epay-outcome[data-outcome="paid"]', { timeout: 15000 });
  // The key came back in the fragment and left the address bar; a reload of the tab still
  // shows the outcome (the tab kept it).
  assert.equal(new URL(page.url()).hash.includes("key="), false, page.url());
  await page.reload();
  await page.waitForSelector('.epay-outcome[data-outcome="paid"]', { timeout: 15000 });
  const paid = await page.evaluate(() => window.__events.filter((e) => e.name === "epay:paid"));
  assert.equal(paid.length, 1);
  assert.deepEqual(paid[0].detail, { invoiceId: order.invoiceId, status: "paid", amount: "990", currency: "KZT" });
  assert.deepEqual(page.errors, []);
});

test("h: mount() returns a handle whose unmount() removes the widget and its listeners", async () => {
  const page = await h.page();
  // Count every listener added and removed on the page (window, document, elements).
  await page.addInitScript(() => {
    window.__listeners = { added: 0, removed: 0 };
    const { addEventListener, removeEventListener } = EventTarget.prototype;
    EventTarget.prototype.addEventListener = function (...args) {
      window.__listeners.added++;
      return addEventListener.apply(this, args);
    };
    EventTarget.prototype.removeEventListener = function (...args) {
      window.__listeners.removed++;
      return removeEventListener.apply(this, args);
    };
  });
  await page.goto(h.url("/transfer.html"));
  await page.waitForSelector("[data-epay-checkout] .epay");
  const result = await page.evaluate(async () => {
    const widget = await import("/widget.js");
    const host = document.createElement("div");
    host.setAttribute("data-epay-checkout", "");
    host.setAttribute("data-amount", "700");
    document.body.append(host);
    const before = { ...window.__listeners };
    const handle = widget.mount(host);
    await new Promise((r) => setTimeout(r, 200));
    const mounted = { ...window.__listeners };
    handle.unmount();
    const after = { ...window.__listeners };
    return {
      widgets: host.querySelectorAll(".epay").length,
      state: host.getAttribute("data-epay-checkout"),
      proxy: host.getAttribute("data-proxy"),
      addedByMount: mounted.added - before.added,
      removedByUnmount: after.removed - mounted.removed,
      addedByUnmount: after.added - mounted.added,
    };
  });
  assert.ok(result.addedByMount > 0, "the widget listens");
  assert.equal(result.removedByUnmount, result.addedByMount, "unmount() removes every listener mount() added");
  assert.deepEqual(
    { widgets: result.widgets, state: result.state, proxy: result.proxy, addedByUnmount: result.addedByUnmount },
    { widgets: 0, state: "", proxy: h.base, addedByUnmount: 0 },
  );
  assert.deepEqual(page.errors, []);
});

test("i: a browser can never use the merchant API, even with the key", async () => {
  const page = await h.page();
  await page.goto(h.shopBase + "/");
  const outcome = await page.evaluate(async ([proxy, key]) => {
    try {
      const response = await fetch(proxy + "/api/merchant/orders", { headers: { authorization: "Bearer " + key } });
      return "answered " + response.status;
    } catch {
      return "blocked";
    }
  }, [h.base, MERCHANT_KEY]);
  assert.equal(outcome, "blocked", "no CORS: the page cannot read it");
  // The shop page never received the merchant key.
  assert.ok(h.received.every(({ body, url }) => !body.includes(MERCHANT_KEY) && !url.includes(MERCHANT_KEY)));
});

test("n: the shop sells a subscription: the buyer ticks 'save the card', pays the first month, and the shop subscribes them", async () => {
  const page = await h.page();
  await page.goto(h.shopBase + "/");
  await page.click('[data-buy="chai-month"]');
  await page.waitForURL(/\/orders\/[0-9a-f]{32}$/);
  const shopOrderUrl = page.url();
  assert.match(await page.textContent(".order .note"), /Сохранить карту/);
  // The consent is the widget's, unticked; the buyer ticks it.
  await page.waitForSelector(".epay-save:not([hidden])", { timeout: 15000 });
  assert.equal(await page.isChecked(".epay-save input"), false);
  await page.check(".epay-save input");
  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  await page.fill("#card", APPROVED);
  await page.click("#pay");
  await page.waitForURL((url) => url.href.startsWith(shopOrderUrl), { timeout: 15000 });
  await page.waitForSelector('[data-shop-status][data-paid="true"]', { timeout: 15000 });
  // The shop's server subscribed the customer with the saved card, from next month on.
  let subscription;
  for (let i = 0; i < 50 && !subscription; i++) {
    await page.goto(shopOrderUrl);
    subscription = await page.getAttribute("[data-subscription]", "data-subscription").catch(() => null);
    if (!subscription) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(subscription ?? "", /^sub_/, "the shop subscribed the buyer");
  assert.match(await page.textContent("[data-subscription]"), /active/);
  const seen = await fetch(h.url(`/api/merchant/subscriptions/${subscription}`), { headers: { authorization: `Bearer ${MERCHANT_KEY}` } }).then((r) => r.json());
  assert.deepEqual([seen.status, seen.amount, seen.interval], ["active", "4990", "month"]);
  assert.ok(new Date(seen.nextChargeAt) > new Date(Date.now() + 27 * 86400 * 1000), "the first month was paid by the order");
  assert.deepEqual(page.errors, []);
});
