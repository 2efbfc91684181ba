// Demo storefront: language from ?lang= (ru, kk, en), and a badge saying which ePay the
// proxy talks to. A classic script in <head>, so the language is set before anything renders.
(function () {
  var params = new URLSearchParams(location.search);
  var lang = params.get("lang");
  if (lang === "ru" || lang === "kk" || lang === "en") document.documentElement.lang = lang;

  var badges = {
    sandbox: { ru: "ПЕСОЧНИЦА · эмулятор ePay, деньги не списываются", kk: "ҚҰМСАЛҒЫШ · ePay эмуляторы, ақша шешілмейді", en: "SANDBOX · ePay emulator, no money moves" },
    test: { ru: "ТЕСТОВАЯ СРЕДА ePay", kk: "ePay ТЕСТ ОРТАСЫ", en: "ePay TEST ENVIRONMENT" },
  };
  fetch("/api/widget-config")
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (config) {
      if (!config) return;
      var env = config.sandbox ? "sandbox" : /test/.test(config.scriptUrl) ? "test" : null;
      var badge = document.querySelector("[data-env]");
      if (!env || !badge) return;
      badge.textContent = badges[env][document.documentElement.lang] || badges[env].ru;
      badge.setAttribute("data-env", env);
      badge.hidden = false;
    })
    .catch(function () {});
})();
