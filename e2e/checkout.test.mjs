// One P2P transfer end to end in headless Chromium: the release widget served by the proxy
// in sandbox mode, the sandbox's payment page, the postLink, the outcome on the storefront.
//
//   node --test e2e/        (scripts/test runs it after building everything)

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { CLIENT_SECRET, Harness } from "./harness.mjs";

let h;
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const APPROVED = "4111 1111 1111 1111";
const DECLINED = "4000 0000 0000 9995";

/** The storefront's Pay button → the sandbox payment page. */
async function toPaymentPage(page) {
  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\/\?params=.+&isTransfer=true$/, { timeout: 15000 });
}

/** Pays on the sandbox payment page with `card` → back on the storefront with ?order= and
 * the order key in the fragment (#key=), where no server sees it, and which the widget then
 * takes out of the address bar. */
async function payWith(page, card) {
  await page.fill("#card", card);
  await page.click("#pay");
  await page.waitForURL(/[?&]order=\d+/, { timeout: 15000 });
  await page.waitForFunction(() => !location.hash.includes("key="), null, { timeout: 15000 });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("key"), null, "the key is not in the query");
  return url.searchParams.get("order");
}

async function outcome(page, name) {
  await page.waitForSelector(`.epay-outcome[data-outcome="${name}"]`, { timeout: 15000 });
  return (await page.textContent(".epay-message")).trim();
}

test("a: 1 500 ₸ with the approved card ends paid, on the page and in the store", async () => {
  const page = await h.page();
  await page.goto(h.url("/"));
  await page.waitForSelector('.env-badge[data-env="sandbox"]');
  await page.waitForSelector(".epay-sandbox:not([hidden])");
  assert.equal((await page.textContent(".epay-total strong")).trim(), "1\u00a0500\u00a0₸");
  await h.screenshot(page, "storefront");

  await toPaymentPage(page);
  assert.match(await page.textContent("[data-amount]"), /1\u00a0500\u00a0₸/);
  assert.match(await page.textContent(".sandbox-banner"), /SANDBOX/);
  await h.screenshot(page, "payment-page");

  const invoiceId = await payWith(page, APPROVED);
  assert.equal(await outcome(page, "paid"), "Перевод выполнен: 1\u00a0500\u00a0₸");
  assert.equal((await page.textContent(".epay-card")).trim(), "Карта 411111...1111");
  await h.screenshot(page, "outcome-paid");

  const order = h.orders("show", invoiceId);
  assert.equal(order.status, "paid");
  assert.equal(order.amount, "1500");
  assert.equal(order.cardMask, "411111...1111");
  assert.equal(order.notifications.length, 1);
  assert.equal(order.notifications[0].endpoint, "postlink");
  assert.equal(order.notifications[0].verdict, "accepted");
  assert.equal(order.notifications[0].body.code, "ok");
  assert.deepEqual(page.errors, []);
});

test("b: the declined card ends failed with the translated reason", async () => {
  const page = await h.page();
  await page.goto(h.url("/?lang=en"));
  await toPaymentPage(page);
  const invoiceId = await payWith(page, DECLINED);
  assert.equal(await outcome(page, "failed"), "Transfer failed. Insufficient funds on the card.");
  assert.equal(await page.isVisible(".epay-again"), true);
  await h.screenshot(page, "outcome-failed");

  const order = h.orders("show", invoiceId);
  assert.equal(order.status, "failed");
  assert.equal(order.failureCode, 484);
  assert.equal(order.notifications[0].endpoint, "failure_postlink");
  // The failure postLink carries no secret_hash (the seed's sample): a hint; the status API decided.
  assert.equal(order.notifications[0].verdict, "hint");
  assert.deepEqual(page.errors, []);
});

test("c: a double click on Pay makes exactly one invoice", async () => {
  const before = h.orders("list", "1000").length;
  const page = await h.page();
  const checkouts = [];
  page.on("request", (request) => request.url().endsWith("/api/checkout") && checkouts.push(request));
  await page.goto(h.url("/"));
  // The page's skeleton shows a disabled Pay button until the wasm mounts; click the widget's.
  await page.waitForSelector(".epay-pay:not([disabled])");
  await page.evaluate(() => {
    const pay = document.querySelector(".epay-pay");
    pay.click();
    pay.click();
  });
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  assert.equal(checkouts.length, 1);
  assert.equal(h.orders("list", "1000").length, before + 1);
});

