/* RingSight workbench: case work in the browser.
 *
 * - A Dash request refused for want of a login (HTTP 401: expired, logged out
 *   elsewhere, account disabled) sends the page to the login form.
 * - Grid cells for case state (with an overdue mark) and repeat offenders.
 * - The canvas marker for nodes with notes or tags, set as soon as a note is added.
 */
(function () {
  "use strict";
  var originalFetch = window.fetch;
  window.fetch = function (input) {
    return originalFetch.apply(this, arguments).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 401 && url.indexOf("/_dash-") !== -1) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      }
      return response;
    });
  };

  var funcs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

  funcs.CaseBadge = function (props) {
    if (!props.value) { return null; }
    var d = props.data || {};
    var hasCase = !!(d.case_id || d.state);
    var children = [
      React.createElement("span", { className: hasCase ? "case-state" : "muted", key: "s" }, props.value)
    ];
    if (d.overdue) {
      children.push(React.createElement("span", { className: "case-overdue", key: "o" }, d.overdue_label || "逾期"));
    }
    return React.createElement("span", { className: "case-cell" }, children);
  };

  funcs.RepeatBadge = function (props) {
    if (!props.value) { return null; }
    return React.createElement("span", { className: "repeat-badge", title: (props.data || {}).repeat_text || "" },
      props.value);
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ringsightCases: {
      mark: function (mark) {
        var el = document.getElementById("cy");
        var cy = el && el._cyreg && el._cyreg.cy;
        if (!cy || !mark || !mark.id) { return window.dash_clientside.no_update; }
        var node = cy.getElementById(mark.id);
        if (node && node.length) { node.data("annotated", mark.n || 0); }
        return mark.nonce;
      }
    }
  });
})();
