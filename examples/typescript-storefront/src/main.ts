// A storefront's order page: its backend created the order (POST /api/merchant/orders) and
// rendered its invoice id and key into the page; the widget pays it and says how it went.
import { loadCheckout, type CheckoutEventDetail, type CheckoutHandle } from "@epay-proxy/checkout";

interface OrderOnPage {
  invoiceId: string;
  orderKey: string;
}

const say = (text: string): void => {
  const status = document.querySelector<HTMLElement>("#status");
  if (status) status.textContent = text;
};

export async function payOrder(proxy: string, order: OrderOnPage, into: HTMLElement): Promise<CheckoutHandle> {
  const checkout = await loadCheckout(proxy);
  const element = document.createElement("div");
  element.dataset.order = order.invoiceId;
  element.dataset.orderKey = order.orderKey;
  element.dataset.lang = "kk";
  into.append(element);
  const handle = checkout.mount(element);
  element.addEventListener("epay:paid", (event) => say(`paid: ${event.detail.invoiceId ?? order.invoiceId}`));
  element.addEventListener("epay:failed", (event) => say(`not paid: ${event.detail.reason ?? "declined"}`));
  document.addEventListener("epay:error", (event) => {
    const detail: CheckoutEventDetail = event.detail;
    if (detail.reason === "network") say("the payment service is out of reach");
  });
  return handle;
}
