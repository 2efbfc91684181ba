/* ePay SANDBOX: the short-form payment page tells its parent how the payment ended, as a
   JSON string, like the real payment page does. */
(function () {
  var script = document.currentScript;
  var message = JSON.stringify({ success: script.getAttribute("data-success") === "true" });
  if (window.parent !== window) window.parent.postMessage(message, "*");
})();
