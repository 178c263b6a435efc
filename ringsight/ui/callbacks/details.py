"""The side panel: the open cluster's summary, and the details of the clicked node or link."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Dash, Input, Output, ctx, dcc, html, no_update

from ringsight.cases.roles import Permission
from ringsight.ui.auth import guarded
from ringsight.ui.callbacks import Services
from ringsight.ui.data import LINK_KIND_BY_NAME, Expansion
from ringsight.ui.i18n import member_role, prop_label, t, type_label, typology, value_label
from ringsight.ui.present import evidence_text, money
from ringsight.ui.styles import FONT, GRID_THEME, TYPES

_VISIT_COLOURS = {"outpatient": "#2563eb", "inpatient": "#dc2626", "pharmacy": "#16a34a"}


def _type_badge(label: str, lang: str) -> html.Span:
    colour = TYPES.get(label, ("", "#475569"))[1]
    return html.Span(type_label(label, lang), className="type-badge", style={"background": colour})


def _signal_row(signal: dict[str, Any], lang: str) -> html.Div:
    """One signal: its contribution to the score and its evidence sentence (identifiers masked)."""
    value = signal.get("contribution", signal.get("weight")) or 0
    evidence = signal.get("evidence_en" if lang == "en" else "evidence_zh") or signal.get("name")
    return html.Div(
        [html.Span(f"+{float(value):.1f}", className="signal-weight"), html.Span(evidence_text(evidence))],
        className="signal",
        title=signal.get("name"),
    )


def _score_class(score: float) -> str:
    return "score-high" if score >= 80 else "score-mid" if score >= 60 else "score-low"


def cluster_panel(cluster: dict[str, Any] | None, lang: str) -> Any:
    """The open cluster: score, typologies, explanation and the signal breakdown."""
    if not cluster:
        return None
    score = float(cluster.get("score") or 0.0)
    signals = sorted(cluster.get("signals") or [], key=lambda s: -(s.get("contribution") or 0))
    facts = [
        (t("col.members", lang), cluster.get("member_count")),
        (t("col.claims", lang), cluster.get("claim_count")),
        (t("col.amount", lang), money(cluster.get("amount"))),
        (t("col.district", lang), cluster.get("district")),
        (t("col.dates", lang), f"{cluster.get('date_from') or ''} ~ {cluster.get('date_to') or ''}"),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.Span(t("cluster.title", lang)),
                    html.Span(cluster.get("cluster_id"), className="muted"),
                    html.Span(f"{score:.0f}", className=f"score-big ms-auto {_score_class(score)}"),
                ],
                className="panel-title",
            ),
            html.Div([html.Span(typology(c, lang), className="typ") for c in cluster.get("typologies") or []]),
            html.Div(
                evidence_text(cluster.get("explanation_en" if lang == "en" else "explanation_zh")) or "",
                className="mt-1",
                style={"fontSize": "12px"},
            ),
            html.Table(html.Tbody([html.Tr([html.Td(k), html.Td(v)]) for k, v in facts]), className="kv mt-1"),
            html.Div(t("cluster.signals", lang), className="panel-sub"),
            html.Div([_signal_row(s, lang) for s in signals]),
        ],
        className="panel",
        id="cluster-panel",
    )


def timeline_figure(tl: dict[str, Any], lang: str, since: int | None, until: int | None) -> go.Figure:
    """A Plotly claim timeline: one point per claim (by visit type), or daily totals for busy entities."""
    fig = go.Figure()
    if tl["mode"] == "claims":
        for visit, colour in _VISIT_COLOURS.items():
            pts = [p for p in tl["points"] if p["visit"] == visit]
            if pts:
                fig.add_trace(
                    go.Scatter(
                        x=[p["time"] for p in pts],
                        y=[p["amount"] for p in pts],
                        mode="markers",
                        name=t(f"visit.{visit}", lang),
                        marker={"color": colour, "size": 7, "opacity": 0.8},
                        text=[p["claim_id"] for p in pts],
                        hovertemplate="%{text}<br>%{x}<br>¥%{y:,.2f}<extra></extra>",
                    )
                )
    elif tl["mode"] == "daily":
        fig.add_trace(
            go.Bar(
                x=[p["day"] for p in tl["points"]],
                y=[p["amount"] for p in tl["points"]],
                name=t("timeline.daily", lang),
                marker_color="#2563eb",
                customdata=[p["n"] for p in tl["points"]],
                hovertemplate="%{x}<br>¥%{y:,.0f} · %{customdata}<extra></extra>",
            )
        )
    if since is not None or until is not None:
        from datetime import datetime

        from ringsight.ui.data import SHANGHAI

        x0 = datetime.fromtimestamp(since, SHANGHAI).isoformat() if since is not None else None
        x1 = datetime.fromtimestamp(until, SHANGHAI).isoformat() if until is not None else None
        if x0 and x1:
            fig.add_vrect(x0=x0, x1=x1, fillcolor="#fde68a", opacity=0.25, line_width=0)
    fig.update_layout(
        height=210,
        margin={"l": 48, "r": 8, "t": 26, "b": 30},
        font={"family": FONT, "size": 11},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 10}},
        yaxis={
            "title": {"text": t("timeline.amount", lang), "font": {"size": 10}},
            "gridcolor": "#f1f5f9",
            "rangemode": "tozero",
            "tickformat": ",.0f",
        },
        # dates as 2025-08-10 (Plotly's default puts "Aug 10" over "2025", which reads as "Aug 102025" as text)
        xaxis={"gridcolor": "#f1f5f9", "tickformat": "%Y-%m-%d", "hoverformat": "%Y-%m-%d %H:%M", "nticks": 6},
        showlegend=True,
    )
    return fig


def _expansion_rows(options: list[Expansion], lang: str, supernode: int, done: set[str]) -> list[Any]:
    total = sum(o.count for o in options)
    rows: list[Any] = []
    if total > supernode:
        rows.append(html.Div(t("details.supernode", lang, n=f"{total:,}"), className="supernode-note"))
    for o in options:
        rows.append(
            html.Div(
                [
                    html.Span(t(f"rel.{o.kind}", lang)),
                    html.Span("→", className="muted"),
                    html.Span(type_label(o.neighbour_label, lang)),
                    html.Span(f"{o.count:,}{'+' if o.capped else ''}", className="expand-count"),
                    dbc.Button(
                        t("btn.more" if o.kind in done else "btn.expand", lang),
                        id={"type": "expand-kind", "kind": o.kind, "dir": o.direction},
                        size="sm",
                        color="primary",
                        outline=True,
                    ),
                ],
                className="expand-row",
            )
        )
    return rows


def _about(state: dict[str, Any] | None, selected: dict[str, Any] | None) -> bool:
    """True when the canvas's last operation was on the selected node (its counts and buttons change)."""
    history = (state or {}).get("history") or []
    return bool(selected and history and history[-1].get("node") == selected.get("id"))


