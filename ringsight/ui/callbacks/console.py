"""The query console: named queries from the Cypher library with a generated form, and ad-hoc read-only Cypher.

Results go to a grid as the store returns them — the graph holds pseudonyms
of persons, cards, phones and addresses, never their clear values, so there
is nothing to mask (entities are shown by their one-line label) — and their
entities can be put on the canvas. The library is
``ringsight.cypher`` (``QueryLibrary``, ``run_named``, ``run_adhoc``); when
it is missing the console says so and the ad-hoc box still works through the
store's read-only path.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update

from ringsight.cases.roles import Permission
from ringsight.errors import RingSightError, StoreUnavailable
from ringsight.graph.store import Node, Path, QueryResult, Relationship
from ringsight.ui.auth import guarded
from ringsight.ui.callbacks import Services
from ringsight.ui.data import CANVAS_LABELS
from ringsight.ui.i18n import t, type_label
from ringsight.ui.present import display_label
from ringsight.ui.session import can_run_adhoc

GRID_ROWS = 2000


def load_library(settings: Any) -> tuple[Any, str | None]:
    """The Cypher library, or None and the reason it could not be loaded."""
    try:
        from ringsight.cypher import QueryLibrary
    except ImportError as exc:
        return None, f"ringsight.cypher: {exc}"
    try:
        return QueryLibrary.load(settings), None
    except RingSightError as exc:
        return None, exc.message


def cell(column: str, value: Any, lang: str) -> Any:
    """One result value as grid text: entities by their one-line label, everything else as returned."""
    if isinstance(value, Node):
        label = next((lb for lb in value.labels if lb in CANVAS_LABELS or lb == "Claim"), value.label)
        return f"{type_label(label, lang)} {display_label(label, value.properties)}"
    if isinstance(value, Relationship):
        return f"[{value.type}]"
    if isinstance(value, Path):
        return " → ".join(str(cell(column, n, lang)) for n in value.nodes)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(cell(column, v, lang)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(k, v, lang)}" for k, v in value.items())
    return value


def result_grid(result: QueryResult, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows and column definitions for the results grid."""
    fields = [f"c{i}" for i in range(len(result.columns))]
    rows = [
        {f: cell(col, v, lang) for f, col, v in zip(fields, result.columns, row, strict=True)}
        for row in result.rows[:GRID_ROWS]
    ]
    columns = [{"field": f, "headerName": col} for f, col in zip(fields, result.columns, strict=True)]
    return rows, columns


def param_form(query: Any, lang: str) -> list[Any]:
    """One input per ParamSpec of a named query, pre-filled with its default (or example)."""
    rows = []
    for p in getattr(query, "params", []) or []:
        default = "" if p.default is None else p.default
        example = getattr(p, "example", None)
        rows.append(
            html.Div(
                [
                    html.Label(f"{p.name} ({p.type})"),
                    _param_input(p, default, example),
                    html.Div(getattr(p, "description", "") or "", className="muted"),
                ],
                className="param-row",
            )
        )
    return rows


def _param_input(spec: Any, default: Any, example: Any) -> Any:
    """A text box, or a drop-down when the parameter declares its choices."""
    pid = {"type": "qparam", "name": spec.name}
    choices = getattr(spec, "choices", None)
    if choices:
        return dcc.Dropdown(
            id=pid,
            options=[{"label": str(c), "value": str(c)} for c in choices],
            value=None if default == "" else str(default),
            clearable=True,
            placeholder="" if example is None else str(example),
        )
    return dbc.Input(id=pid, value=str(default), size="sm", placeholder="" if example is None else str(example))


