// The five figures of docs/performance.md's table, each beside its baseline from the same run
// of scripts/bench: reads what scripts/perf-browser.mjs (--json), scripts/size (--json) and the
// store comparison (EPAY_BENCH_SUMMARY) wrote.
//
//   node scripts/bench-summary.mjs BROWSER.json SIZE.json STORES.json

import { readFileSync } from "node:fs";

const [browser, size, stores] = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, "utf8")));
const sqlite = stores["SQLite, 1 instance"];
const one = stores["PostgreSQL, 1 instance"];
const two = stores["PostgreSQL, 2 instances"];
// With --instance-cpu: the same two setups, each instance held to a share of a core.
const heldOne = Object.entries(stores).find(([name]) => name.startsWith("PostgreSQL, 1 instance held"));
const heldTwo = Object.entries(stores).find(([name]) => name.startsWith("PostgreSQL, 2 instances held"));
const ms = (value) => `${Math.round(value)} ms`;
const rate = (value) => `${Math.round(value).toLocaleString("en")}/s`;
const mark = (ok) => (ok ? "✓" : "✗");

const rows = [
  [
    "slow 4G: pay button usable, after the page's DOMContentLoaded",
    `DCL ${ms(browser.dcl)}`,
    `+${ms(browser.usable - browser.dcl)}`,
    "≤ 350 ms",
    browser.usable - browser.dcl <= 350,
  ],
  [
    "click → leaving for ePay, ÷ a bare POST /api/checkout",
    `bare ${browser.bare.toFixed(1)} ms`,
    `${browser.click.toFixed(1)} ms = ${browser.clickRatio.toFixed(2)}×`,
    "≤ 2.0×",
    browser.clickRatio <= 2,
  ],
  [
    "widget as downloaded (widget.js and all it fetches, brotli)",
    `budget ${size.budget.toLocaleString("en")} B`,
    `${size.brotli.toLocaleString("en")} B`,
    "≤ 40,000 B",
    size.brotli <= 40000,
  ],
  [
    "PostgreSQL ÷ SQLite: checkouts; postLinks",
    sqlite ? `SQLite ${rate(sqlite.checkouts)}; ${rate(sqlite.postlinks)}` : "not measured",
    one ? `${(one.checkouts / sqlite.checkouts).toFixed(2)}; ${(one.postlinks / sqlite.postlinks).toFixed(2)}` : "not measured",
    "≥ 0.6 both",
    one && one.checkouts / sqlite.checkouts >= 0.6 && one.postlinks / sqlite.postlinks >= 0.6,
  ],
  [
    "  a second instance on the same PostgreSQL: checkouts; postLinks",
    one ? `one ${rate(one.checkouts)}; ${rate(one.postlinks)}` : "not measured",
    two ? `${rate(two.checkouts)}; ${rate(two.postlinks)} (${(two.checkouts / one.checkouts).toFixed(2)}×; ${(two.postlinks / one.postlinks).toFixed(2)}×)` : "not measured",
    "> 1×",
    two && two.checkouts > one.checkouts && two.postlinks > one.postlinks,
  ],
  ...(heldOne && heldTwo
    ? [
        [
          `  the same, each instance held to ${heldOne[0].split("held to ")[1]}`,
          `one ${rate(heldOne[1].checkouts)}; ${rate(heldOne[1].postlinks)}`,
          `${rate(heldTwo[1].checkouts)}; ${rate(heldTwo[1].postlinks)} (${(heldTwo[1].checkouts / heldOne[1].checkouts).toFixed(2)}×; ${(heldTwo[1].postlinks / heldOne[1].postlinks).toFixed(2)}×)`,
          "> 1×",
          heldTwo[1].checkouts > heldOne[1].checkouts && heldTwo[1].postlinks > heldOne[1].postlinks,
        ],
      ]
    : []),
  [
    "pay on ePay's page → \"paid\" shown on the return page",
    `its DCL ${ms(browser.paidDcl)}`,
    ms(browser.paidShown),
    "≤ 300 ms",
    browser.paidShown <= 300,
  ],
];
console.log(`\nThe five figures, each beside its baseline from this run (browser: medians of ${browser.loads} loads, ${browser.clicks} clicks, ${browser.payments} payments):\n`);
const widths = [66, 30, 40, 12];
console.log(["measure", "baseline (same run)", "now", "goal"].map((h, i) => h.padEnd(widths[i])).join(" "));
for (const [what, baseline, now, goal, ok] of rows) {
  console.log([what, baseline, now, `${goal} ${mark(ok)}`].map((c, i) => c.padEnd(widths[i])).join(" "));
}
