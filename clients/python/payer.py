"""The payer, for the integration only: what the widget and ePay's payment-api.js do in a
browser with the proxy's checkout answer, played against the sandbox's payment page (the
proxy serves it under /sandbox in sandbox mode). A shop's backend never does this."""

import re
import urllib.parse
import urllib.request
from typing import Any

import lzstring  # type: ignore[import-untyped]

from epay_proxy_client.models import CheckoutResponse, PaymentMethod

# encodeURIComponent leaves these as they are.
URI_COMPONENT_SAFE = "-_.!~*'()"
# payment-api.js sends `halyk.p2p` to the page with `isTransfer`, `halyk.pay` with no flag.
FLAGS = {PaymentMethod.P2P: "&isTransfer=true", PaymentMethod.OCT: "&isOCT=true", PaymentMethod.AFT: "&isAFT=true"}


def encode_params(fields: dict[str, Any]) -> str:
    """payment-api.js's encodeParams: name=encodeURIComponent(value) joined by &."""
    def text(value: Any) -> str:
        if isinstance(value, dict):
            return encode_params(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return "&".join(f"{name}={urllib.parse.quote(text(value), safe=URI_COMPONENT_SAFE)}" for name, value in fields.items())


def js_number(text: str) -> int | float:
    """What Number("1500.50") gives in JS: 1500.5 (and 1500 stays 1500)."""
    number = float(text)
    return int(number) if number.is_integer() else number


def pay_on_sandbox(proxy: str, checkout: CheckoutResponse) -> None:
    """Pays `checkout` with the sandbox's approved test card."""
    payment = {
        "invoiceId": checkout.invoice_id,
        "backLink": checkout.back_link,
        "failureBackLink": checkout.failure_back_link,
        "postLink": checkout.post_link,
        "failurePostLink": checkout.failure_post_link,
        "language": checkout.language,
        "description": checkout.description,
        "accountId": checkout.account_id,
        "terminal": checkout.terminal,
        "amount": js_number(checkout.amount),
        "currency": checkout.currency,
        "phone": checkout.phone,
        "email": checkout.email,
        "cardSave": checkout.card_save,
        "auth": checkout.auth.to_dict(),
    }
    params = lzstring.LZString().compressToEncodedURIComponent(encode_params(payment))
    flag = FLAGS.get(checkout.method, "")
    with urllib.request.urlopen(f"{proxy}/sandbox/payform/?params={params}{flag}") as page:
        found = re.search(r'name="session" value="([^"]+)"', page.read().decode())
    if not found:
        raise RuntimeError("the sandbox's payment page has no session")
    form = {"session": found.group(1), "card": "4111 1111 1111 1111", "expiry": "12/30", "cvc": "123", "holder": "Test Payer",
            "receiver": "4400 4300 0000 0007"}

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # the page answers with a redirect: enough
            return None

    opener = urllib.request.build_opener(Stay)
    try:
        opener.open(f"{proxy}/sandbox/payform/pay", data=urllib.parse.urlencode(form).encode())
    except urllib.error.HTTPError as answer:
        if not 300 <= answer.code < 400:
            raise