test("d: when the token step fails the widget says so, and Retry succeeds", async () => {
  const before = h.orders("list", "1000").length;
  await h.sandbox({ failTokens: 1, failTokensStatus: 500 });
  try {
    const page = await h.page();
    await page.goto(h.url("/?lang=kk"));
    await page.click(".epay-pay");
    await page.waitForSelector(".epay-problem:not([hidden])", { timeout: 15000 });
    assert.equal((await page.textContent(".epay-problem p")).trim(), "Төлем қызметі уақытша қолжетімсіз. Бір минуттан кейін қайталаңыз.");
    assert.equal(await page.getAttribute(".epay-pay", "aria-busy"), "false");
    await page.click(".epay-retry");
    await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
    assert.deepEqual(page.errors, []);
    // The retry reused the attempt's Idempotency-Key: one order, started twice.
    const orders = h.orders("list", "1000");
    assert.equal(orders.length, before + 1);
    assert.equal(orders[0].status, "pending");
  } finally {
    await h.sandbox({});
  }
});

test("the widget embedded with one element and widget.js takes a typed amount to paid", async () => {
  const page = await h.page({ width: 360, height: 740 });
  await page.goto(h.url("/transfer.html?lang=en"));
  await page.waitForSelector(".epay-amount:not([hidden]) input");
  await page.fill(".epay-amount input", "12,555");
  await page.waitForSelector('.epay-amount input[aria-invalid="true"]');
  assert.equal((await page.textContent(".epay-amount .epay-error")).trim(), "At most two digits after the decimal point");
  await page.fill(".epay-amount input", "2 500,50");
  await page.fill(".epay-comment input", "For the tea");
  await page.waitForSelector('.epay-amount input[aria-invalid="false"]');
  await toPaymentPage(page);
  assert.match(await page.textContent("[data-description]"), /For the tea/);
  const invoiceId = await payWith(page, APPROVED);
  assert.equal(await outcome(page, "paid"), "Transfer complete: ₸2,500.50");
  assert.equal(h.orders("show", invoiceId).amount, "2500.50");
  assert.deepEqual(page.errors, []);
});

test("the load chain: a skeleton at once, the preloaded wasm, the settings in parallel, one button at the end", async () => {
  for (const [path, wasm] of [
    ["/", /^\/widget\.wasm$/], // index.html preloads the stable name (README, "Embedding")
    ["/pay.html", /^\/epay-widget-[0-9a-f]{16}_bg\.wasm$/], // the one-element embed: the hashed file
  ]) {
    const page = await h.page();
    const requested = [];
    let lastSettingsRequest = 0;
    let wasmArrived = 0;
    page.on("request", (request) => {
      requested.push(new URL(request.url()).pathname);
      if (request.url().endsWith("/api/widget-config")) lastSettingsRequest = performance.now();
    });
    page.on("response", (response) => response.url().endsWith(".wasm") && (wasmArrived = performance.now()));
    // A slow wasm, so that the skeleton is there to be seen.
    await page.route(/\.wasm$/, async (route) => {
      await new Promise((done) => setTimeout(done, 700));
      await route.continue();
    });
    await page.goto(h.url(path));
    const skeleton = await page.waitForSelector(".epay-skeleton .epay-pay[disabled]", { timeout: 5000 });
    const amount = path === "/" ? "1 500 ₸" : "4 900 ₸";
    assert.equal((await skeleton.textContent()).replace(/\s+/g, " ").trim(), amount);
    await page.waitForSelector(".epay-pay:not([disabled])", { timeout: 15000 });
    assert.equal(await page.locator(".epay-pay").count(), 1, `${path}: the skeleton gave way to the widget`);
    assert.equal((await page.textContent(".epay-pay .epay-pay-amount")).replace(/\s+/g, " ").trim(), amount);
    const wasms = requested.filter((p) => p.endsWith(".wasm"));
    assert.equal(wasms.length, 1, `${path}: one wasm download (${wasms})`);
    assert.match(wasms[0], wasm);
    // The settings: once by the demo's badge script and once by widget.js, while the wasm was
    // still on its way; the wasm asked for no copy of its own.
    assert.equal(requested.filter((p) => p === "/api/widget-config").length, 2);
    assert.ok(lastSettingsRequest > 0 && lastSettingsRequest < wasmArrived, "the settings did not wait for the wasm");
    assert.deepEqual(page.errors, []);
  }
});

test("Enter in the comment field pays, once", async () => {
  const page = await h.page();
  const checkouts = [];
  page.on("request", (request) => request.url().endsWith("/api/checkout") && checkouts.push(request.url()));
  await page.goto(h.url("/transfer.html?lang=en"));
  await page.waitForSelector(".epay-amount:not([hidden]) input");
  await page.fill(".epay-amount input", "700");
  await page.fill(".epay-comment input", "Enter pays");
  await page.press(".epay-comment input", "Enter");
  await page.waitForURL(/\/sandbox\/payform\/\?params=.+&isTransfer=true$/, { timeout: 15000 });
  assert.equal(checkouts.length, 1);
  assert.deepEqual(page.errors, []);
});

