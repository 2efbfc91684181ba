// The payer, for the integration only: what the widget and ePay's payment-api.js do in a
// browser with the proxy's checkout answer, played against the sandbox's payment page (the
// proxy serves it under /sandbox in sandbox mode). A shop's backend never does this.

import LZString from "lz-string";
import type { components } from "./schema.js";

type Checkout = components["schemas"]["CheckoutResponse"];

/** payment-api.js's encodeParams: `name=encodeURIComponent(value)` joined by `&`. */
function encodeParams(object: Record<string, unknown>): string {
  return Object.entries(object)
    .map(([name, value]) => {
      const text = value !== null && typeof value === "object" ? encodeParams(value as Record<string, unknown>) : String(value);
      return `${name}=${encodeURIComponent(text)}`;
    })
    .join("&");
}

/** Pays `checkout` with the sandbox's approved test card; resolves once the page answered. */
export async function payOnSandbox(proxy: string, checkout: Checkout): Promise<void> {
  const payment = {
    invoiceId: checkout.invoiceId,
    backLink: checkout.backLink,
    failureBackLink: checkout.failureBackLink,
    postLink: checkout.postLink,
    failurePostLink: checkout.failurePostLink,
    language: checkout.language,
    description: checkout.description,
    accountId: checkout.accountId,
    terminal: checkout.terminal,
    amount: Number(checkout.amount),
    currency: checkout.currency,
    phone: checkout.phone,
    email: checkout.email,
    cardSave: checkout.cardSave,
    auth: checkout.auth,
  };
  const params = LZString.compressToEncodedURIComponent(encodeParams(payment));
  // payment-api.js sends `halyk.p2p` to the page with `isTransfer`, `halyk.pay` with no flag.
  const flag = { p2p: "&isTransfer=true", oct: "&isOCT=true", aft: "&isAFT=true", pay: "", showPaymentWidget: "" }[checkout.method];
  const page = await (await fetch(`${proxy}/sandbox/payform/?params=${params}${flag}`)).text();
  const session = page.split('name="session" value="')[1]?.split('"')[0];
  if (!session) throw new Error(`the sandbox's payment page has no session: ${page.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").slice(0, 600)}`);
  const paid = await fetch(`${proxy}/sandbox/payform/pay`, {
    method: "POST",
    redirect: "manual",
    // A transfer's page also asks for the card the money goes to.
    body: new URLSearchParams({ session, card: "4111 1111 1111 1111", expiry: "12/30", cvc: "123", holder: "Test Payer", receiver: "4400 4300 0000 0007" }),
  });
  if (paid.status < 300 || paid.status >= 400) throw new Error(`the sandbox's page answered ${paid.status}`);
}
