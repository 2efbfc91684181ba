// The shop's page script: the widget's events are hints to refresh; the shop's own server
// asks the proxy what was paid (GET /orders/{id}/status), so nothing here decides money.
const status = document.querySelector("[data-shop-status]");
const refresh = async () => {
  const response = await fetch(location.pathname + "/status", { headers: { accept: "application/json" } });
  if (!response.ok) return;
  const { label, paid } = await response.json();
  status.textContent = label;
  status.dataset.paid = String(paid);
};
for (const name of ["epay:paid", "epay:failed", "epay:pending"]) document.addEventListener(name, refresh);
document.addEventListener("epay:paid", (event) => { document.body.dataset.epayPaid = event.detail.invoiceId; });
