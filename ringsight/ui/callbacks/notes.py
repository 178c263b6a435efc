"""Notes and tags on what the investigator is looking at, and the audited "show unmasked" action.

The notes panel under the details offers the selected node or link and the
open cluster as targets. Targets travel to the browser only as canvas ids
(opaque tokens for personal keys), never as the keys themselves; the server
resolves them through the node registry. A node with notes or tags gets
``annotated`` in its canvas data (the stylesheet draws a halo), set at once in
the browser after a note is added and by :class:`~ringsight.ui.data.UiData`
whenever nodes are drawn.

Revealing is for roles cleared for personal data (investigator, supervisor):
the button is shown to them only, the callback checks the permission again,
and :func:`ringsight.cases.access.reveal` writes the ``unmask`` audit entry
before returning the clear values.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Dash, Input, Output, State, html, no_update

from ringsight.cases import access, annotations
from ringsight.cases.access import PERSONAL_FIELDS
from ringsight.cases.roles import Permission, may_unmask
from ringsight.errors import RingSightError
from ringsight.graph.model import key_of
from ringsight.ui import case_view
from ringsight.ui.auth import guarded, require_user
from ringsight.ui.callbacks import Services
from ringsight.ui.casework import HIDDEN, NO_TAG, tag_options
from ringsight.ui.data import LINK_KIND_BY_NAME, Ref
from ringsight.ui.i18n import prop_label, t, type_label, value_label
from ringsight.ui.present import display_label, property_rows
from ringsight.ui.session import current_role


def resolve(services: Services, value: str | None) -> tuple[str, str, str | None] | None:
    """An option value of the notes target (``node|id``, ``edge|id``, ``cluster|id``) as
    ``(target_label, target_key, canvas node id or None)`` for the annotations API."""
    if not value:
        return None
    kind, _, ident = value.partition("|")
    registry = services.data.registry
    if kind == "cluster" and ident:
        return "Cluster", ident, None
    if kind == "node":
        ref = registry.ref_for(ident)
        return (ref.label, ref.key, ident) if ref else None
    if kind == "edge":
        name, _, rest = ident.partition("|")
        source, _, target = rest.partition("|")
        link = LINK_KIND_BY_NAME.get(name)
        a, b = registry.ref_for(source), registry.ref_for(target)
        if link is None or a is None or b is None:
            return None
        label = annotations.LINK if link.folded else link.rel
        return label, annotations.link_key(a.label, a.key, b.label, b.key), None
    return None


def _node_name(services: Services, ref: Ref) -> str:
    node = services.data.store.read(
        f"MATCH (n:{ref.label} {{{key_of(ref.label)}: $k}}) RETURN n", {"k": ref.key}
    ).scalar()
    return display_label(ref.label, node.properties) if node is not None else ref.key


def target_options(services: Services, selected: dict | None, cluster_id: str | None, lang: str) -> list[dict]:
    """The things a note can be about right now: the selected node or link, and the open cluster."""
    options = []
    if selected and selected.get("id"):
        if selected.get("kind") == "edge":
            name = selected["id"].partition("|")[0]
            options.append(
                {"label": f"{t('notes.link', lang)} · {t(f'rel.{name}', lang)}", "value": f"edge|{selected['id']}"}
            )
        else:
            ref = services.data.registry.ref_for(selected["id"])
            if ref is not None:
                label = f"{type_label(ref.label, lang)} · {_node_name(services, ref)}"
                options.append({"label": label, "value": f"node|{selected['id']}"})
    if cluster_id:
        options.append({"label": f"{type_label('Cluster', lang)} · {cluster_id}", "value": f"cluster|{cluster_id}"})
    return options


def revealed_panel(label: str, props: dict[str, Any], lang: str) -> html.Div:
    """The clear properties of a revealed record (shown once, to the person who asked)."""
    rows = [
        html.Tr([html.Td(prop_label(k, lang)), html.Td(str(value_label(k, v, lang)))])
        for k, v in property_rows(label, props, visible=True)
        if k in PERSONAL_FIELDS.get(label, {}) or k in ("gender", "insurance_type")
    ]
    return html.Div(
        [
            html.Table(html.Tbody(rows), className="kv revealed", id="revealed-props"),
            html.Div(t("reveal.audited", lang), className="muted"),
        ]
    )


def register(app: Dash, services: Services) -> None:
    """The notes panel, the canvas marker and the reveal action."""
    store = services.data.store

    @app.callback(
        Output("notes-target", "options"),
        Output("notes-target", "value"),
        Output("notes-box", "style"),
        Output("notes-tag", "options"),
        Output("notes-msg", "children", allow_duplicate=True),
        Input("selected", "data"),
        Input("canvas-cluster", "data"),
        Input("lang", "data"),
        prevent_initial_call="initial_duplicate",
    )
    @guarded(Permission.VIEW)
    def targets(selected, cluster_id, lang):  # type: ignore[no-untyped-def]
        options = target_options(services, selected, cluster_id, lang)
        tags = tag_options(annotations.tag_vocabulary(services.settings), lang)
        if not options:
            return [], None, HIDDEN, tags, None
        return options, options[0]["value"], {}, tags, None

    @app.callback(
        Output("notes-list", "children"),
        Input("notes-target", "value"),
        Input("notes-refresh", "data"),
        State("lang", "data"),
    )
    @guarded(Permission.VIEW)
    def notes(value, _nonce, lang):  # type: ignore[no-untyped-def]
        target = resolve(services, value)
        if target is None:
            return None
        label, key, _ = target
        return case_view.annotation_rows(annotations.list_annotations(store, label, key), lang)

    @app.callback(
        Output("notes-refresh", "data"),
        Output("notes-msg", "children"),
        Output("notes-text", "value"),
        Output("notes-tag", "value"),
        Output("annotation-mark", "data"),
        Input("notes-add", "n_clicks"),
        State("notes-target", "value"),
        State("notes-text", "value"),
        State("notes-tag", "value"),
        State("canvas-state", "data"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def add(n, value, text, tag, state, lang):  # type: ignore[no-untyped-def]
        if not n:
            return (no_update,) * 5
        target = resolve(services, value)
        if target is None:
            return no_update, t("msg.stale", lang), no_update, no_update, no_update
        tag = None if tag in (None, "", NO_TAG) else tag
        if not (text or "").strip() and not tag:
            return no_update, dbc.Alert(t("notes.empty", lang), color="warning"), no_update, no_update, no_update
        label, key, node_id = target
        try:
            user = require_user(Permission.ANNOTATE)
            annotations.annotate(store, user, label, key, text=text or None, tag=tag, settings=services.settings)
        except RingSightError as exc:
            return no_update, dbc.Alert(exc.message, color="danger"), no_update, no_update, no_update
        mark = no_update
        if node_id:
            count = len(annotations.list_annotations(store, label, key))
            _mark_cached(services, (state or {}).get("canvas_id"), node_id, count)
            mark = {"id": node_id, "n": count, "nonce": time.time()}
        return time.time(), None, "", "", mark

    app.clientside_callback(
        ClientsideFunction(namespace="ringsightCases", function_name="mark"),
        Output("annotation-mark-done", "data"),
        Input("annotation-mark", "data"),
        prevent_initial_call=True,
    )

    # -- reveal ---------------------------------------------------------------------------------
    @app.callback(
        Output("reveal-box", "style"),
        Output("reveal-result", "children"),
        Input("selected", "data"),
    )
    def reveal_box(selected):  # type: ignore[no-untyped-def]
        if not selected or selected.get("kind") != "node" or not may_unmask(current_role()):
            return HIDDEN, None
        ref = services.data.registry.ref_for(selected.get("id") or "")
        if ref is None or ref.label not in PERSONAL_FIELDS:
            return HIDDEN, None
        return {}, None

    @app.callback(
        Output("reveal-result", "children", allow_duplicate=True),
        Input("reveal-btn", "n_clicks"),
        State("selected", "data"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def reveal(n, selected, lang):  # type: ignore[no-untyped-def]
        if not n or not selected or selected.get("kind") != "node":
            return no_update
        ref = services.data.registry.ref_for(selected.get("id") or "")
        if ref is None:
            return t("msg.stale", lang)
        try:
            user = require_user(Permission.UNMASK)
            props = access.reveal(store, user, ref.label, ref.key, reason="workbench details panel")
        except RingSightError as exc:
            return dbc.Alert(exc.message, color="danger", id="reveal-refused")
        return revealed_panel(ref.label, props, lang)


def _mark_cached(services: Services, canvas_id: str | None, node_id: str, count: int) -> None:
    """Keep the server's copy of the canvas in step with the marker set in the browser."""
    elements = services.cache.get(canvas_id)
    for element in elements or []:
        if element.get("data", {}).get("id") == node_id:
            element["data"]["annotated"] = count
