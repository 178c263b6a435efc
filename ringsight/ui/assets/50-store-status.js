// A callback answered 503 while the graph store restarts: show the server's message as a banner,
// and take it away at the next answer that is not a 503.
(function () {
  const original = window.fetch;
  function banner(text) {
    let el = document.getElementById("store-status-banner");
    if (!text) {
      if (el) el.remove();
      return;
    }
    if (!el) {
      el = document.createElement("div");
      el.id = "store-status-banner";
      el.setAttribute("role", "alert");
      el.style.cssText =
        "position:fixed;top:0;left:0;right:0;z-index:9999;padding:8px 16px;" +
        "background:#fff3cd;color:#664d03;border-bottom:1px solid #ffecb5;text-align:center";
      document.body.appendChild(el);
    }
    el.textContent = text;
  }
  window.fetch = function (input, init) {
    return original.apply(window, arguments).then(function (response) {
      const url = typeof input === "string" ? input : (input && input.url) || "";
      if (url.indexOf("_dash-update-component") >= 0) {
        if (response.status === 503) {
          response.clone().json().then(function (body) {
            banner((body && body.error) || "图库正在重启 / store restarting");
          }, function () { banner("图库正在重启 / store restarting"); });
        } else {
          banner(null);
        }
      }
      return response;
    });
  };
})();
