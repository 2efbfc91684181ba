// What the payer feels, measured in headless Chromium against the release widget and the
// release proxy (sandbox mode, loopback). Run through scripts/perf-browser; not a test: it
// prints medians side by side with their baselines from the same run.
//
//  1. Cold load on Lighthouse's "slow 4G" network (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s
//     up), a new browser context (empty cache) per load: when the pay button is shown
//     (disabled skeleton) and usable (enabled, with the amount), beside the page's own
//     DOMContentLoaded, and how many requests the page made.
//  2. Click → the page starts leaving for ePay (the Navigation API's `navigate` event, which
//     fires when payment-api.js assigns location.href), in-page clock, unthrottled loopback,
//     beside one bare `POST /api/checkout` from the same page just before; with `--trace`,
//     one more click under Chromium's tracing, its main-thread time by kind.
//  3. Pay on the sandbox's payment page → "paid" shown on the storefront it returns to,
//     beside that return page's own DOMContentLoaded (both on the browser's wall clock, from
//     the press of the page's Pay button).
//
//   node scripts/perf-browser.mjs [--loads N] [--clicks N] [--payments N] [--trace] [--json FILE]

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { CHROMIUM_ARGS, freePort } from "../e2e/harness.mjs";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const PROXY_BIN = process.env.EPAY_PROXY_BIN ?? join(ROOT, "target/release/epay-proxy");
const argument = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const LOADS = argument("--loads", 15);
const CLICKS = argument("--clicks", 25);
const PAYMENTS = argument("--payments", 9);
const JSON_OUT = process.argv.includes("--json") ? process.argv[process.argv.indexOf("--json") + 1] : null;
const TRACE = process.argv.includes("--trace");

// Lighthouse's mobile "slow 4G" (its devtools throttling figures as the issue states them).
const SLOW_4G = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8) | 0, uploadThroughput: (750e3 / 8) | 0 };

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const ms = (value) => `${value.toFixed(0).padStart(6)} ms`;
const ms1 = (value) => `${value.toFixed(1).padStart(6)} ms`;

