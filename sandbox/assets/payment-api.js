/*
 * ePay SANDBOX payment-api.js, served by epay-proxy's built-in emulator.
 *
 * It behaves like Halyk's real script (docs/epay-contract.md, section 2), weaknesses included,
 * so that a wrapper tested against it is tested against the real thing:
 *   - defines the global `halyk` (a classic script, not a module);
 *   - p2p / pay / oct / aft redirect the whole page to the payment page with
 *     ?params=LZString.compressToEncodedURIComponent(encodeParams(obj)) and a method flag;
 *   - showPaymentWidget adds a <style> element to the page (as the real one does, so a
 *     storefront CSP must allow it: docs/epay-contract.md), opens an overlay iframe
 *     (&isShortForm=true) and reports {success: bool} from the payment page's postMessage;
 *   - encodeParams writes "" for null and undefined values, as the real one does;
 *   - its origin check is a prefix match, bad JSON in a message throws, the message
 *     listener is never removed and a missing callback throws (all as in the original).
 * LZString below is the unmodified lz-string 1.5.0 from npm; the sandbox decodes with the
 * lz-str crate.
 */
(function () {
  "use strict";
  /*__LZSTRING__*/

  var script = document.currentScript;
  var PAYFORM = new URL("./", script ? script.src : location.href).href;
  var PAYFORM_ORIGIN = new URL(PAYFORM).origin;

  // The overlay's stylesheet, inserted as a <style> element (the proxy sends its CSP hash).
  var OVERLAY_CSS = /*__OVERLAY_CSS__*/"";

  // name=encodeURIComponent(value) joined by &, nested objects encoded the same way first,
  // null and undefined as "".
  function encodeParams(obj) {
    return Object.keys(obj)
      .map(function (name) {
        var value = obj[name];
        if (value === null || value === undefined) value = "";
        else if (typeof value === "object") value = encodeParams(value);
        return name + "=" + encodeURIComponent(value);
      })
      .join("&");
  }

  function payformUrl(obj, flag) {
    return PAYFORM + "?params=" + LZString.compressToEncodedURIComponent(encodeParams(obj)) + flag;
  }

  function redirect(flag) {
    return function (obj) {
      location.href = payformUrl(obj, flag);
    };
  }

  function showPaymentWidget(obj, callback) {
    if (!document.getElementById("epay-sandbox-overlay-style")) {
      var style = document.createElement("style");
      style.id = "epay-sandbox-overlay-style";
      style.textContent = OVERLAY_CSS;
      document.head.appendChild(style);
    }
    var overlay = document.createElement("div");
    overlay.setAttribute("data-epay-sandbox-overlay", "");
    overlay.className = "epay-sandbox-overlay";
    var frame = document.createElement("iframe");
    frame.title = "ePay";
    frame.src = payformUrl(obj, "&isShortForm=true");
    overlay.appendChild(frame);
    document.body.appendChild(overlay);
    window.addEventListener("message", function (event) {
      if (event.origin.indexOf(PAYFORM_ORIGIN) !== 0) return; // prefix match, as in the original
      var data = JSON.parse(event.data); // throws on anything but JSON, as in the original
      if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
      callback({ success: data.success === true }); // throws without a callback, as in the original
    });
  }

  window.halyk = {
    pay: redirect(""),
    p2p: redirect("&isTransfer=true"),
    oct: redirect("&isOCT=true"),
    aft: redirect("&isAFT=true"),
    showPaymentWidget: showPaymentWidget,
  };
})();
