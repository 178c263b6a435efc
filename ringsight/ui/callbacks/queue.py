"""The queue: the latest run's ranked clusters in a grid; opening one opens its network."""

from __future__ import annotations

import time
from typing import Any

from dash import Dash, Input, Output, ctx, no_update

from ringsight.cases.roles import Permission
from ringsight.ui.auth import guarded
from ringsight.ui.callbacks import Services
from ringsight.ui.callbacks.cases import people, queue_case_info
from ringsight.ui.i18n import change_label, t, typology
from ringsight.ui.present import evidence_text

_NUMBER = {
    "function": "params.value == null ? '' : Number(params.value).toLocaleString('zh-CN', {maximumFractionDigits: 0})"
}


def queue_rows(rows: list[dict[str, Any]], lang: str, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Queue rows shaped for the grid, with display words in ``lang`` and people by display name."""
    out = []
    for rank, r in enumerate(rows, start=1):
        out.append(
            {
                "rank": rank,
                "cluster_id": r["cluster_id"],
                "score": round(float(r.get("score") or 0.0), 1),
                "typologies": " / ".join(typology(c, lang) for c in (r.get("typologies") or [])),
                "member_count": r.get("member_count"),
                "claim_count": r.get("claim_count"),
                "amount": r.get("amount"),
                "fund_amount": r.get("fund_amount"),
                "facilities": "、".join(str(n) for n in (r.get("facility_names") or []) if n),
                "district": r.get("district") or "",
                "change": r.get("change") or "",
                "change_label": change_label(r.get("change"), lang),
                "case_state": t(f"state.{r['case_state']}", lang) if r.get("case_state") else t("case.none", lang),
                "case_id": r.get("case_id") or "",
                "overdue": bool(r.get("overdue")),
                "overdue_label": t("case.overdue", lang) if r.get("overdue") else "",
                "assignee": (names or {}).get(r.get("assignee") or "", r.get("assignee") or ""),
                "repeat": t("repeat.badge", lang) if r.get("repeat") else "",
                "repeat_text": " ".join(r.get("repeat") or []),
                "dates": f"{r.get('date_from') or ''} ~ {r.get('date_to') or ''}",
                "explanation": evidence_text(r.get("explanation_en" if lang == "en" else "explanation_zh")) or "",
            }
        )
    return out


def queue_columns(lang: str) -> list[dict[str, Any]]:
    """Column definitions of the queue grid in ``lang``."""

    def col(field: str, key: str, **extra: Any) -> dict[str, Any]:
        return {"field": field, "headerName": t(key, lang), **extra}

    return [
        col(
            "open",
            "col.open",
            cellRenderer="OpenButton",
            cellRendererParams={"label": t("btn.open", lang)},
            sortable=False,
            filter=False,
            width=80,
            minWidth=80,
            maxWidth=90,
            pinned="left",
        ),
        col("rank", "col.rank", width=70, minWidth=60, filter="agNumberColumnFilter"),
        col("score", "col.score", cellRenderer="ScoreBar", filter="agNumberColumnFilter", minWidth=130, sort="desc"),
        col("cluster_id", "col.cluster", minWidth=105),
        col("typologies", "col.typologies", cellRenderer="Tags", minWidth=200),
        col("change_label", "col.change", cellRenderer="ChangeBadge", minWidth=105),
        col("repeat", "col.repeat", cellRenderer="RepeatBadge", tooltipField="repeat_text", minWidth=95),
        col("member_count", "col.members", filter="agNumberColumnFilter", minWidth=85),
        col("claim_count", "col.claims", filter="agNumberColumnFilter", minWidth=90),
        col("amount", "col.amount", filter="agNumberColumnFilter", valueFormatter=_NUMBER, minWidth=120),
        col("facilities", "col.facilities", minWidth=180, tooltipField="facilities"),
        # detection's district is where most of the persons behind the claims live, not the facility's:
        # the header says so, and the tooltip explains it
        col("district", "col.member_district", minWidth=95, headerTooltip=t("col.member_district_tip", lang)),
        col("case_state", "col.case", cellRenderer="CaseBadge", minWidth=110),
        col("assignee", "col.assignee", minWidth=85),
        col("dates", "col.dates", minWidth=190, filter="agTextColumnFilter"),
        col("explanation", "col.explanation", minWidth=260, tooltipField="explanation"),
    ]


def register(app: Dash, services: Services) -> None:
    """Fill the queue grid and open clusters from it."""

    @app.callback(
        Output("queue-grid", "rowData"),
        Output("queue-grid", "columnDefs"),
        Output("queue-count", "children"),
        Input("lang", "data"),
        Input("case-refresh", "data"),
    )
    @guarded(Permission.VIEW)
    def fill(lang: str, _cases_changed: Any = None) -> tuple[Any, ...]:
        raw = services.data.queue()
        info = queue_case_info(services.data.store, [r["cluster_id"] for r in raw])
        for r in raw:
            r.update(info.get(r["cluster_id"], {}))
        rows = queue_rows(raw, lang, names=people(services.data.store))
        count = t("queue.count", lang, n=len(rows)) if rows else t("queue.empty", lang)
        return rows, queue_columns(lang), count

    @app.callback(
        Output("canvas-op", "data", allow_duplicate=True),
        Output("tabs", "active_tab", allow_duplicate=True),
        Input("queue-grid", "cellRendererData"),
        Input("queue-grid", "cellDoubleClicked"),
        prevent_initial_call=True,
    )
    def open_cluster(button: dict | None, dbl: dict | None) -> tuple[Any, ...]:
        if ctx.triggered_id != "queue-grid":
            return no_update, no_update
        prop = ctx.triggered[0]["prop_id"].split(".")[-1]
        event = button if prop == "cellRendererData" else dbl
        if not event:
            return no_update, no_update
        cluster_id = event.get("value") if prop == "cellRendererData" else (event.get("rowId") or "")
        if not cluster_id:
            return no_update, no_update
        return {"op": "open", "cluster": cluster_id, "nonce": time.time()}, "network"
