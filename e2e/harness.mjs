// End-to-end harness: the real proxy (sandbox mode, its own SQLite file) serving the RELEASE
// widget from dist/, and headless Chromium driven by playwright-core. Every response the
// browser receives is recorded, so a test can prove no secret ever reached it.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, mkdirSync, readdirSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");
const { Webhook } = require("standardwebhooks");

export const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const CLIENT_SECRET = "yF587AV9Ms94qN2QShFzVR3vFnWkhjbAK3sG"; // the sandbox default (seed's test merchant)
const PROXY_BIN = process.env.EPAY_PROXY_BIN ?? join(ROOT, "target/debug/epay-proxy");
const SHOP_BIN = process.env.EPAY_SHOP_BIN ?? join(ROOT, "target/debug/epay-demo-shop");
/** The demo shop's staff account for this run. */
export const STAFF_USER = "anna";
export const STAFF_PASSWORD = "e2e staff password";
/** The console's people of this run: an operator and a viewer, one password. */
export const ADMIN_OPERATOR = "aigerim";
export const ADMIN_VIEWER = "dana";
/** An operator who enrols a second factor in the browser test (the others have none). */
export const ADMIN_ENROLLING = "berik";
export const ADMIN_PASSWORD = "e2e console password";
/** The merchant API key of this run: the demo shop's, never a browser's. */
export const MERCHANT_KEY = "e2e-merchant-key-" + "0123456789abcdef".repeat(2);
/** The webhook signing secret of this run. */
export const WEBHOOK_SECRET = "whsec_" + Buffer.from("e2e webhook secret, 32 bytes!!!!").toString("base64");
const DIST = join(ROOT, "dist");
export const SCREENSHOTS = join(ROOT, "target/e2e-screenshots");

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** A port nothing listens on now, on loopback. */
export async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

