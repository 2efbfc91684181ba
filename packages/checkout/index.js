// The widget itself is served by the token proxy (`widget.js`, with its WebAssembly, glue and
// stylesheet under content-hashed names): the version a page runs is always its proxy's. This
// package loads it from there and gives it types (index.d.ts).

/** Loads the widget from `proxy` (its base URL) once; resolves to `mount`, `mountAll`, `unmount`. */
export function loadCheckout(proxy) {
  const base = String(proxy).replace(/\/+$/, "");
  loaded[base] ??= import(/* @vite-ignore */ /* webpackIgnore: true */ `${base}/widget.js`);
  return loaded[base];
}

const loaded = Object.create(null);

/** The names of the widget's DOM events, each with a typed `detail` (index.d.ts). */
export const EPAY_EVENTS = ["epay:ready", "epay:redirect", "epay:paid", "epay:failed", "epay:pending", "epay:error"];
