// Types of the Halyk ePay checkout widget as its proxy serves it (`widget.js`).

/** What a widget shows and does, set as `data-*` attributes of its element (README, "Embedding"). */
export interface CheckoutAttributes {
  /** Base URL of the token proxy; by default where `widget.js` came from. */
  "data-proxy"?: string;
  /** A merchant order to pay (its `invoiceId`), or the order a return page shows. */
  "data-order"?: string;
  /** The order's key (`orderKey`): only on the payer's own page. */
  "data-order-key"?: string;
  /** An amount the page fixes ("1500", "1500.50"); a payer-chosen amount needs CHECKOUT_OPEN_AMOUNTS. */
  "data-amount"?: string;
  /** What is paid for, sent to ePay (at most 125 bytes). */
  "data-description"?: string;
  "data-lang"?: Language;
  /** How the payer pays; a merchant order's own method wins. */
  "data-method"?: PaymentMethod;
  "data-account-id"?: string;
  "data-email"?: string;
  "data-phone"?: string;
  "data-card-save"?: "true" | "false";
  /** Base pause, in milliseconds, between the outcome view's questions. */
  "data-poll-ms"?: string;
}

export type Language = "ru" | "kk" | "en";
export type PaymentMethod = "p2p" | "oct" | "aft" | "pay" | "showPaymentWidget";
/** What the payer may know of an order. */
export type OrderStatus = "open" | "pending" | "paid" | "failed" | "expired";

/** `detail` of every `epay:*` event. */
export interface CheckoutEventDetail {
  invoiceId?: string;
  status?: OrderStatus;
  amount?: string;
  currency?: string;
  /** `epay:error`: the proxy's error code, `network` (the proxy is out of reach) or `malformed`;
   * `epay:failed`: why the payment failed. */
  reason?: string;
}

/** The widget's events: `epay:ready` (the order or the form is shown), `epay:redirect` (the payer
 * leaves for ePay), `epay:paid`, `epay:failed` (declined or expired), `epay:pending` (no final
 * answer yet), `epay:error` (a request to the proxy failed). They bubble to the document. */
export type CheckoutEventName = "epay:ready" | "epay:redirect" | "epay:paid" | "epay:failed" | "epay:pending" | "epay:error";
export type CheckoutEvent = CustomEvent<CheckoutEventDetail>;

/** What `mount` returns. */
export interface CheckoutHandle {
  /** Releases every listener and effect of the widget and removes it (a single-page shop calls
   * it as it routes away). */
  unmount(): void;
}

/** What `widget.js` exports. */
export interface Checkout {
  /** Mounts the widget on `element` (its `data-*` attributes say what it does). */
  mount(element: HTMLElement): CheckoutHandle;
  /** Mounts every `[data-epay-checkout]` element not mounted yet. */
  mountAll(): void;
  unmount(element: HTMLElement): void;
}

/** Loads the widget from the proxy at `proxy` (its base URL), once per proxy. */
export function loadCheckout(proxy: string): Promise<Checkout>;

export const EPAY_EVENTS: readonly CheckoutEventName[];

declare global {
  interface HTMLElementEventMap extends Record<CheckoutEventName, CheckoutEvent> {}
  interface DocumentEventMap extends Record<CheckoutEventName, CheckoutEvent> {}
}
