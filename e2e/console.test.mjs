// The merchant's console end to end in headless Chromium, under the proxy's CSP: a viewer
// signs in and reads; an operator finds a paid order by its card, refunds part of it after a
// confirmation, resolves a review, resends a webhook; sessions end on sign-out; Kazakh and
// English read alike. No secret reaches the browser.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";

import { ADMIN_ENROLLING, ADMIN_OPERATOR, ADMIN_PASSWORD, ADMIN_VIEWER, CLIENT_SECRET, Harness, MERCHANT_KEY } from "./harness.mjs";

let h;
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const APPROVED = "4111 1111 1111 1111";

/** A merchant order paid on the sandbox through its hosted page, once the proxy has it in
 * `state`. Its invoice id. */
async function paidOrder(reference, amount, method = "pay", state = "paid") {
  const response = await fetch(h.url("/api/merchant/orders"), {
    method: "POST",
    headers: { authorization: `Bearer ${MERCHANT_KEY}`, "content-type": "application/json", "idempotency-key": reference },
    body: JSON.stringify({ amount, description: "Пиала ручной работы", reference, email: "buyer@example.kz", method }),
  });
  const order = await response.json();
  assert.equal(response.status, 201, JSON.stringify(order));
  const page = await h.page();
  await page.goto(order.checkoutUrl);
  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  await page.fill("#card", APPROVED);
  await page.click("#pay");
  await page.waitForURL(/[?&]order=\d+/, { timeout: 15000 });
  await page.context().close();
  for (let i = 0; i < 100; i++) {
    if (h.orders("show", order.invoiceId).status === state) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return order.invoiceId;
}

async function signIn(page, user) {
  await page.goto(h.url("/admin/"));
  await page.waitForSelector('input[name="user"]', { timeout: 15000 });
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('button[type="submit"]');
  await page.waitForSelector("[data-who]", { timeout: 15000 });
}

test("i: a viewer reads, an operator refunds and resolves a review, and both languages read", async () => {
  const invoiceId = await paidOrder("console-1", "1500");
  // A review as the proxy makes one: ePay reports a transfer's amount with its fee inside and
  // nothing to tell them apart.
  await h.sandbox({ feeInAmount: true });
  const reviewed = await paidOrder("console-2", "2400", "p2p", "review");
  await h.sandbox({});

  // A wrong password, then the viewer: the home figures, no money actions.
  const viewer = await h.page({ locale: "ru-RU" });
  await viewer.goto(h.url("/admin/"));
  await viewer.waitForSelector('input[name="user"]', { timeout: 15000 });
  await viewer.fill('input[name="user"]', ADMIN_VIEWER);
  await viewer.fill('input[name="password"]', "wrong");
  await viewer.click('button[type="submit"]');
  await viewer.waitForSelector(".problem:not(:empty)");
  assert.equal((await viewer.textContent(".problem")).trim(), "Неверное имя или пароль.");
  await signIn(viewer, ADMIN_VIEWER);
  assert.match(await viewer.textContent("[data-who]"), /dana · наблюдатель/);
  await viewer.waitForSelector('[data-figure="paid"] strong');
  assert.equal((await viewer.textContent('[data-figure="paid"] strong')).trim(), "1", "one paid today (the other is in review)");
  assert.equal((await viewer.textContent("[data-reviews] strong")).trim(), "1");
  assert.equal(await viewer.getAttribute("[data-reviews]", "data-alert"), "on");
  await viewer.goto(h.url(`/admin/#/orders/${invoiceId}`));
  await viewer.waitForSelector("[data-payment]");
  assert.equal(await viewer.isVisible("[data-refund]"), false, "a viewer has no refund button");
  assert.match(await viewer.textContent(".note"), /наблюдатель/);
  assert.deepEqual(viewer.errors, []);

  // The operator: search by the card's last digits, open the order, refund 500 ₸ after confirming.
  const page = await h.page({ width: 1280, height: 900, locale: "ru-RU" });
  await signIn(page, ADMIN_OPERATOR);
  await page.waitForSelector('[data-figure="paid"]');
  await h.screenshot(page, "console-home");
  await page.click('a[href="#/orders"]');
  await page.waitForSelector("table.list tbody tr");
  await page.fill('input[name="q"]', "buyer@example.kz");
  await page.click('.filters button[type="submit"]');
  await page.waitForFunction(() => location.hash.includes("q=buyer"));
  await page.waitForFunction(() => document.querySelectorAll("table.list tbody tr").length === 2);
  await h.screenshot(page, "console-orders");
  await page.click(`tr[data-invoice="${invoiceId}"] a`);
  await page.waitForSelector("[data-payment]");
  assert.match(await page.textContent("[data-payment]"), /411111\.\.\.1111/);
  assert.match(await page.textContent("[data-payment]"), /VISA/);
  assert.match(await page.textContent("[data-payment]"), /HALYK BANK \(SANDBOX\)/);
  await page.fill('[data-actions] input[name="amount"]', "500");
  await page.fill('[data-actions] input[name="reason"]', "Скол на пиале");
  await page.click("[data-refund]");
  await page.waitForSelector("[data-confirm]");
  assert.match(await page.textContent("[data-confirm]"), /Вернуть деньги: 500\u00a0₸/);
  await page.click("[data-confirm-yes]");
  await page.waitForSelector(".said:not(:empty)", { timeout: 15000 });
  await page.waitForSelector('.timeline li[data-kind="action"]');
  assert.match(await page.textContent('.timeline li[data-kind="action"]'), /возврат запрошен.*aigerim.*Скол на пиале/s);
  // The whole history reads in the page's language (ePay's own words under a line stay).
  const history = await page.$$eval(".timeline .what", (lines) => lines.map((l) => l.textContent).join("\n"));
  // Event types (order.paid, receipt.issued) are the API's identifiers, shown as they are.
  const words = history.replace(/\b[a-z]+\.[a-z_]+\b/g, "");
  assert.doesNotMatch(words, /\b(asked|made by|status API|answered|pressed|issued|confirmed)\b/, history);
  assert.match(history, /Оплачен — /);
  assert.match(await page.textContent(".facts"), /500\u00a0₸/, "the refunded amount shows");
  await h.screenshot(page, "console-order");

  // Reload: the same order page (the route lives in the address).
  await page.reload();
  await page.waitForSelector('.timeline li[data-kind="action"]');

  // The review: what was checked, the decision, confirmed; the shop hears order.review_resolved.
  await page.goto(h.url(`/admin/#/orders/${reviewed}`));
  await page.waitForSelector("[data-review]");
  await h.screenshot(page, "console-review");
  await page.fill('[data-review] input[name="checked"]', "Кабинет ePay: CHARGE 2 400 ₸, терминал 98120001");
  await page.click('[data-review] button[type="submit"]');
  await page.click("[data-confirm-yes]");
  await page.waitForSelector("[data-resolution]", { timeout: 15000 });
  assert.equal(await page.getAttribute("[data-resolution]", "data-resolution"), "paid");
  assert.match(await page.textContent("[data-resolution]"), /Оплачен.*aigerim/s, "the decision in the page's language");
  for (let i = 0; i < 100 && !h.webhooks.some((w) => w.type === "order.review_resolved" && w.invoiceId === reviewed); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const resolved = h.webhooks.find((w) => w.type === "order.review_resolved" && w.invoiceId === reviewed);
  assert.ok(resolved?.verified, "order.review_resolved reached the shop, signed");
  assert.equal(resolved.body.data.reviewResolution.by, ADMIN_OPERATOR);

  // Resend a webhook: recorded in the timeline with who.
  await page.click("tr[data-event] [data-resend]");
  await page.click("[data-confirm-yes]");
  await page.waitForSelector('.timeline li[data-kind="action"]:has-text("webhook поставлен в отправку ещё раз")', { timeout: 15000 });

  // Kazakh and English.
  await page.click('button.lang[lang="kk"]');
  assert.equal((await page.textContent('.main-nav a[href="#/orders"]')).trim(), "Тапсырыстар");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "kk");
  await page.goto(h.url("/admin/#/"));
  await page.waitForSelector('[data-figure="paid"]');
  await h.screenshot(page, "console-home-kk");
  await page.click('button.lang[lang="en"]');
  assert.equal((await page.textContent('.main-nav a[href="#/orders"]')).trim(), "Orders");
  await page.click('button.lang[lang="ru"]');

  // Signing out ends the session: the API refuses its cookie from then on.
  await page.click("[data-sign-out]");
  await page.waitForSelector('input[name="user"]');
  const status = await page.evaluate(async () => (await fetch("/api/admin/summary")).status);
  assert.equal(status, 401);
  assert.deepEqual(page.errors, [], "no script error and no CSP violation");

  // Nothing the browser received holds a secret; the console's page has the strict CSP.
  const secrets = [CLIENT_SECRET, MERCHANT_KEY, ...h.secretHashes()];
  for (const record of h.received) {
    for (const secret of secrets) assert.ok(!record.body.includes(secret) && !record.headers.includes(secret), record.url);
  }
  const csp = (await fetch(h.url("/admin/"))).headers.get("content-security-policy");
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval';/);
  assert.doesNotMatch(csp, /unsafe-inline|homebank/);
});

test("j: an operator captures part of a hold and releases another, each after confirming", async () => {
  await h.sandbox({ twoStage: true });
  const held = await paidOrder("console-hold-1", "3000", "pay", "authorized");
  const released = await paidOrder("console-hold-2", "1200", "pay", "authorized");
  await h.sandbox({});
  const page = await h.page({ locale: "ru-RU" });
  await signIn(page, ADMIN_OPERATOR);

  await page.goto(h.url(`/admin/#/orders/${held}`));
  await page.waitForSelector("[data-capture]");
  assert.match(await page.textContent(".order-head .status"), /Заблокирован/);
  await page.fill('[data-actions] input[name="amount"]', "2500");
  await page.click("[data-capture]");
  assert.match(await page.textContent("[data-confirm]"), /Списать: 2\u00a0500\u00a0₸/);
  await page.click("[data-confirm-yes]");
  await page.waitForSelector('.order-head .status[data-status="paid"]', { timeout: 15000 });
  assert.match(await page.textContent(".facts"), /Списано2\u00a0500\u00a0₸/, "what was charged");
  assert.match(await page.textContent('.timeline li[data-kind="action"]'), /списание запрошено.*aigerim/s);

  await page.goto(h.url(`/admin/#/orders/${released}`));
  await page.waitForSelector("[data-cancel]");
  await page.click("[data-cancel]");
  await page.click('button.quiet:has-text("Отмена")');
  assert.equal(await page.isVisible("[data-confirm]"), false, "dismissed: nothing sent");
  assert.equal(h.orders("show", released).status, "authorized");
  await page.click("[data-cancel]");
  await page.click("[data-confirm-yes]");
  await page.waitForSelector('.order-head .status[data-status="cancelled"]', { timeout: 15000 });
  assert.equal(h.orders("show", released).status, "cancelled");
  assert.deepEqual(page.errors, []);
});

test("k: a refund ePay never performed goes to review; an operator abandons it and the next refund goes through", async () => {
  const invoice = await paidOrder("console-stuck-1", "3000");
  // ePay takes the refund and never answers, nor performs it.
  await h.sandbox({ operationFaults: [{ fault: "hang" }] });
  const response = await fetch(h.url(`/api/merchant/orders/${invoice}/refunds`), {
    method: "POST",
    headers: { authorization: `Bearer ${MERCHANT_KEY}`, "content-type": "application/json", "idempotency-key": "stuck-r1" },
    body: JSON.stringify({ amount: "500" }),
  });
  assert.equal((await response.json()).operation.status, "unknown");
  for (let i = 0; i < 150 && h.orders("show", invoice).status !== "review"; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(h.orders("show", invoice).status, "review", "no trace after the settle window: a person decides");

  const page = await h.page({ locale: "ru-RU" });
  await signIn(page, ADMIN_OPERATOR);
  await page.goto(h.url(`/admin/#/orders/${invoice}`));
  await page.waitForSelector("[data-review]");
  const choices = await page.$$eval('[data-review] input[name="decision"]', (inputs) => inputs.map((i) => i.value));
  assert.deepEqual(choices, ["done", "not_done", "send_again", "epay_ledger"], "a refund's decisions, not a payment's");
  assert.match(await page.textContent("[data-review]"), /ePay не выполнил/);
  await page.check('[data-review] input[value="not_done"]');
  await page.fill('[data-review] input[name="checked"]', "Кабинет ePay: возврата нет");
  await page.click('[data-review] button[type="submit"]');
  await page.click("[data-confirm-yes]");
  await page.waitForSelector('.order-head .status[data-status="paid"]', { timeout: 15000 });
  assert.equal(await page.getAttribute("[data-resolution]", "data-resolution"), "not_done");

  // The next refund on the order goes through, from the console.
  await page.fill('[data-actions] input[name="amount"]', "500");
  await page.click("[data-refund]");
  await page.click("[data-confirm-yes]");
  const view = async () =>
    (await fetch(h.url(`/api/merchant/orders/${invoice}`), { headers: { authorization: `Bearer ${MERCHANT_KEY}` } })).json();
  let order = await view();
  for (let i = 0; i < 150 && order.refundedAmount !== "500"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    order = await view();
  }
  assert.equal(order.refundedAmount, "500", JSON.stringify(order.operations));
  assert.deepEqual(
    order.operations.map((op) => op.status),
    ["failed", "succeeded"],
  );
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** What an authenticator app shows for the base32 `secret` at unix second `at` (RFC 6238:
 * HMAC-SHA-1, 30 s steps, 6 digits), computed here independently of the proxy's crate. */
function totp(secret, at = Date.now() / 1000) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "")) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

async function typeSignIn(page, user, code) {
  await page.goto(h.url("/admin/"));
  await page.waitForSelector('input[name="user"]', { timeout: 15000 });
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', ADMIN_PASSWORD);
  await page.click('button[type="submit"]');
  if (code === undefined) return;
  await page.waitForSelector('input[name="code"]', { timeout: 15000 });
  await page.fill('input[name="code"]', code);
  await page.click('button[type="submit"]');
}

test("l: an operator enrols a second factor with a QR code, then signs in with a code that works once", async () => {
  const page = await h.page({ locale: "en-US" });
  await signIn(page, ADMIN_ENROLLING);
  await page.click("[data-second-factor-link]");
  await page.click("[data-enrol]");
  await page.waitForSelector("img.qr");
  const qr = await page.getAttribute("img.qr", "src");
  assert.match(qr, /^data:image\/svg\+xml;base64,/);
  assert.ok(await page.evaluate(() => document.querySelector("img.qr").naturalWidth > 0), "the QR code renders under the CSP");
  const secret = (await page.textContent("[data-secret]")).trim();
  const first = totp(secret);
  await page.fill('.second-factor input[name="code"]', first);
  await page.click('.second-factor button[type="submit"]');
  await page.waitForSelector("[data-recovery-codes] li");
  const recovery = await page.$$eval("[data-recovery-codes] code", (codes) => codes.map((c) => c.textContent));
  assert.equal(recovery.length, 10);
  await page.click("[data-codes-saved]");
  await page.waitForSelector("[data-who]");
  // The header is there before the console has re-read the session: wait for the invitation to go.
  await page.waitForSelector("[data-second-factor-link]", { state: "detached", timeout: 15000 });
  assert.equal(await page.$("[data-second-factor-link]"), null, "enrolled: no invitation to enrol");
  await page.click("[data-sign-out]");
  await page.waitForSelector('input[name="user"]');

  // The password alone asks for the code; a wrong code and the code already used are refused.
  await typeSignIn(page, ADMIN_ENROLLING, "000000");
  await page.waitForFunction(() => /Wrong or already used code/.test(document.querySelector(".problem")?.textContent ?? ""));
  await page.fill('input[name="code"]', first);
  const replayed = page.waitForResponse((r) => r.url().endsWith("/api/admin/session") && r.request().method() === "POST");
  await page.click('button[type="submit"]');
  assert.equal((await replayed).status(), 401, "a replayed code signs nobody in");
  await page.waitForFunction(() => /already used/.test(document.querySelector(".problem")?.textContent ?? ""));
  assert.equal(await page.$("[data-who]"), null);
  // The next code of the app (a step ahead, within the clock skew allowed) signs in.
  await page.fill('input[name="code"]', totp(secret, Date.now() / 1000 + 30));
  await page.click('button[type="submit"]');
  await page.waitForSelector("[data-who]", { timeout: 15000 });
  assert.match(await page.textContent("[data-who]"), /berik/);
  assert.deepEqual(page.errors, []);
  await page.context().close();

  // A lost phone: the CLI resets the factor; the person signs in with the password and may enrol again.
  assert.match(h.admin("reset-2fa", ADMIN_ENROLLING), /removed/);
  const again = await h.page({ locale: "en-US" });
  await signIn(again, ADMIN_ENROLLING);
  assert.ok(await again.$("[data-second-factor-link]"), "invited to enrol again");
  await again.context().close();
});

const merchant = (path, body, key) =>
  fetch(h.url(path), {
    method: body ? "POST" : "GET",
    headers: { authorization: `Bearer ${MERCHANT_KEY}`, "content-type": "application/json", ...(key ? { "idempotency-key": key } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  }).then((r) => r.json());

async function until(what, check) {
  for (let i = 0; i < 150; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what}`);
}

test("m: a payer ticks the consent and the card is saved; an operator sees it with the subscription it pays, deletes it and cancels the subscription", async () => {
  const order = await merchant(
    "/api/merchant/orders",
    { amount: "990", description: "Первый месяц", reference: "sub-trial-1", accountId: "cust-console", allowSaveCard: true },
    "sub-trial-1",
  );
  // The payer, on the hosted page: the consent is offered, unticked; they tick it and pay.
  const payer = await h.page({ locale: "ru-RU" });
  await payer.goto(order.checkoutUrl);
  await payer.waitForSelector(".epay-save:not([hidden])", { timeout: 15000 });
  assert.match(await payer.textContent(".epay-save"), /Сохранить карту для следующих оплат/);
  assert.equal(await payer.isChecked(".epay-save input"), false, "unticked until the payer ticks it");
  await payer.check(".epay-save input");
  await payer.click(".epay-pay");
  await payer.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  await payer.fill("#card", APPROVED);
  await payer.click("#pay");
  await payer.waitForURL(/[?&]order=\d+/, { timeout: 15000 });
  assert.deepEqual(payer.errors, []);
  await payer.context().close();
  const card = await until("the card is active", async () =>
    (await merchant("/api/merchant/customers/cust-console/cards")).data.find((c) => c.status === "active"),
  );
  const sub = await merchant(
    "/api/merchant/subscriptions",
    { accountId: "cust-console", card: card.id, amount: "990", interval: "month", description: "Подписка" },
    "sub-console-1",
  );
  await until("the first period is paid", async () => (await merchant(`/api/merchant/subscriptions/${sub.id}`)).currentPeriod === 2);

  // A viewer reads, and may change nothing.
  const viewer = await h.page({ locale: "ru-RU" });
  await signIn(viewer, ADMIN_VIEWER);
  await viewer.click("[data-nav-customers]");
  await viewer.waitForSelector("[data-customers]");
  await viewer.click('a:has-text("cust-console")');
  await viewer.waitForSelector(`[data-card="${card.id}"]`);
  assert.equal(await viewer.$("[data-delete-card]"), null);
  assert.equal(await viewer.$("[data-cancel-now]"), null);
  await viewer.context().close();

  const page = await h.page({ locale: "ru-RU" });
  await signIn(page, ADMIN_OPERATOR);
  await page.goto(h.url("/admin/#/customers/cust-console"));
  await page.waitForSelector(`[data-subscription="${sub.id}"] [data-charges] tbody tr`);
  assert.ok(await page.$(`[data-subscription="${sub.id}"] [data-charges] [data-outcome="paid"]`), "period 1 paid");
  assert.match(await page.textContent(`[data-subscription="${sub.id}"] [data-charges]`), /оплачен/);
  assert.match(await page.textContent(`[data-card="${card.id}"]`), /411111\.\.\.1111/);
  await h.screenshot(page, "console-customer");
  // Deleting the card: confirmed first; then it is deleted at ePay and here.
  await page.click("[data-delete-card]");
  assert.match(await page.textContent("[data-confirm]"), new RegExp(card.id));
  await page.click("[data-confirm-yes]");
  await page.waitForFunction((id) => document.querySelector(`[data-card="${id}"] [data-card-status]`)?.dataset.cardStatus === "deleted", card.id);
  assert.equal(await page.textContent(`[data-card="${card.id}"] [data-card-status]`), "удалена");
  const deleted = (await merchant("/api/merchant/customers/cust-console/cards")).data.find((c) => c.id === card.id);
  assert.equal(deleted.deactivatedAtEpay, true);
  // Cancelling the subscription now.
  await page.click("[data-cancel-now]");
  await page.click("[data-confirm-yes]");
  await page.waitForFunction(() => document.querySelector("[data-subscription-status]")?.dataset.subscriptionStatus === "cancelled");
  assert.match(await page.textContent("[data-subscription-status]"), /отменена \(отменена магазином/);
  const cancelled = await merchant(`/api/merchant/subscriptions/${sub.id}`);
  assert.deepEqual([cancelled.status, cancelled.statusReason], ["cancelled", "cancelled_by_merchant"]);
  assert.deepEqual(page.errors, []);
});

test("o: a paid order's fiscal receipt: the payer's page links it, the console lists it; a blocked register is an alert an operator clears by asking again", async () => {
  const body = {
    amount: "4999.99",
    description: "Чай и доставка",
    reference: "receipt-1",
    email: "buyer@example.kz",
    method: "pay",
    items: [
      { name: "Чай «Алатау», 250 г", quantity: "3", price: "1333.33" },
      { name: "Пиала", quantity: 0.5, price: "999.98" },
      { name: "Доставка", price: "500.01", vat: "none" },
    ],
  };
  const order = await merchant("/api/merchant/orders", body, "receipt-1");
  // The payer pays on the hosted page and, back on it, sees "paid" and then the receipt's link.
  const payer = await h.page({ locale: "ru-RU" });
  await payer.goto(order.checkoutUrl);
  await payer.click(".epay-pay");
  await payer.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  await payer.fill("#card", APPROVED);
  await payer.click("#pay");
  await payer.waitForURL(/[?&]order=\d+/, { timeout: 15000 });
  await payer.waitForSelector('.epay-outcome[data-outcome="paid"]', { timeout: 15000 });
  await payer.waitForSelector(".epay-receipt:not([hidden])", { timeout: 15000 });
  assert.equal(await payer.textContent(".epay-receipt"), "Чек");
  const link = await payer.getAttribute(".epay-receipt", "href");
  const view = await merchant(`/api/merchant/orders/${order.invoiceId}`);
  assert.equal(view.receipts[0].status, "issued");
  assert.equal(link, view.receipts[0].url, "the payer's link is the OFD's page of the receipt");
  assert.match(link, new RegExp(`i=${view.receipts[0].fiscalSign}`));
  assert.deepEqual(payer.errors, []);
  await payer.context().close();

  // The register is blocked: the next receipt waits, and the console says a person must act.
  await h.webkassa({ blocked: true });
  const waiting = await paidOrder("receipt-2", "700");
  const page = await h.page({ locale: "ru-RU" });
  await signIn(page, ADMIN_OPERATOR);
  await page.click("[data-nav-receipts]");
  await page.waitForSelector(`[data-receipt-status="issued"]`);
  await until("the console shows the alert", async () => {
    await page.reload();
    await page.waitForSelector("[data-receipts] table");
    return page.$('[data-alert="cash_register_blocked"]');
  });
  assert.match(await page.textContent("[data-alert]"), /касса заблокирована/);
  await h.screenshot(page, "console-receipts");
  // The home page says so too, and leads here.
  await page.click('a[href="#/"]');
  await page.waitForSelector('[data-receipts-tile][data-alert="on"]');
  await page.click("[data-receipts-tile]");
  await page.waitForSelector('[data-alert="cash_register_blocked"]');
  // Fixed at Webkassa; the operator asks again, and the receipt is issued.
  await h.webkassa({});
  const row = (await merchant(`/api/merchant/orders/${waiting}`)).receipts[0].id;
  await page.click(`[data-receipt="${row}"] [data-retry-receipt]`);
  await until("the receipt is issued", async () => (await merchant(`/api/merchant/orders/${waiting}`)).receipts[0].status === "issued");
  await page.reload();
  await page.waitForSelector(`[data-receipt="${row}"][data-receipt-status="issued"]`);
  assert.equal(await page.$("[data-alert]"), null, "the alert is gone once a receipt went through");
  assert.deepEqual(page.errors, []);
});