test("every page survives a reload and a revisit with its widget and no CSP violation", async () => {
  const page = await h.page();
  for (const path of ["/", "/transfer.html", "/pay.html", "/overlay.html"]) {
    await page.goto(h.url(path));
    await page.waitForSelector(".epay-pay:not([disabled])", { timeout: 15000 });
    // Reload: the browser revalidates the page and its files (304s) and must keep the page's policy.
    const revalidated = [];
    const onResponse = (response) => response.status() === 304 && revalidated.push(response.url());
    page.on("response", onResponse);
    await page.reload();
    await page.waitForSelector(".epay-pay:not([disabled])", { timeout: 15000 });
    await page.waitForFunction(() => getComputedStyle(document.querySelector(".epay-pay")).cursor === "pointer");
    page.off("response", onResponse);
    // (Chromium reports the page itself as 200 from its cache once revalidated; its files show the 304s.)
    assert.ok(revalidated.length > 0, `${path}: the reload revalidated the page's files`);
    // Revisit in the same browser.
    await page.goto(h.url("/healthz"));
    await page.goto(h.url(path));
    await page.waitForSelector(".epay-pay:not([disabled])", { timeout: 15000 });
  }
  assert.deepEqual(page.errors, []);
});

test("card payment (halyk.pay) on its own page ends paid, in payment words", async () => {
  const page = await h.page();
  await page.goto(h.url("/pay.html?lang=en"));
  assert.equal((await page.textContent(".epay-pay")).trim().split(/\s+/)[0], "Pay");
  await page.click(".epay-pay");
  await page.waitForURL(/\/sandbox\/payform\/\?params=[^&]+$/, { timeout: 15000 });
  assert.equal(await page.isVisible("#receiver"), false, "a card payment asks for no receiving card");
  const invoiceId = await payWith(page, APPROVED);
  assert.equal(await outcome(page, "paid"), "Payment successful: ₸4,900");
  const order = h.orders("show", invoiceId);
  assert.equal(order.terminal, "67e34d63-102f-4bd1-898e-370781d0074d", "the card-payment terminal");
  assert.deepEqual(page.errors, []);
});

test("the overlay (showPaymentWidget) works under the storefront's strict CSP", async () => {
  const page = await h.page();
  await page.goto(h.url("/overlay.html?lang=en"));
  const csp = (await page.request.get(h.url("/overlay.html"))).headers()["content-security-policy"];
  assert.match(csp, /style-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  await page.click(".epay-pay");
  const frame = await (await page.waitForSelector("[data-epay-sandbox-overlay] iframe", { timeout: 15000 })).contentFrame();
  // payment-api.js styled its overlay with a <style> element, and the policy let it apply.
  assert.equal(await page.locator("style#epay-sandbox-overlay-style").count(), 1);
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector("[data-epay-sandbox-overlay]")).position), "fixed");
  await frame.waitForSelector("#card");
  await frame.click("#pay");
  assert.equal(await outcome(page, "paid"), "Payment successful: ₸4,900");
  assert.equal(await page.locator("[data-epay-sandbox-overlay]").count(), 0, "the overlay closed");
  assert.deepEqual(page.errors, []);
});

test("ePay's encodeParams sends null and undefined as empty strings", async () => {
  const page = await h.page();
  await page.goto(h.url("/transfer.html"));
  await page.waitForFunction(() => typeof window.halyk === "object", null, { timeout: 15000 });
  await page.evaluate(async () => {
    const response = await fetch("/api/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "e2e-null-fields" },
      body: JSON.stringify({ amount: "100" }),
    });
    const c = await response.json();
    window.halyk.p2p({
      invoiceId: c.invoiceId, backLink: c.backLink, failureBackLink: null, postLink: c.postLink, failurePostLink: undefined,
      language: c.language, description: null, accountId: undefined, terminal: c.terminal, amount: 100, currency: c.currency,
      phone: null, email: undefined, cardSave: false, auth: c.auth,
    });
  });
  await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15000 });
  // The sandbox refuses the words "null" and "undefined": the form opens only if they were "".
  await page.waitForSelector("#card", { timeout: 5000 });
  assert.deepEqual(page.errors, []);
});

test("e: no page, script or response the browser received holds client_secret or a secret_hash", async () => {
  const hashes = h.secretHashes();
  assert.ok(hashes.length >= 5, `expected the orders of the tests above, got ${hashes.length}`);
  assert.ok(h.received.length > 40, `expected the responses of the tests above, got ${h.received.length}`);
  for (const secret of [CLIENT_SECRET, ...hashes]) {
    for (const { url, headers, body } of h.received) {
      assert.ok(!url.includes(secret) && !headers.includes(secret) && !body.includes(secret), `${secret.slice(0, 4)}… leaked in ${url}`);
    }
    assert.ok(!h.log.includes(secret), `${secret.slice(0, 4)}… is in the proxy's log`);
  }
  // The scripts the browser ran include the widget and ePay's (sandbox) payment-api.js.
  assert.ok(h.received.some((r) => /epay-widget-[0-9a-f]+_bg\.wasm$/.test(r.url)));
  assert.ok(h.received.some((r) => r.url.endsWith("/sandbox/payform/payment-api.js")));
});