async function startProxy() {
  const dir = mkdtempSync(join(tmpdir(), "epay-perf-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = "";
  const child = spawn(PROXY_BIN, [], {
    env: {
      ...process.env,
      EPAY_ENV: "sandbox",
      LISTEN: `127.0.0.1:${port}`,
      PUBLIC_URL: base,
      DATABASE_URL: `sqlite:${join(dir, "orders.sqlite3")}`,
      WIDGET_DIR: join(ROOT, "dist"),
      CHECKOUT_OPEN_AMOUNTS: "true",
      ALLOWED_ORIGINS: base,
      // Many payers from one address (this script): no per-client limit.
      CHECKOUT_RATE_PER_MINUTE: "0",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(base + "/healthz")).ok) return { base, stop: () => (child.kill(), rmSync(dir, { recursive: true, force: true })) };
    } catch {}
    if (child.exitCode !== null) throw new Error("the proxy exited:\n" + log);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the proxy did not become healthy:\n" + log);
}

// Runs in the page before its own scripts: notes when the pay button is first shown and when
// it is first usable (enabled, its amount filled in), on the page's clock (0 = navigation).
function watchPayButton() {
  const seen = (window.__payButton = { shown: 0, usable: 0 });
  const check = () => {
    const button = document.querySelector(".epay-pay");
    if (!button) return;
    seen.shown ||= performance.now();
    const amount = button.querySelector(".epay-pay-amount");
    if (!seen.usable && !button.disabled && amount && amount.textContent.trim()) {
      seen.usable = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function coldLoads(browser, base, path) {
  const rows = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", SLOW_4G);
    await page.addInitScript(watchPayButton);
    await page.goto(base + path, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.__payButton.usable > 0, null, { timeout: 30_000 });
    rows.push(
      await page.evaluate(() => {
        const navigation = performance.getEntriesByType("navigation")[0];
        return {
          dcl: navigation.domContentLoadedEventStart,
          shown: window.__payButton.shown,
          usable: window.__payButton.usable,
          requests: 1 + performance.getEntriesByType("resource").length,
        };
      }),
    );
    await context.close();
  }
  return rows;
}

// The storefront in a new browser context (an empty cache), unthrottled, once its pay button
// is usable and payment-api.js has loaded (the widget preloads it), as for a payer who reads
// first; `watch` runs in every page before its scripts, as watchPayButton does.
async function readyStorefront(browser, base, ...watch) {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const script of [watchPayButton, ...watch]) await page.addInitScript(script);
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => window.__payButton.usable > 0 && typeof window.halyk === "object", null, { timeout: 30_000 });
  return { context, page };
}

// One page load per click: a bare checkout first (the baseline, same connection pool), then
// the widget's own click, timed to the navigation payment-api.js starts.
async function clicks(browser, base) {
  const rows = [];
  for (let i = 0; i < CLICKS; i++) {
    const { context, page } = await readyStorefront(browser, base);
    const row = await page.evaluate(async () => {
      const bareStarted = performance.now();
      const response = await fetch("/api/checkout", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
        body: JSON.stringify({ amount: "1500", description: "bare checkout" }),
      });
      await response.json();
      const bare = performance.now() - bareStarted;
      const leaving = new Promise((done) => {
        navigation.addEventListener("navigate", (event) => {
          event.preventDefault(); // the figure is taken; stay on the page
          done(performance.now());
        });
      });
      // Where the time goes, without instrumenting the widget: its request's own timing, and
      // its epay:redirect event (sent just before it calls halyk).
      let redirected = 0;
      document.addEventListener("epay:redirect", () => (redirected = performance.now()), { once: true });
      const clicked = performance.now();
      // ePay's own part: from the call of halyk.<method> to the navigation it starts.
      let called = 0;
      for (const method of ["p2p", "pay", "oct", "aft"]) {
        const handOver = window.halyk[method];
        window.halyk[method] = function (payment) {
          called = performance.now();
          return handOver.call(this, payment);
        };
      }
      document.querySelector(".epay-pay").click();
      const left = await leaving;
      const request = performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/api/checkout")).at(-1);
      const phases = [
        ["click → the widget's request starts", request.startTime - clicked],
        ["the widget's request → its answer", request.responseEnd - request.startTime],
        ["answer → epay:redirect", redirected - request.responseEnd],
        ["epay:redirect → halyk called", called - redirected],
        ["halyk → navigation (ePay's own)", left - called],
      ];
      return { bare, click: left - clicked, ours: called - clicked, phases };
    });
    rows.push(row);
    await context.close();
  }
  return rows;
}

// Runs in every page before its own scripts: on the storefront the widget returns to, notes
// (wall clock) when the outcome "paid" is first shown.
function watchOutcome() {
  const observer = new MutationObserver(() => {
    if (document.querySelector('.epay-outcome[data-outcome="paid"]')) {
      window.__paidShown = performance.timeOrigin + performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
}

// One payment per round: the storefront's click, then, on the sandbox's payment page, the
// approved test card and its Pay button; timed from that press to "paid" on the storefront.
async function payments(browser, base) {
  const rows = [];
  for (let i = 0; i < PAYMENTS; i++) {
    const { context, page } = await readyStorefront(browser, base, watchOutcome);
    await page.click(".epay-pay");
    await page.waitForURL(/\/sandbox\/payform\//, { timeout: 15_000 });
    await page.fill("#card", "4111 1111 1111 1111");
    const pressed = await page.evaluate(() => {
      const at = performance.timeOrigin + performance.now();
      document.querySelector("#pay").click();
      return at;
    });
    await page.waitForURL(/[?&]order=\d+/, { timeout: 15_000 });
    await page.waitForFunction(() => window.__paidShown > 0, null, { timeout: 15_000 });
    rows.push(
      await page.evaluate((pressed) => {
        const navigation = performance.getEntriesByType("navigation")[0];
        return { dcl: performance.timeOrigin + navigation.domContentLoadedEventStart - pressed, paid: window.__paidShown - pressed };
      }, pressed),
    );
    await context.close();
  }
  return rows;
}

// One more click, under Chromium's tracing: the main thread's time from the click to the
// navigation, by kind (script, style and layout, paint, the rest), beside its wall time.
async function tracedClick(browser, base) {
  const { context, page } = await readyStorefront(browser, base);
  await browser.startTracing(page, { categories: ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink.user_timing"] });
  const window_ = await page.evaluate(async () => {
    const leaving = new Promise((done) => {
      navigation.addEventListener("navigate", (event) => {
        event.preventDefault();
        done(performance.timeOrigin + performance.now());
      });
    });
    performance.mark("epay-click");
    const clicked = performance.timeOrigin + performance.now();
    document.querySelector(".epay-pay").click();
    return { clicked, left: await leaving };
  });
  const trace = JSON.parse((await browser.stopTracing()).toString());
  await context.close();
  const events = trace.traceEvents ?? trace;
  const mark = events.find((e) => e.name === "epay-click");
  // The trace's clock (µs) at the click, from the user-timing mark; the window is the click's.
  const start = mark.ts;
  const end = start + (window_.left - window_.clicked) * 1000;
  const kinds = { script: 0, "style and layout": 0, paint: 0, "parse HTML": 0 };
  const scripts = {};
  const kindOf = (name) =>
    ({
      FunctionCall: "script",
      EvaluateScript: "script",
      "v8.compile": "script",
      TimerFire: "script",
      FireAnimationFrame: "script",
      EventDispatch: "script",
      RunMicrotasks: "script",
      "v8.evaluateModule": "script",
      UpdateLayoutTree: "style and layout",
      RecalculateStyles: "style and layout",
      Layout: "style and layout",
      PrePaint: "paint",
      Paint: "paint",
      Layerize: "paint",
      ParseHTML: "parse HTML",
    })[name];
  // Top-level main-thread work only (nested events are inside their parents' durations).
  const main = events.filter((e) => e.ph === "X" && e.name === "RunTask" && e.ts + e.dur > start && e.ts < end && e.tid === mark.tid);
  let busy = 0;
  for (const task of main) {
    const overlap = Math.min(task.ts + task.dur, end) - Math.max(task.ts, start);
    busy += overlap;
    const inside = events.filter(
      (e) => e.ph === "X" && e.tid === mark.tid && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur && kindOf(e.name),
    );
    // The outermost event of each kind counts (a FunctionCall inside an EventDispatch does not).
    for (const e of inside) {
      const parent = inside.find((p) => p !== e && p.ts <= e.ts && p.ts + p.dur >= e.ts + e.dur && kindOf(p.name) === kindOf(e.name));
      if (parent) continue;
      const spent = Math.max(0, Math.min(e.ts + e.dur, end) - Math.max(e.ts, start));
      kinds[kindOf(e.name)] += spent;
      const url = e.args?.data?.url || e.args?.data?.stackTrace?.[0]?.url || "";
      if (kindOf(e.name) === "script") scripts[url.split("/").at(-1).split("?")[0] || "(the page, the browser)"] = (scripts[url.split("/").at(-1).split("?")[0] || "(the page, the browser)"] ?? 0) + spent;
    }
  }
  const inMs = (table) => Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v / 1000]));
  return { wall: (end - start) / 1000, busy: busy / 1000, kinds: inMs(kinds), scripts: inMs(scripts) };
}

const proxy = await startProxy();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: CHROMIUM_ARGS,
});
try {
  // The demo storefront as the README recommends embedding (widget.wasm preloaded in <head>),
  // and the card payment page with the one-element embed (widget.js at the end of <body>).
  const pages = [
    ["/", "index.html, wasm preloaded"],
    ["/pay.html", "pay.html, widget.js alone"],
  ];
  const loads = [];
  for (const [path] of pages) loads.push(await coldLoads(browser, proxy.base, path));
  const taps = await clicks(browser, proxy.base);
  const paid = await payments(browser, proxy.base);
  const traced = TRACE ? await tracedClick(browser, proxy.base) : null;
  console.log(`\nCold loads on slow 4G (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up), medians of ${LOADS}:`);
  console.log(`  ${"".padEnd(36)} ${pages.map(([, name]) => name.padStart(28)).join("")}`);
  const row = (what, value) => console.log(`  ${what.padEnd(36)} ${loads.map((rows) => value(rows).padStart(28)).join("")}`);
  row("page's own DOMContentLoaded", (rows) => ms(median(rows.map((r) => r.dcl))));
  row("pay button shown (skeleton)", (rows) => ms(median(rows.map((r) => r.shown))));
  row("pay button usable", (rows) => ms(median(rows.map((r) => r.usable))));
  row("  usable − DCL (goal ≤ 350 ms)", (rows) => ms(median(rows.map((r) => r.usable - r.dcl))));
  row("requests made by the page", (rows) => String(median(rows.map((r) => r.requests))));
  const bare = median(taps.map((r) => r.bare));
  const click = median(taps.map((r) => r.click));
  console.log(`\nClick → leaving for ePay, loopback, medians of ${CLICKS}:`);
  console.log(`  one bare POST /api/checkout            ${ms1(bare)}`);
  const ours = median(taps.map((r) => r.ours));
  console.log(`  click → navigation starts              ${ms1(click)}   (bare + ${(click - bare).toFixed(1)} ms)`);
  console.log(`  click → halyk called (the widget's part)${ms1(ours)}   (bare + ${(ours - bare).toFixed(1)} ms)`);
  const phases = taps[0].phases.map(([name], i) => [name, median(taps.map((r) => r.phases[i][1]))]);
  for (const [name, value] of phases) console.log(`    ${name.padEnd(37)}${ms1(value)}`);
  const ratios = taps.map((r) => r.click / r.bare);
  console.log(`  click ÷ bare: median ${median(ratios).toFixed(2)}× (goal ≤ 2.0×)`);
  if (traced) {
    console.log(`\nOne click under Chromium's tracing: ${ms1(traced.wall)} click → navigation; the main thread busy ${ms1(traced.busy)}`);
    for (const [kind, value] of Object.entries(traced.kinds)) console.log(`    ${kind.padEnd(37)}${ms1(value)}`);
    for (const [script, value] of Object.entries(traced.scripts)) console.log(`      script in ${script.padEnd(27)}${ms1(value)}`);
  }
  const paidDcl = median(paid.map((r) => r.dcl));
  const paidShown = median(paid.map((r) => r.paid));
  console.log(`\nPay on the sandbox's payment page → "paid" shown on the storefront, medians of ${PAYMENTS}:`);
  console.log(`  the return page's DOMContentLoaded      ${ms1(paidDcl)}`);
  console.log(`  "paid" shown                            ${ms1(paidShown)}   (DCL + ${(paidShown - paidDcl).toFixed(1)} ms; goal ≤ 300 ms)`);
  if (JSON_OUT) {
    const [preloaded] = loads;
    writeFileSync(
      JSON_OUT,
      JSON.stringify({
        usable: median(preloaded.map((r) => r.usable)),
        dcl: median(preloaded.map((r) => r.dcl)),
        usableAlone: median(loads[1].map((r) => r.usable)),
        dclAlone: median(loads[1].map((r) => r.dcl)),
        click,
        bare,
        clickRatio: median(ratios),
        paidShown,
        paidDcl,
        loads: LOADS,
        clicks: CLICKS,
        payments: PAYMENTS,
      }),
    );
  }
} finally {
  await browser.close();
  proxy.stop();
}