def register(app: Dash, services: Services) -> None:
    """Library list, parameter form, running and showing results."""

    @app.callback(
        Output("query-select", "options"),
        Output("console-message", "children", allow_duplicate=True),
        Input("lang", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def library_options(lang: str) -> tuple[Any, Any]:
        lib = services.library
        if lib is None:
            return [], html.Div(t("console.unavailable", lang), className="muted")
        options = []
        for name in lib.names():
            q = lib.get(name)
            title = getattr(q, "title_en" if lang == "en" else "title_zh", None) or name
            options.append({"label": f"{title} · {name}", "value": name})
        return options, no_update

    @app.callback(
        Output("query-description", "children"),
        Output("query-params", "children"),
        Input("query-select", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def pick(name: str | None, lang: str) -> tuple[Any, Any]:
        if not name or services.library is None:
            return "", []
        q = services.library.get(name)
        return getattr(q, "description", "") or "", param_form(q, lang)

    @app.callback(
        Output("query-grid", "rowData"),
        Output("query-grid", "columnDefs"),
        Output("query-summary", "children"),
        Output("query-nodes", "data"),
        Output("console-show", "disabled"),
        Output("console-message", "children"),
        Input("query-run", "n_clicks"),
        Input("adhoc-run", "n_clicks"),
        State("query-select", "value"),
        State({"type": "qparam", "name": ALL}, "value"),
        State({"type": "qparam", "name": ALL}, "id"),
        State("adhoc-text", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
        running=[(Output("status-spinner", "style"), {"display": "inline-block"}, {"display": "none"})],
    )
    @guarded(Permission.QUERY_READ)
    def run(_n1, _n2, name, values, ids, text, lang):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            if ctx.triggered_id == "adhoc-run":
                if not can_run_adhoc():
                    raise RingSightError(t("console.no_adhoc", lang))
                _audit_query(services, "Console:adhoc", {"cypher": text or ""})
                result = _run_adhoc(services, text or "")
            else:
                if services.library is None or not name:
                    return (no_update,) * 5 + (html.Div(t("console.unavailable", lang), className="muted"),)
                raw = {i["name"]: v for i, v in zip(ids, values, strict=True) if v not in (None, "")}
                _audit_query(services, f"Query:{name}", {"query": name, "params": raw})
                from ringsight.cypher import run_named

                result = run_named(services.data.store, services.library, name, raw, settings=services.settings)
        except StoreUnavailable:
            raise  # answered 503 "store restarting" (ringsight.ui.store_down)
        except RingSightError as exc:
            text = exc.message + (f" {exc.hint}" if exc.hint else "")
            return (
                no_update,
                no_update,
                no_update,
                no_update,
                no_update,
                html.Div(text, className="console-message error"),
            )
        rows, columns = result_grid(result, lang)
        refs = services.data.refs_in_result(result.columns, result.rows)
        node_ids = [services.data.registry.id_for(r) for r in refs]
        seconds = time.perf_counter() - t0
        summary = t("console.rows", lang, n=len(result.rows), s=f"{seconds:.2f}") + (
            t("console.truncated", lang) if result.truncated else ""
        )
        return (
            rows,
            columns,
            summary,
            node_ids,
            not node_ids,
            t("msg.query_done", lang, n=len(result.rows), s=f"{seconds:.2f}"),
        )

    @app.callback(
        Output("tabs", "active_tab", allow_duplicate=True),
        Input("console-show", "n_clicks"),
        prevent_initial_call=True,
    )
    def show(_n: int | None) -> str:
        return "network"


def _audit_query(services: Services, target: str, what: dict[str, Any]) -> None:
    """Record a console query (its text or name and parameters) before it runs, so even one that fails is on file."""
    from ringsight.cases.audit import record
    from ringsight.ui.auth import require_user

    user = require_user(Permission.QUERY_READ)
    record(services.data.store, user=user.username, action="query.read", target=target, after=what)


def _run_adhoc(services: Services, text: str) -> QueryResult:
    """Ad-hoc Cypher through the runner: read-only, guarded, with the timeout and row cap."""
    from ringsight.cypher import run_adhoc

    return run_adhoc(services.data.store, text, {}, settings=services.settings)
