/* Cell renderers for the RingSight grids (queue and claims). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.OpenButton = function (props) {
  return React.createElement(
    "button",
    {
      className: "btn btn-sm btn-primary open-btn",
      onClick: function () { props.setData(props.data.cluster_id); }
    },
    (props.colDef.cellRendererParams || {}).label || "Open"
  );
};

dagcomponentfuncs.ScoreBar = function (props) {
  var v = Number(props.value || 0);
  var colour = v >= 80 ? "#dc2626" : v >= 60 ? "#ea580c" : v >= 40 ? "#d97706" : "#65a30d";
  return React.createElement(
    "div",
    { className: "score-cell" },
    React.createElement("b", { style: { width: "34px", color: colour } }, v.toFixed(0)),
    React.createElement(
      "div",
      { className: "score-bar" },
      React.createElement("div", { style: { width: Math.min(100, v) + "%", background: colour } })
    )
  );
};

dagcomponentfuncs.ChangeBadge = function (props) {
  if (!props.value) { return null; }
  var code = props.data.change || "";
  return React.createElement("span", { className: "chg chg-" + code }, props.value);
};

dagcomponentfuncs.Tags = function (props) {
  if (!props.value) { return null; }
  return React.createElement(
    "span",
    null,
    String(props.value).split(" / ").map(function (t, i) {
      return React.createElement("span", { className: "typ", key: i }, t);
    })
  );
};