def _expanded_kinds(state: dict[str, Any], node_id: str) -> set[str]:
    """Link kinds already expanded from this node (their button then says "show more")."""
    return {h.get("kind") for h in state.get("history") or [] if h.get("op") == "expand" and h.get("node") == node_id}


def node_panel(services: Services, node_id: str, state: dict[str, Any], lang: str) -> Any:
    """Details of one entity: masked properties, memberships and signals, expansions, claim timeline."""
    data = services.data
    ref = data.registry.ref_for(node_id)
    entity = data.entity(ref) if ref else None
    if ref is None or entity is None:
        return html.Div(t("msg.stale", lang), className="panel")
    since, until = state.get("since"), state.get("until")
    role = (state.get("members") or {}).get(node_id)
    props = html.Table(
        html.Tbody(
            [
                html.Tr([html.Td(prop_label(k, lang)), html.Td(_fmt(value_label(k, v, lang)))])
                for k, v in entity["properties"]
            ]
        ),
        className="kv",
    )
    memberships: list[Any] = []
    for m in entity["memberships"]:
        memberships.append(
            html.Div(
                [
                    html.B(m["cluster_id"]),
                    html.Span(f" {float(m.get('score') or 0):.0f} "),
                    *[html.Span(typology(c, lang), className="typ") for c in m["typologies"]],
                    html.Span(f" {t('details.role', lang)}: {member_role(m.get('role'), lang)}", className="muted"),
                ],
                className="signal",
            )
        )
        for s in m["signals"][:3]:
            memberships.append(_signal_row(s, lang))
    options = data.expansions(ref, since=since, until=until)
    timeline = data.timeline(ref, since=since, until=until)
    children: list[Any] = [
        html.Div(
            [
                _type_badge(ref.label, lang),
                html.Span(entity["display"], id="details-name"),
                html.Span(
                    t("details.member_badge", lang) + (f" · {member_role(role, lang)}" if role else ""),
                    className="member-badge",
                )
                if role
                else None,
            ],
            className="panel-title",
        ),
        props,
        html.Div(
            [
                dbc.Button(t("btn.expand", lang), id={"type": "node-action", "action": "expand"}, size="sm"),
                dbc.Button(
                    t("btn.collapse", lang),
                    id={"type": "node-action", "action": "collapse"},
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
                dbc.Button(
                    t("btn.hide", lang),
                    id={"type": "node-action", "action": "hide"},
                    size="sm",
                    color="secondary",
                    outline=True,
                ),
            ],
            className="node-actions",
        ),
        html.Div(t("details.memberships", lang), className="panel-sub"),
        html.Div(memberships or t("details.no_memberships", lang), className="muted" if not memberships else ""),
        html.Div(t("details.neighbours", lang), className="panel-sub"),
        html.Div(_expansion_rows(options, lang, data.supernode, _expanded_kinds(state, node_id)), id="expansions"),
    ]
    if timeline["mode"] != "none":
        children += [
            html.Div(
                [t("details.timeline", lang), html.Span(f" ({timeline['total']:,})", className="muted")],
                className="panel-sub",
            ),
            dcc.Graph(
                id="timeline",
                figure=timeline_figure(timeline, lang, since, until),
                config={"displayModeBar": False},
                style={"height": "210px"},
            ),
        ]
    return html.Div(children, className="panel", id="node-panel")


def edge_panel(services: Services, edge_id: str, state: dict[str, Any], lang: str) -> Any:
    """A folded link unfolded into its claims (or a direct relationship's two ends)."""
    data = services.data
    kind_name, _, rest = edge_id.partition("|")
    source, _, target = rest.partition("|")
    kind = LINK_KIND_BY_NAME.get(kind_name)
    a, b = data.registry.ref_for(source), data.registry.ref_for(target)
    if kind is None or a is None or b is None:
        return html.Div(t("msg.stale", lang), className="panel")
    head = html.Div(
        [html.Span(t("details.link", lang)), html.Span(t(f"rel.{kind_name}", lang), className="typ")],
        className="panel-title",
    )
    if not kind.folded:
        return html.Div([head], className="panel")
    claims = data.link_claims(kind_name, a, b, since=state.get("since"), until=state.get("until"))
    summary = t(
        "details.claims_count",
        lang,
        n=f"{claims['count']:,}",
        amount=money(claims["amount"]),
        start=claims.get("date_from", ""),
        end=claims.get("date_to", ""),
    )
    if claims["count"] > len(claims["rows"]):
        summary += t("details.claims_cap", lang, n=len(claims["rows"]))
    columns = [
        {"field": f, "headerName": prop_label(f, lang), "minWidth": w}
        for f, w in (
            ("claim_id", 110),
            ("time", 130),
            ("visit_type", 80),
            ("total_amount", 90),
            ("fund_paid", 90),
            ("diagnosis_name", 120),
            ("facility", 130),
            ("doctor", 90),
            ("department", 70),
        )
    ]
    for row in claims["rows"]:
        row["visit_type"] = t(f"visit.{row['visit_type']}", lang) if row.get("visit_type") else ""
    return html.Div(
        [
            head,
            html.Div(summary, className="muted"),
            html.Div(t("details.claims", lang), className="panel-sub"),
            dag.AgGrid(
                id="claims-grid",
                rowData=claims["rows"],
                columnDefs=columns,
                defaultColDef={"sortable": True, "filter": True, "resizable": True},
                dashGridOptions={"theme": GRID_THEME, "animateRows": False},
                className="claims-grid",
                style={"height": "300px"},
            ),
        ],
        className="panel",
        id="edge-panel",
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return money(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def register(app: Dash, services: Services) -> None:
    """Selection, details and the cluster summary."""

    @app.callback(
        Output("selected", "data"),
        Input("cy", "tapNodeData"),
        Input("cy", "tapEdgeData"),
        prevent_initial_call=True,
    )
    def select(node: dict | None, edge: dict | None) -> Any:
        prop = ctx.triggered[0]["prop_id"].split(".")[-1] if ctx.triggered else ""
        if prop == "tapNodeData" and node:
            return {"kind": "node", "id": node["id"]}
        if prop == "tapEdgeData" and edge:
            return {"kind": "edge", "id": edge["id"]}
        return no_update

    @app.callback(
        Output("details", "children"),
        Input("selected", "data"),
        Input("lang", "data"),
        Input("canvas-state", "data"),
    )
    @guarded(Permission.VIEW)
    def details(selected: dict | None, lang: str, state: dict | None) -> Any:
        fired = {t["prop_id"].split(".")[0] for t in ctx.triggered}
        if fired == {"canvas-state"} and not _about(state, selected):
            return no_update  # the canvas changed elsewhere: the panel still holds
        if not selected or not selected.get("id"):
            return html.Div(
                [
                    html.Div(t("details.title", lang), className="panel-title"),
                    html.Div(t("details.none", lang), className="muted"),
                ],
                className="panel",
            )
        if selected.get("kind") == "edge":
            return edge_panel(services, selected["id"], state or {}, lang)
        return node_panel(services, selected["id"], state or {}, lang)

    @app.callback(
        Output("cluster-summary", "children"),
        Input("canvas-cluster", "data"),
        Input("lang", "data"),
    )
    @guarded(Permission.VIEW)
    def summary(cluster_id: str | None, lang: str) -> Any:
        return cluster_panel(services.data.cluster(cluster_id), lang) if cluster_id else None
