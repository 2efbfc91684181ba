"""A shop's backend in Python against the proxy, through a client generated from the proxy's
OpenAPI document (openapi-python-client), checked with mypy --strict. Run by scripts/clients
against a proxy in sandbox mode: create an order, read it, let a payer pay it on the sandbox's
page, refund part of it, and verify its webhooks with the standardwebhooks library.

PROXY_URL, MERCHANT_API_KEY, WEBHOOK_SECRET and HOOK_PORT come from the environment."""

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar

from standardwebhooks.webhooks import Webhook

from epay_proxy_client import AuthenticatedClient, Client
from epay_proxy_client.api.merchant import create_merchant_order, get_merchant_order, refund_merchant_order
from epay_proxy_client.api.widget import start_order_checkout
from epay_proxy_client.models import (
    ApiError,
    CheckoutResponse,
    MerchantOrder,
    MerchantOrderRequest,
    MerchantStatus,
    OperationRequest,
    OperationResult,
    OperationStatus,
)
from payer import pay_on_sandbox

T = TypeVar("T")
proxy = os.environ["PROXY_URL"]
hooks = Webhook(os.environ["WEBHOOK_SECRET"])
received: list[dict[str, Any]] = []


class Receiver(BaseHTTPRequestHandler):
    """The shop's webhook receiver: every body verified before it is believed."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        try:
            received.append(hooks.verify(body, dict(self.headers.items())))
            self.send_response(204)
        except Exception:
            self.send_response(400)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


server = HTTPServer(("127.0.0.1", int(os.environ["HOOK_PORT"])), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
merchant = AuthenticatedClient(base_url=proxy, token=os.environ["MERCHANT_API_KEY"])
widget = Client(base_url=proxy)


def answer(value: T | ApiError | None, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise AssertionError(f"expected a {kind.__name__}, got {value!r}")
    return value


def until(what: str, probe: Callable[[], T | None]) -> T:
    for _ in range(200):
        found = probe()
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting: {what}")


# 1. The shop's backend prices the order.
reference = f"py-{uuid.uuid4()}"
request = MerchantOrderRequest.from_dict({"amount": "1500.50", "description": "Чайник", "reference": reference, "metadata": {"cart": "c-17"}})
created = create_merchant_order.sync_detailed(client=merchant, body=request, idempotency_key=reference)
assert created.status_code == 201, created.content
order = answer(created.parsed, MerchantOrder)
assert order.status == MerchantStatus.OPEN
print(f"created {order.invoice_id} ({order.amount} {order.currency})")

# 2. It reads it back.
assert answer(get_merchant_order.sync(order.invoice_id, client=merchant), MerchantOrder).reference == reference

# 3. The payer pays (what the widget and ePay's page do in a browser).
checkout = answer(start_order_checkout.sync(order.invoice_id, client=widget, x_order_key=order.order_key), CheckoutResponse)
pay_on_sandbox(proxy, checkout)


def paid_now() -> MerchantOrder | None:
    now = answer(get_merchant_order.sync(order.invoice_id, client=merchant), MerchantOrder)
    return now if now.status == MerchantStatus.PAID else None


paid = until("paid", paid_now)
print(f"paid, version {paid.version}")

# 4. Part of it goes back.
refunded = refund_merchant_order.sync_detailed(
    order.invoice_id, client=merchant, body=OperationRequest(amount="500", reason="a chipped lid"), idempotency_key=f"{reference}-r1"
)
assert refunded.status_code == 201, refunded.content
result = answer(refunded.parsed, OperationResult)
assert result.operation.status == OperationStatus.SUCCEEDED and result.order.refunded_amount == "500"
print(f"refunded 500: {result.operation.id}")


# 5. The shop heard both, signed.
def heard_both() -> list[str] | None:
    types = [event["type"] for event in received if event["data"]["invoiceId"] == order.invoice_id]
    return types if "order.paid" in types and "refund.succeeded" in types else None


print(f"webhooks verified: {', '.join(until('order.paid and refund.succeeded', heard_both))}")
server.shutdown()
print("the Python integration passed")
