"""The network canvas: every change goes through the ``canvas-op`` store and one server callback.

Browser-side requests (double-click, buttons, context menu, search and query
"add" buttons) are turned into an operation carrying the current node
positions by ``dash_clientside.ringsight.request`` (assets/20-ringsight.js);
:func:`register` applies it with :class:`ringsight.ui.canvas.Canvas`.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, html, no_update

from ringsight.errors import RingSightError
from ringsight.ui.callbacks import Services
from ringsight.ui.canvas import Outcome, delta, empty_state
from ringsight.ui.data import date_to_ts
from ringsight.ui.i18n import t
from ringsight.ui.layouts import force_layout
from ringsight.ui.styles import SERVER_LAYOUTS, layout_options, stylesheet

LARGE_CANVAS = 1200
log = logging.getLogger(__name__)


def _hub_roots(elements: list[dict[str, Any]]) -> list[str]:
    nodes = [e["data"] for e in elements if "source" not in e["data"]]
    hubs = [d["id"] for d in nodes if d.get("role") == "hub"]
    if hubs:
        return hubs
    best = max(nodes, key=lambda d: d.get("size") or 0, default=None)
    return [best["id"]] if best else []


def apply(services: Services, op: dict[str, Any], state: dict[str, Any], elements: list[dict[str, Any]]) -> Outcome:
    """Apply one canvas operation (see assets/20-ringsight.js for the shapes)."""
    canvas, data = services.canvas, services.data
    positions = op.get("positions") or {}
    kind = op.get("op")
    if kind == "open":
        return canvas.open_cluster(op["cluster"])
    if kind in ("expand", "hide", "collapse"):
        node = op.get("node") or ""
        if kind == "hide":
            return canvas.hide(state, elements, node, positions)
        if kind == "collapse":
            return canvas.collapse(state, elements, node, positions)
        return canvas.expand(
            state,
            elements,
            node,
            positions,
            kind=op.get("kind"),
            direction=op.get("direction"),
            force=bool(op.get("force")),
        )
    if kind == "add":
        target = str(op.get("target") or "")
        if target.startswith("Claim:"):
            hits = data._claim_hits(target.split(":", 1)[1])
            refs = hits[0].claim_refs if hits else []
        else:
            ref = data.registry.ref_for(target)
            refs = [ref] if ref else []
        if not refs:
            return Outcome(state, elements, "msg.stale")
        return canvas.add(state, elements, refs, positions)
    if kind == "query":
        refs = [r for r in (data.registry.ref_for(i) for i in op.get("nodes") or []) if r is not None]
        if not refs:
            return Outcome(state, elements, "console.nothing")
        return canvas.add(state, elements, refs, positions, op="query")
    if kind == "undo":
        return canvas.undo(state, elements, positions)
    if kind == "filter":
        since = date_to_ts(op.get("start"))
        until = date_to_ts(op.get("end"), end=True)
        return canvas.refilter(state, elements, since, until, positions)
    return Outcome(state, elements, "status.ready")


def register(app: Dash, services: Services) -> None:
    """Canvas operations, layout, fit, stylesheet, export and the breadcrumb."""
    app.clientside_callback(
        ClientsideFunction("ringsight", "request"),
        Output("canvas-op", "data", allow_duplicate=True),
        Input({"type": "node-action", "action": ALL}, "n_clicks"),
        Input({"type": "expand-kind", "kind": ALL, "dir": ALL}, "n_clicks"),
        Input({"type": "search-add", "target": ALL}, "n_clicks"),
        Input("undo-btn", "n_clicks"),
        Input("time-apply", "n_clicks"),
        Input("time-clear", "n_clicks"),
        Input("console-show", "n_clicks"),
        Input("cy", "contextMenuData"),
        State("selected", "data"),
        State("time-range", "start_date"),
        State("time-range", "end_date"),
        State("query-nodes", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("ringsight", "fit"),
        Output("fit-btn", "title"),
        Input("fit-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("ringsight", "focus"),
        Output("canvas-focus", "modified_timestamp"),
        Input("canvas-focus", "data"),
        prevent_initial_call=True,
    )

    app.clientside_callback(
        ClientsideFunction("ringsight", "apply"),
        Output("canvas-applied", "data"),
        Input("canvas-delta", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("canvas-delta", "data"),
        Output("canvas-state", "data"),
        Output("status", "children"),
        Output("canvas-focus", "data"),
        Output("selected", "data", allow_duplicate=True),
        Output("breadcrumb", "children"),
        Output("canvas-empty", "style"),
        Output("canvas-counts", "children"),
        Output("canvas-cluster", "data"),
        Input("canvas-op", "data"),
        State("canvas-state", "data"),
        State("layout-select", "value"),
        State("weight-mode", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
        running=[(Output("status-spinner", "style"), {"display": "inline-block"}, {"display": "none"})],
    )
    def run_op(op, state, layout_name, weight, lang):  # type: ignore[no-untyped-def]
        if not op:
            return (no_update,) * 9
        state = state or empty_state()
        try:
            before = services.cache.get(state.get("canvas_id"))
            if before is None and op.get("op") != "open":
                before = services.canvas.rebuild(state)
            out = apply(services, op, state, before or [])
        except RingSightError as exc:
            return (no_update, no_update, t("msg.error", lang, error=exc.message)) + (no_update,) * 6
        except Exception as exc:  # a failed operation must not leave the investigator without a word
            log.exception("canvas operation %s failed", op.get("op"))
            return (no_update, no_update, t("msg.error", lang, error=repr(exc))) + (no_update,) * 6
        message = t(out.message, lang, **out.params, s=f"{out.seconds:.2f}") if out.message else no_update
        if out.elements is before and not out.relayout:
            if out.params.get("focus") and out.message == "msg.already":  # select and centre what is there
                nid = out.params["focus"]
                focus_on = {"id": nid, "select": True, "nonce": time.time()}
                return (no_update, out.state, message, focus_on, {"kind": "node", "id": nid}) + (no_update,) * 4
            return (no_update, out.state, message) + (no_update,) * 6
        new_state = {**out.state, "edges": sum(1 for e in out.elements if "source" in e["data"])}
        new_state["canvas_id"] = new_state.get("canvas_id") or uuid.uuid4().hex
        services.cache.put(new_state["canvas_id"], out.elements)
        change = delta(before or [], out.elements, reset=out.relayout)
        if out.relayout:
            change.update(_layout_change(out.elements, layout_name or "auto", reset=True))
        change["nonce"] = time.time()
        focus = out.params.get("focus") if op.get("op") in ("add", "query") else None
        selected = {"kind": "node", "id": focus} if focus else (None if op.get("op") == "open" else no_update)
        if focus:
            focus = {"id": focus, "select": True, "nonce": time.time()}
        elif op.get("op") == "expand" and out.message == "msg.expanded":
            focus = {"id": op.get("node"), "select": False, "nonce": time.time()}
        trail, empty, counts = canvas_chrome(new_state, lang)
        cluster = new_state.get("cluster") if op.get("op") == "open" else no_update
        if _is_large(state) != _is_large(new_state):  # the browser swaps in the lighter style for big canvases
            change["stylesheet"] = stylesheet(weight or "count", large=_is_large(new_state))
        return change, new_state, message, focus or no_update, selected, trail, empty, counts, cluster

    @app.callback(
        Output("canvas-delta", "data", allow_duplicate=True),
        Input("relayout-btn", "n_clicks"),
        Input("layout-select", "value"),
        State("canvas-state", "data"),
        prevent_initial_call=True,
    )
    def relayout(_n: int | None, name: str, state: dict[str, Any] | None) -> dict[str, Any]:
        state = state or {}
        elements = services.cache.get(state.get("canvas_id"))
        if elements is None and state.get("nodes"):
            elements = services.canvas.rebuild(state)
        return _layout_change(elements or [], name or "auto", reset=False)

    @app.callback(
        Output("cy", "stylesheet"),
        Input("weight-mode", "value"),
        State("canvas-state", "data"),
        prevent_initial_call=True,
    )
    def restyle(weight: str, state: dict[str, Any] | None) -> Any:
        return stylesheet(weight or "count", large=_is_large(state))

    @app.callback(
        Output("cy", "generateImage"),
        Input("png-btn", "n_clicks"),
        Input("svg-btn", "n_clicks"),
        State("canvas-state", "data"),
        prevent_initial_call=True,
    )
    def export(_png: int | None, _svg: int | None, state: dict[str, Any] | None) -> dict[str, Any]:
        from dash import ctx

        kind = "svg" if ctx.triggered_id == "svg-btn" else "png"
        name = f"ringsight-{(state or {}).get('cluster') or 'canvas'}-{time.strftime('%Y%m%d-%H%M%S')}"
        options: dict[str, Any] = {"full": True, "bg": "#ffffff"}
        if kind == "png":
            options["scale"] = 2
        return {"type": kind, "action": "download", "filename": name, "options": options}

    @app.callback(
        Output("breadcrumb", "children", allow_duplicate=True),
        Output("canvas-empty", "style", allow_duplicate=True),
        Output("canvas-counts", "children", allow_duplicate=True),
        Input("lang", "data"),
        State("canvas-state", "data"),
        prevent_initial_call=True,
    )
    def retranslate(lang: str, state: dict[str, Any] | None) -> tuple[Any, ...]:
        return canvas_chrome(state or {}, lang)


def _layout_change(elements: list[dict[str, Any]], name: str, *, reset: bool) -> dict[str, Any]:
    """The part of a canvas delta that lays the canvas out: server positions, or a browser layout to run.

    With ``reset`` the positions go into the elements being added (the canvas
    is replaced); otherwise they move the nodes already drawn.
    """
    nonce = int(time.time() * 1000)
    change: dict[str, Any] = {"nonce": time.time()}
    if name in SERVER_LAYOUTS:
        positions = force_layout(elements)
        if reset:
            for e in elements:
                if e["data"]["id"] in positions:
                    e["position"] = positions[e["data"]["id"]]
        else:
            change["positions"] = positions
        change["layout"] = layout_options(name, nonce=nonce)
    else:
        change["layout"] = layout_options(name, roots=_hub_roots(elements), nonce=nonce, elements=len(elements))
    return change


def _is_large(state: dict[str, Any] | None) -> bool:
    return len((state or {}).get("nodes") or []) > LARGE_CANVAS // 2


def canvas_chrome(state: dict[str, Any], lang: str) -> tuple[Any, Any, str]:
    """The breadcrumb of operations, the empty-canvas hint's visibility, and the node / link counts."""
    crumbs = [_crumb(h, lang) for h in state.get("history") or []][-8:]
    trail: list[Any] = []
    for i, text in enumerate(crumbs):
        if i:
            trail.append(html.Span("›", className="crumb-sep"))
        trail.append(html.Span(text, className="crumb crumb-last" if i == len(crumbs) - 1 else "crumb"))
    nodes = len(state.get("nodes") or [])
    empty = {"display": "none"} if nodes else {}
    counts = f"{t('type.Cluster', lang)} {state.get('cluster') or '—'} · {nodes} / {state.get('edges') or 0}"
    return trail, empty, counts


def _crumb(h: dict[str, Any], lang: str) -> str:
    op = h.get("op")
    if op == "open":
        return t("crumb.open", lang, cluster=h.get("cluster"))
    if op == "expand":
        kind = h.get("kind") or "*"
        kind_text = t("crumb.all", lang) if kind == "*" else t(f"rel.{kind}", lang)
        return t("crumb.expand", lang, node=h.get("name"), kind=kind_text, n=len(h.get("added") or []))
    if op == "query":
        return t("crumb.query", lang, n=len(h.get("added") or []))
    if op in ("hide", "collapse"):
        return t(f"crumb.{op}", lang, node=h.get("name"), n=len(h.get("removed") or []))
    return t("crumb.add", lang, node=h.get("name"))
