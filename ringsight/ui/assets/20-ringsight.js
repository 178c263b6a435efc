/* RingSight workbench: browser-side glue for the canvas.
 *
 * Every change to the canvas goes through one Dash store, `canvas-op`. The
 * requests built here carry the node positions the browser currently shows,
 * so the server can keep existing nodes where they are and place new ones
 * around the node they came from. Double-click on a node expands it.
 */
(function () {
  "use strict";
  function cyInstance() {
    var el = document.getElementById("cy");
    if (el && el._cyreg && el._cyreg.cy) { return el._cyreg.cy; }
    return window.cy || null;
  }

  function positions() {
    var out = {};
    var cy = cyInstance();
    if (!cy) { return out; }
    cy.nodes().forEach(function (n) {
      var p = n.position();
      out[n.id()] = { x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 };
    });
    return out;
  }

  function request(op) {
    op.positions = positions();
    op.nonce = Date.now() + Math.random();
    return op;
  }

  function bind() {
    var cy = cyInstance();
    if (!cy) { return; }
    var pan = cy.pan();
    if (!isFinite(pan.x) || !isFinite(pan.y) || !isFinite(cy.zoom())) {
      cy.viewport({ zoom: 1, pan: { x: cy.width() / 2, y: cy.height() / 2 } });
    }
    if (cy._ringsightBound) { return; }
    cy._ringsightBound = true;
    // Deltas are applied to Cytoscape directly (see `apply`); when dash-cytoscape later
    // syncs its `elements` prop from the canvas, its diff would add those elements again.
    var add = cy.add.bind(cy);
    cy.add = function (eles) {
      if (Array.isArray(eles)) {
        eles = eles.filter(function (e) { return !(e && e.data && e.data.id && cy.hasElementWithId(e.data.id)); });
      }
      return add(eles);
    };
    cy.on("dbltap", "node", function (evt) {
      window.dash_clientside.set_props("canvas-op", { data: request({ op: "expand", node: evt.target.id() }) });
    });
  }
  setInterval(bind, 250);

  window.ringsight = { cy: cyInstance, positions: positions };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ringsight: {
      request: function () {
        var no = window.dash_clientside.no_update;
        var ctx = window.dash_clientside.callback_context;
        if (!ctx.triggered || !ctx.triggered.length) { return no; }
        var trig = ctx.triggered[0];
        if (!trig.value) { return no; }
        var args = Array.prototype.slice.call(arguments);
        var selected = args[8], start = args[9], end = args[10], queryNodes = args[11];
        var propId = trig.prop_id.slice(0, trig.prop_id.lastIndexOf("."));
        var id = propId;
        if (propId.charAt(0) === "{") { id = JSON.parse(propId); }
        var node = selected && selected.kind === "node" ? selected.id : null;
        if (typeof id === "object") {
          if (id.type === "node-action") {
            return node ? request({ op: id.action, node: node, force: id.action === "expand" }) : no;
          }
          if (id.type === "expand-kind") {
            return node ? request({ op: "expand", node: node, kind: id.kind, direction: id.dir }) : no;
          }
          if (id.type === "search-add") { return request({ op: "add", target: id.target }); }
          return no;
        }
        if (id === "undo-btn") { return request({ op: "undo" }); }
        if (id === "time-apply") { return request({ op: "filter", start: start || null, end: end || null }); }
        if (id === "time-clear") { return request({ op: "filter", start: null, end: null }); }
        if (id === "console-show") { return request({ op: "query", nodes: queryNodes || [] }); }
        if (id === "cy") {
          var menu = args[7];
          if (!menu || !menu.elementId) { return no; }
          return request({ op: menu.menuItemId, node: menu.elementId });
        }
        return no;
      },
      apply: function (delta) {
        var cy = cyInstance();
        if (!delta || !cy) { return window.dash_clientside.no_update; }
        cy.batch(function () {
          if (delta.reset) {
            cy.elements().remove();
          } else {
            (delta.remove || []).forEach(function (id) { cy.getElementById(id).remove(); });
            (delta.update || []).forEach(function (u) {
              var e = cy.getElementById(u.data.id);
              if (e.length) { e.data(u.data); }
            });
          }
          if (delta.add && delta.add.length) { cy.add(delta.add); }
          if (delta.positions) {
            cy.nodes().forEach(function (n) {
              var p = delta.positions[n.id()];
              if (p) { n.position(p); }
            });
          }
        });
        if (delta.stylesheet) { cy.style().fromJson(delta.stylesheet).update(); }
        if (delta.layout) { cy.layout(delta.layout).run(); }
        return delta.nonce;
      },
      fit: function (n) {
        var cy = cyInstance();
        if (cy && n) { cy.fit(undefined, 40); }
        return window.dash_clientside.no_update;
      },
      focus: function (focus) {
        var cy = cyInstance();
        if (!cy || !focus || !focus.id) { return window.dash_clientside.no_update; }
        setTimeout(function () {
          var n = cy.getElementById(focus.id);
          if (!n || !n.length) { return; }
          if (focus.select) {
            cy.elements(":selected").unselect();
            n.select();
            cy.animate({ center: { eles: n }, zoom: Math.min(cy.zoom(), 1.4), duration: 250 });
            return;
          }
          var ext = cy.extent();
          var outside = n.closedNeighborhood().nodes().some(function (m) {
            var p = m.position();
            return p.x < ext.x1 || p.x > ext.x2 || p.y < ext.y1 || p.y > ext.y2;
          });
          if (outside) { cy.animate({ fit: { eles: cy.elements(), padding: 40 }, duration: 250 }); }
        }, 60);
        return window.dash_clientside.no_update;
      }
    }
  });
})();