export class Harness {
  /** Starts the proxy and the browser. */
  static async start() {
    if (!existsSync(PROXY_BIN)) throw new Error(`no proxy binary at ${PROXY_BIN}: run cargo build -p epay-proxy`);
    if (!readdirSync(DIST).some((f) => f.endsWith("_bg.wasm.br"))) {
      throw new Error("dist/ holds no release build (no precompressed wasm): run scripts/build-widget");
    }
    const h = new Harness();
    h.dir = mkdtempSync(join(tmpdir(), "epay-e2e-"));
    h.database = join(h.dir, "orders.sqlite3");
    h.port = await freePort();
    h.base = `http://127.0.0.1:${h.port}`;
    h.shopPort = await freePort();
    h.shopBase = `http://127.0.0.1:${h.shopPort}`;
    await h.startWebhookRelay();
    // The console's accounts, hashed by the proxy itself (the password on standard input).
    const adminHash = execFileSync(PROXY_BIN, ["admin", "hash-password"], { input: ADMIN_PASSWORD + "\n" }).toString().trim();
    h.env = {
      ...process.env,
      EPAY_ENV: "sandbox",
      LISTEN: `127.0.0.1:${h.port}`,
      PUBLIC_URL: h.base,
      DATABASE_URL: `sqlite:${h.database}`,
      WIDGET_DIR: DIST,
      LOG_FORMAT: "json",
      RUST_LOG: "info",
      // The storefront pages let payers choose amounts; the demo shop sells through the
      // merchant API, from its own origin.
      CHECKOUT_OPEN_AMOUNTS: "true",
      MERCHANT_API_KEY: MERCHANT_KEY,
      ALLOWED_ORIGINS: `${h.base},${h.shopBase}`,
      WEBHOOK_URL: h.webhookUrl,
      WEBHOOK_SECRET,
      ADMIN_USERS: `${ADMIN_OPERATOR}:operator:${adminHash};${ADMIN_VIEWER}:viewer:${adminHash};${ADMIN_ENROLLING}:operator:${adminHash}`,
      // AUTH is a hold (the sandbox answers AUTH only when a test turns on its twoStage knob).
      EPAY_TWO_STAGE: "true",
      // A refund ePay never answers is a person's after 3 s of showing no trace (not 15 min).
      EPAY_TIMEOUT_SECS: "2",
      EPAY_OPERATION_SETTLE_SECS: "3",
      // Every test signs in from 127.0.0.1; the console suite alone passes the default 10
      // sign-ins a minute from one address (the limit has its own API tests).
      ADMIN_SIGN_IN_RATE_PER_MINUTE: "1000",
      // Fiscal receipts for every payment, through the sandbox's own Webkassa.
      FISCAL_REGISTRAR: "webkassa",
      FISCAL_VAT_RATE: "16",
      WEBKASSA_TIMEOUT_SECS: "2",
    };
    h.log = "";
    h.proxy = spawn(PROXY_BIN, [], { env: h.env, stdio: ["ignore", "pipe", "pipe"] });
    h.proxy.stdout.on("data", (chunk) => (h.log += chunk));
    h.proxy.stderr.on("data", (chunk) => (h.log += chunk));
    await h.waitForHealth();
    if (!existsSync(SHOP_BIN)) throw new Error(`no shop binary at ${SHOP_BIN}: run cargo build -p epay-demo-shop`);
    h.shopLog = "";
    // The shop's staff account, hashed by the shop itself (its password on standard input).
    const staffHash = execFileSync(SHOP_BIN, ["hash-password"], { input: STAFF_PASSWORD + "\n" }).toString().trim();
    h.shop = spawn(SHOP_BIN, [], {
      env: {
        ...process.env,
        SHOP_LISTEN: `127.0.0.1:${h.shopPort}`,
        PROXY_URL: h.base,
        MERCHANT_API_KEY: MERCHANT_KEY,
        WEBHOOK_SECRET,
        SHOP_DATABASE_URL: `sqlite:${join(h.dir, "shop.sqlite3")}`,
        SHOP_STAFF_USERS: `${STAFF_USER}:${staffHash}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    h.shop.stdout.on("data", (chunk) => (h.shopLog += chunk));
    h.shop.stderr.on("data", (chunk) => (h.shopLog += chunk));
    await h.waitFor(h.shopBase + "/", h.shop, () => h.shopLog);
    h.browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
    h.received = []; // every response the browser got: url, headers, body
    mkdirSync(SCREENSHOTS, { recursive: true });
    return h;
  }

  /**
   * Between the proxy and the shop: every webhook is verified here with the npm
   * `standardwebhooks` package (a second implementation of the standard, besides the shop's
   * Rust crate), recorded, and passed on to the shop, whose answer goes back to the proxy.
   */
  async startWebhookRelay() {
    this.webhooks = [];
    const verifier = new Webhook(WEBHOOK_SECRET);
    const server = createHttpServer((request, response) => {
      const chunks = [];
      request.on("data", (chunk) => chunks.push(chunk));
      request.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let verified = false;
        try {
          verifier.verify(body, request.headers);
          verified = true;
        } catch {}
        const event = JSON.parse(body);
        this.webhooks.push({ id: request.headers["webhook-id"], type: event.type, invoiceId: event.data?.invoiceId, verified, body: event });
        try {
          const forwarded = await fetch(this.shopBase + "/webhooks", {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "webhook-id": request.headers["webhook-id"],
              "webhook-timestamp": request.headers["webhook-timestamp"],
              "webhook-signature": request.headers["webhook-signature"],
            },
            body,
          });
          response.writeHead(forwarded.status).end();
        } catch {
          response.writeHead(502).end();
        }
      });
    });
    await new Promise((done) => server.listen(0, "127.0.0.1", done));
    this.relay = server;
    this.webhookUrl = `http://127.0.0.1:${server.address().port}/hooks`;
  }

  async waitFor(url, child, log) {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(url)).ok) return;
      } catch {}
      if (child.exitCode !== null) throw new Error(`${url}: the process exited:\n` + log());
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not answer:\n` + log());
  }

  async waitForHealth() {
    for (let i = 0; i < 100; i++) {
      try {
        const response = await fetch(this.base + "/healthz");
        if (response.ok) return;
      } catch {}
      if (this.proxy.exitCode !== null) throw new Error("the proxy exited:\n" + this.log);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the proxy did not become healthy:\n" + this.log);
  }

  /** A fresh browser page (own context) whose every response is recorded. */
  async page({ width = 1100, height = 800, locale } = {}) {
    const context = await this.browser.newContext({ viewport: { width, height }, ...(locale ? { locale } : {}) });
    context.on("response", async (response) => {
      const record = { url: response.url(), headers: "", body: "" };
      this.received.push(record);
      try {
        record.headers = JSON.stringify(await response.allHeaders());
        record.body = (await response.body()).toString("latin1");
      } catch {
        // Redirects and aborted responses have no body; a page closed meanwhile, nothing more.
      }
    });
    const page = await context.newPage();
    page.errors = [];
    page.on("pageerror", (error) => page.errors.push(error.message));
    // A Content-Security-Policy violation is a failure: the pages must work under their CSP.
    page.on("console", (message) => /Content Security Policy|Refused to/.test(message.text()) && page.errors.push(message.text()));
    return page;
  }

  url(path) {
    return this.base + path;
  }

  /** Turns the sandbox's knobs (POST /sandbox/control replaces them all). */
  async sandbox(control) {
    const response = await fetch(this.url("/sandbox/control"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(control),
    });
    if (!response.ok) throw new Error("sandbox control refused: " + (await response.text()));
  }

  /** Turns the sandbox Webkassa's knobs (POST /sandbox/webkassa/control replaces them all). */
  async webkassa(control) {
    const response = await fetch(this.url("/sandbox/webkassa/control"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(control),
    });
    if (!response.ok) throw new Error("webkassa control refused: " + (await response.text()));
  }

  /** `epay-proxy admin ...` against this run's database: its standard output. */
  admin(...args) {
    return execFileSync(PROXY_BIN, ["admin", ...args], { env: this.env, encoding: "utf8" });
  }

  /** `epay-proxy orders ...` against this run's database, parsed. */
  orders(...args) {
    const out = execFileSync(PROXY_BIN, ["orders", ...args], { env: this.env, encoding: "utf8" });
    return args[0] === "list" ? out.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line)) : JSON.parse(out);
  }

  /** Every secret_hash the proxy generated, read straight from its SQLite file. */
  secretHashes() {
    const script = "import sqlite3,sys; print('\\n'.join(r[0] for r in sqlite3.connect(sys.argv[1]).execute('select secret_hash from orders')))";
    return execFileSync("python3", ["-c", script, this.database], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  }

  /** Saves a screenshot; with E2E_UPDATE_DOCS=1 it also replaces the one under docs/. */
  async screenshot(page, name) {
    const path = join(SCREENSHOTS, name + ".png");
    await page.screenshot({ path, fullPage: true });
    if (process.env.E2E_UPDATE_DOCS === "1") copyFileSync(path, join(ROOT, "docs", name + ".png"));
  }

  async stop() {
    await this.browser?.close();
    this.shop?.kill("SIGTERM");
    this.relay?.close();
    if (this.proxy && this.proxy.exitCode === null) {
      const exited = new Promise((r) => this.proxy.once("exit", r));
      this.proxy.kill("SIGTERM");
      await exited;
    }
  }
}
