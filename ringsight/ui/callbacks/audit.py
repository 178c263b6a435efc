"""The audit trail for supervisors and administrators: a read-only grid and a CSV export.

The tab exists only for roles with ``audit.view``; the callbacks check the
permission again on the server, and :func:`ringsight.cases.audit.list_for`
a third time. Nothing here can change an entry — the application offers no
such operation. The export goes through
:func:`ringsight.cases.audit.export_entries`, which records the export itself.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, ctx, dcc, no_update

from ringsight.cases import audit
from ringsight.cases.roles import Permission
from ringsight.errors import RingSightError
from ringsight.ui.auth import require_user
from ringsight.ui.callbacks import Services
from ringsight.ui.i18n import t

ROWS = 2000


def audit_columns(lang: str) -> list[dict[str, Any]]:
    def col(field: str, key: str, **extra: Any) -> dict[str, Any]:
        return {"field": field, "headerName": t(key, lang), **extra}

    return [
        col("when", "audit.col_time", minWidth=160, sort="desc", cellDataType="text", filter="agTextColumnFilter"),
        col("user", "audit.col_user", minWidth=110),
        col("action", "audit.col_action", minWidth=130),
        col("target", "audit.col_target", minWidth=200, tooltipField="target"),
        col("before", "audit.col_before", minWidth=220, tooltipField="before"),
        col("after", "audit.col_after", minWidth=320, tooltipField="after"),
        col("audit_id", "audit.col_id", minWidth=120, hide=False),
    ]


def register(app: Dash, services: Services) -> None:
    """Fill the audit grid when its tab opens; export it as CSV."""
    store = services.data.store

    @app.callback(Output("tab-audit", "label"), Input("lang", "data"), prevent_initial_call=True)
    def label(lang: str) -> str:
        return t("tab.audit", lang)

    @app.callback(
        Output("audit-grid", "rowData"),
        Output("audit-grid", "columnDefs"),
        Output("audit-count", "children"),
        Input("tabs", "active_tab"),
        Input("audit-reload", "n_clicks"),
        Input("lang", "data"),
        prevent_initial_call=True,
    )
    def fill(tab, _n, lang):  # type: ignore[no-untyped-def]
        if tab != "audit":
            return no_update, no_update, no_update
        try:
            user = require_user(Permission.AUDIT_VIEW)
            entries = audit.list_for(store, user, limit=ROWS)
        except RingSightError as exc:
            return [], audit_columns(lang), exc.message
        for e in entries:  # "2026-01-05T09:30:00+08:00" -> "2026-01-05 09:30:00" (all times are Beijing time)
            e["when"] = str(e.get("time") or "")[:19].replace("T", " ")
        check = audit.verify(store)
        if not check.ok:
            warning = dbc.Alert(t("audit.broken", lang, n=len(check.problems)), color="danger")
            return entries, audit_columns(lang), warning
        return entries, audit_columns(lang), t("audit.count", lang, n=len(entries))

    @app.callback(
        Output("audit-download", "data"),
        Output("audit-count", "children", allow_duplicate=True),
        Input("audit-export", "n_clicks"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    def export(n, lang):  # type: ignore[no-untyped-def]
        if not n or ctx.triggered_id != "audit-export":
            return no_update, no_update
        try:
            user = require_user(Permission.AUDIT_VIEW)
            with tempfile.TemporaryDirectory(prefix="rs-audit-") as work:
                path = Path(work) / f"ringsight-audit-{time.strftime('%Y%m%d-%H%M%S')}.csv"
                count = audit.export_entries(store, path, user)
                content = path.read_bytes()
        except RingSightError as exc:
            return no_update, dbc.Alert(exc.message, color="danger")
        check = audit.verify(store)
        if not check.ok:
            return dcc.send_bytes(content, path.name), dbc.Alert(
                t("audit.broken", lang, n=len(check.problems)), color="danger"
            )
        return dcc.send_bytes(content, path.name), t("audit.exported", lang, n=count)
