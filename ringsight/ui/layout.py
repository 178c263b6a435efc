"""The page: a top bar, three work areas in tabs, and a status bar.

Tabs keep room for what comes next: a login page replaces the page body
before these tabs render, and a "cases" tab plus an annotations section in
the side panel slot in next to the existing ones (see ``SIDE_PANEL_SECTIONS``).

Every fixed text is built with :func:`ringsight.ui.i18n.tr`, so one callback
switches the whole page between Chinese and English.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import dash_cytoscape as cyto
from dash import dcc, html

from ringsight.ui import casework
from ringsight.ui.canvas import empty_state
from ringsight.ui.i18n import t, tr
from ringsight.ui.styles import GRID_THEME, LAYOUT_NAMES, legend, stylesheet

#: Sections of the network side panel, top to bottom; cases/annotations add theirs here.
SIDE_PANEL_SECTIONS = ("search", "cluster", "details")


def build_layout(
    lang: str, *, role: str, masked: bool, store_label: str, user_label: str = "", username: str = ""
) -> html.Div:
    """The whole page for a session in ``lang`` (``user_label``: who is logged in, shown in the top bar)."""
    from ringsight.cases.roles import Permission, permissions_of

    extra_tabs = [dbc.Tab(casework.cases_tab(lang), label=t("tab.cases", lang), tab_id="cases", id="tab-cases")]
    if Permission.AUDIT_VIEW in permissions_of(role):
        audit = casework.audit_tab(lang)
        extra_tabs.append(dbc.Tab(audit, label=t("tab.audit", lang), tab_id="audit", id="tab-audit"))
    return html.Div(
        [
            dcc.Store(id="lang", data=lang),
            dcc.Store(id="canvas-state", data=empty_state()),
            dcc.Store(id="canvas-op"),
            dcc.Store(id="canvas-delta"),
            dcc.Store(id="canvas-cluster"),
            dcc.Store(id="canvas-applied"),
            dcc.Store(id="canvas-focus"),
            dcc.Store(id="selected"),
            dcc.Store(id="query-nodes", data=[]),
            *casework.stores(),
            _navbar(lang, role=role, masked=masked, store_label=store_label, user=(user_label, username)),
            dbc.Tabs(
                [
                    dbc.Tab(_queue_tab(lang), label=t("tab.queue", lang), tab_id="queue", id="tab-queue"),
                    dbc.Tab(_network_tab(lang), label=t("tab.network", lang), tab_id="network", id="tab-network"),
                    dbc.Tab(_console_tab(lang), label=t("tab.console", lang), tab_id="console", id="tab-console"),
                    *extra_tabs,
                ],
                id="tabs",
                active_tab="queue",
                class_name="main-tabs",
            ),
            _status_bar(lang),
        ],
        className="app-root",
    )


def _navbar(lang: str, *, role: str, masked: bool, store_label: str, user: tuple[str, str] = ("", "")) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Span("◈", className="brand-mark"),
                    html.Span("RingSight", className="brand-name"),
                    tr("app.subtitle", lang, className="brand-sub"),
                ],
                className="brand",
            ),
            html.Div(id="run-info", className="run-info"),
            html.Div(
                [
                    html.Span(
                        [tr("app.store", lang), html.Span(": "), html.Span(store_label)],
                        className="nav-pill",
                        title=store_label,
                    ),
                    html.Span(
                        [tr("app.role", lang), html.Span(": "), tr(f"role.{role}", lang)],
                        className="nav-pill",
                        id="role-pill",
                    ),
                    html.Span(
                        tr("app.masked" if masked else "app.unmasked", lang),
                        className="nav-pill nav-pill-warn" if masked else "nav-pill",
                        id="mask-pill",
                    ),
                    dbc.RadioItems(
                        id="lang-switch",
                        options=[{"label": "中文", "value": "zh"}, {"label": "EN", "value": "en"}],
                        value=lang,
                        inline=True,
                        class_name="btn-group lang-switch",
                        input_class_name="btn-check",
                        label_class_name="btn btn-sm btn-outline-light",
                        label_checked_class_name="active",
                    ),
                    casework.user_menu(lang, user_label=user[0], username=user[1]) if user[1] else None,
                ],
                className="nav-right",
            ),
        ],
        className="topbar",
    )


def _queue_tab(lang: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    tr("queue.title", lang, tag=html.H5, className="section-title"),
                    html.Span(id="queue-count", className="muted"),
                    tr("queue.hint", lang, className="muted ms-auto"),
                    casework.queue_case_button(lang),
                ],
                className="section-head",
            ),
            dag.AgGrid(
                id="queue-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True},
                dashGridOptions={
                    "theme": GRID_THEME,
                    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                    "animateRows": False,
                    "tooltipShowDelay": 300,
                },
                getRowId="params.data.cluster_id",
                columnSize="responsiveSizeToFit",
                className="queue-grid",
                style={"height": "calc(100vh - 150px)"},
            ),
        ],
        className="tab-body",
    )


def _network_tab(lang: str) -> html.Div:
    toolbar = html.Div(
        [
            dbc.InputGroup(
                [
                    dbc.Input(
                        id="search-input",
                        placeholder=t("search.placeholder", lang),
                        debounce=False,
                        type="text",
                        size="sm",
                    ),
                    dbc.Button(tr("search.button", lang), id="search-btn", color="primary", size="sm"),
                ],
                class_name="search-group",
            ),
            html.Div(
                [
                    tr("layout.label", lang, className="tool-label"),
                    dcc.Dropdown(
                        id="layout-select",
                        options=[{"label": t(f"layout.{n}", lang), "value": n} for n in LAYOUT_NAMES],
                        value="auto",
                        clearable=False,
                        searchable=False,
                        className="layout-select",
                    ),
                    dbc.Button(tr("btn.relayout", lang), id="relayout-btn", size="sm", color="secondary", outline=True),
                    dbc.Button(tr("btn.fit", lang), id="fit-btn", size="sm", color="secondary", outline=True),
                    dbc.Button(tr("btn.undo", lang), id="undo-btn", size="sm", color="secondary", outline=True),
                ],
                className="tool-group",
            ),
            html.Div(
                [
                    tr("weight.label", lang, className="tool-label"),
                    dbc.RadioItems(
                        id="weight-mode",
                        options=[
                            {"label": t("weight.count", lang), "value": "count"},
                            {"label": t("weight.amount", lang), "value": "amount"},
                        ],
                        value="count",
                        inline=True,
                        class_name="btn-group",
                        input_class_name="btn-check",
                        label_class_name="btn btn-sm btn-outline-secondary",
                        label_checked_class_name="active",
                    ),
                ],
                className="tool-group",
            ),
            html.Div(
                [
                    dbc.Button(tr("btn.png", lang), id="png-btn", size="sm", color="dark", outline=True),
                    dbc.Button(tr("btn.svg", lang), id="svg-btn", size="sm", color="dark", outline=True),
                ],
                className="tool-group ms-auto",
            ),
        ],
        className="toolbar",
    )
    filterbar = html.Div(
        [
            tr("time.label", lang, className="tool-label"),
            dcc.DatePickerRange(
                id="time-range",
                display_format="YYYY-MM-DD",
                start_date_placeholder_text=t("time.start", lang),
                end_date_placeholder_text=t("time.end", lang),
                start_date_id="time-start",
                end_date_id="time-end",
                clearable=False,
                className="time-range",
            ),
            dbc.Button(tr("btn.apply", lang), id="time-apply", size="sm", color="primary", outline=True),
            dbc.Button(tr("btn.clear", lang), id="time-clear", size="sm", color="secondary", outline=True),
            html.Div(id="breadcrumb", className="breadcrumb-trail"),
        ],
        className="filterbar",
    )
    canvas = html.Div(
        [
            html.Div(
                [
                    cyto.Cytoscape(
                        id="cy",
                        elements=[],
                        layout={"name": "preset", "fit": False},
                        zoom=1,
                        pan={"x": 0, "y": 0},
                        stylesheet=stylesheet("count"),
                        style={"width": "100%", "height": "100%"},
                        autoRefreshLayout=False,
                        minZoom=0.05,
                        maxZoom=3,
                        boxSelectionEnabled=True,
                        responsive=True,
                        contextMenu=context_menu(lang),
                    ),
                    html.Div(tr("canvas.empty", lang), id="canvas-empty", className="canvas-empty"),
                    tr("canvas.hint", lang, className="canvas-hint"),
                ],
                className="canvas-wrap",
            ),
            legend(lang),
        ],
        className="canvas-col",
    )
    sections = casework.side_sections(lang)
    side = html.Div(
        [
            html.Div(id="search-results", className="side-section"),
            html.Div(id="cluster-summary", className="side-section"),
            sections["cluster"],
            html.Div(id="details", className="side-section"),
            sections["reveal"],
            sections["notes"],
        ],
        className="side-panel",
        id="side-panel",
    )
    return html.Div([toolbar, filterbar, html.Div([canvas, side], className="network-main")], className="tab-body")


def context_menu(lang: str) -> list[dict[str, Any]]:
    return [
        {"id": "expand", "label": t("btn.expand", lang), "availableOn": ["node"]},
        {"id": "collapse", "label": t("btn.collapse", lang), "availableOn": ["node"]},
        {"id": "hide", "label": t("btn.hide", lang), "availableOn": ["node"]},
    ]


def _console_tab(lang: str) -> html.Div:
    left = html.Div(
        [
            tr("console.named", lang, tag=html.H6, className="section-title"),
            dcc.Dropdown(id="query-select", options=[], placeholder=t("console.pick", lang), className="mb-2"),
            html.Div(id="query-description", className="query-description"),
            html.Div(id="query-params", className="query-params"),
            dbc.Button(tr("console.run", lang), id="query-run", color="primary", size="sm", class_name="mt-2"),
            html.Hr(),
            tr("console.adhoc", lang, tag=html.H6, className="section-title"),
            dbc.Textarea(
                id="adhoc-text",
                placeholder=t("console.adhoc_placeholder", lang),
                rows=7,
                class_name="adhoc-text",
                spellcheck="false",
            ),
            dbc.Button(tr("console.run_adhoc", lang), id="adhoc-run", color="secondary", size="sm", class_name="mt-2"),
            html.Div(id="console-message", className="console-message"),
        ],
        className="console-left",
    )
    right = html.Div(
        [
            html.Div(
                [
                    tr("console.results", lang, tag=html.H6, className="section-title"),
                    html.Span(id="query-summary", className="muted"),
                    dbc.Button(
                        tr("console.show", lang),
                        id="console-show",
                        color="primary",
                        outline=True,
                        size="sm",
                        class_name="ms-auto",
                        disabled=True,
                    ),
                ],
                className="section-head",
            ),
            dag.AgGrid(
                id="query-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True},
                dashGridOptions={"theme": GRID_THEME, "animateRows": False},
                columnSize="autoSize",
                style={"height": "calc(100vh - 200px)"},
            ),
        ],
        className="console-right",
    )
    return html.Div([left, right], className="tab-body console-body")


def _status_bar(lang: str) -> html.Div:
    return html.Div(
        [
            html.Span(className="status-dot", id="status-dot"),
            html.Span(t("status.ready", lang), id="status"),
            html.Span(className="spinner-border spinner-border-sm status-spinner", id="status-spinner"),
            html.Span(id="canvas-counts", className="ms-auto muted"),
        ],
        className="statusbar",
    )
