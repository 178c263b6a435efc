"""The case-work parts of the page: the cases and audit tabs, the new-case dialog and the side sections
for a cluster's case, revealing personal data and annotations.

Every input a case callback reads exists from the start (hidden until it
applies), so callbacks never refer to a component that is not on the page;
only the read-only parts (history, state path, buttons) are rendered per
case. Texts are built with :func:`ringsight.ui.i18n.tr`, so the language
switch rewrites them with the rest of the page.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from ringsight.cases.workflow import APPEAL_OUTCOMES, OUTCOMES
from ringsight.ui.i18n import t, tr
from ringsight.ui.styles import GRID_THEME

HIDDEN = {"display": "none"}


def _grid_theme() -> dict[str, str]:
    return GRID_THEME


def stores() -> list[Any]:
    """Browser-side state of the case work: which case is open and at what version, refresh nonces."""
    return [
        dcc.Store(id="case-open"),
        dcc.Store(id="case-version"),
        dcc.Store(id="case-refresh", data=0),
        dcc.Store(id="notes-refresh", data=0),
        dcc.Store(id="annotation-mark"),
        dcc.Store(id="annotation-mark-done"),
        dcc.Store(id="case-modal-cluster"),
        create_case_modal(),
    ]


def outcome_options(lang: str) -> list[dict[str, str]]:
    """The handling outcomes a decision may record (dismissal is closing, not an outcome of 处理)."""
    return [{"label": t(f"outcome.{code}", lang), "value": code} for code in OUTCOMES if code != "dismissed"]


def appeal_options(lang: str) -> list[dict[str, str]]:
    """The appeal outcomes (the select's placeholder asks for one)."""
    return [{"label": t(f"appeal.{code}", lang), "value": code} for code in APPEAL_OUTCOMES]


#: The tag choice that means "a note without a tag".
NO_TAG = "-"


def tag_options(tags: list[str], lang: str) -> list[dict[str, str]]:
    """The tag vocabulary, after a "no tag" choice (the select's placeholder shows until one is picked)."""
    return [{"label": t("notes.no_tag", lang), "value": NO_TAG}, *({"label": tag, "value": tag} for tag in tags)]


def create_case_modal(lang: str = "zh") -> dbc.Modal:
    """The dialog that opens a case for a cluster: a title (pre-filled) and a summary."""
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(tr("case.new_title", lang)), close_button=True),
            dbc.ModalBody(
                [
                    html.Div(id="case-modal-target", className="muted mb-2"),
                    dbc.Label(tr("case.field_title", lang), html_for="case-title"),
                    dbc.Input(id="case-title", size="sm", maxLength=200),
                    dbc.Label(tr("case.field_summary", lang), html_for="case-summary", class_name="mt-2"),
                    dbc.Textarea(id="case-summary", rows=3),
                    html.Div(id="case-modal-msg", className="case-msg mt-2"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button(tr("btn.cancel", lang), id="case-create-cancel", color="secondary", outline=True),
                    dbc.Button(tr("case.create", lang), id="case-create-confirm", color="primary"),
                ]
            ),
        ],
        id="case-modal",
        is_open=False,
        centered=True,
    )


def queue_case_button(lang: str) -> dbc.Button:
    """The queue's "open a case for the selected cluster" button."""
    return dbc.Button(
        tr("case.open_for_selected", lang),
        id="queue-case-btn",
        size="sm",
        color="danger",
        outline=True,
        disabled=True,
    )


def side_sections(lang: str) -> dict[str, Any]:
    """The network side panel's case-work sections, by where they go."""
    return {
        "cluster": html.Div(id="cluster-case", className="side-section"),
        "reveal": html.Div(
            html.Div(
                [
                    html.Div(
                        [
                            tr("reveal.title", lang),
                            dbc.Button(
                                tr("reveal.button", lang),
                                id="reveal-btn",
                                size="sm",
                                color="warning",
                                outline=True,
                                class_name="ms-auto",
                            ),
                        ],
                        className="panel-title",
                    ),
                    tr("reveal.hint", lang, tag=html.Div, className="muted"),
                    html.Div(id="reveal-result"),
                ],
                className="panel reveal-panel",
            ),
            id="reveal-box",
            className="side-section",
            style=HIDDEN,
        ),
        "notes": html.Div(notes_panel(lang), id="notes-box", className="side-section", style=HIDDEN),
    }


def notes_panel(lang: str) -> html.Div:
    """Notes and tags on the selected node, link or the open cluster: the list and the form to add one."""
    return html.Div(
        [
            html.Div(tr("notes.title", lang), className="panel-title"),
            dbc.RadioItems(id="notes-target", options=[], value=None, inline=True, class_name="notes-target"),
            html.Div(id="notes-list", className="notes-list"),
            dbc.Textarea(id="notes-text", rows=2, placeholder=t("notes.placeholder", lang), class_name="mt-2"),
            html.Div(
                [
                    dbc.Select(
                        id="notes-tag",
                        options=[],
                        value="",
                        placeholder=t("notes.tag", lang),
                        size="sm",
                        class_name="notes-tag",
                    ),
                    dbc.Button(tr("notes.add", lang), id="notes-add", size="sm", color="primary"),
                ],
                className="notes-form",
            ),
            html.Div(id="notes-msg", className="case-msg"),
        ],
        className="panel",
        id="notes-panel",
    )


def cases_tab(lang: str) -> html.Div:
    """The cases tab: the case list on the left, the open case on the right."""
    left = html.Div(
        [
            html.Div(
                [
                    tr("cases.title", lang, tag=html.H5, className="section-title"),
                    html.Span(id="cases-count", className="muted"),
                    dbc.Checkbox(id="cases-open-only", label=t("cases.open_only", lang), value=False),
                ],
                className="section-head",
            ),
            dag.AgGrid(
                id="cases-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True},
                dashGridOptions={
                    "theme": _grid_theme(),
                    "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                    "animateRows": False,
                },
                getRowId="params.data.case_id",
                columnSize="responsiveSizeToFit",
                className="cases-grid",
                style={"height": "calc(100vh - 150px)"},
            ),
        ],
        className="cases-left",
    )
    return html.Div([left, case_view(lang)], className="tab-body cases-body")


def case_view(lang: str) -> html.Div:
    """The open case: header, state path, actions, referral export, notes, history and what it covers."""
    empty = tr("cases.pick", lang, tag=html.Div, className="case-empty", id="case-empty")
    decide = html.Div(
        [
            dbc.Label(tr("case.outcome", lang)),
            dbc.Checklist(id="case-outcome", options=outcome_options(lang), value=[], class_name="case-outcomes"),
            dbc.Label(tr("case.basis", lang), html_for="case-basis", class_name="mt-2"),
            dbc.Input(id="case-basis", size="sm", placeholder=t("case.basis_placeholder", lang)),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Label(tr("case.recovered", lang), html_for="case-recovered"),
                            dbc.Input(id="case-recovered", type="number", min=0, size="sm"),
                        ]
                    ),
                    html.Div(
                        [
                            dbc.Label(tr("case.penalty", lang), html_for="case-penalty"),
                            dbc.Input(id="case-penalty", type="number", min=0, size="sm"),
                        ]
                    ),
                ],
                className="case-amounts",
            ),
        ],
        id="case-decide-wrap",
        style=HIDDEN,
        className="case-form-block",
    )
    appeal = html.Div(
        [
            dbc.Label(tr("case.appeal_outcome", lang)),
            dbc.Select(
                id="case-appeal",
                options=appeal_options(lang),
                value="",
                placeholder=t("case.appeal_pick", lang),
                size="sm",
            ),
        ],
        id="case-appeal-wrap",
        style=HIDDEN,
        className="case-form-block",
    )
    actions = html.Div(
        [
            html.Div(tr("case.actions", lang), className="panel-sub"),
            dbc.Textarea(id="case-note", rows=2, placeholder=t("case.note_placeholder", lang)),
            appeal,
            decide,
            html.Div(id="case-moves", className="case-moves"),
        ],
        className="case-actions",
    )
    assign = html.Div(
        [
            html.Div(tr("case.assign", lang), className="panel-sub"),
            html.Div(
                [
                    dbc.Select(id="case-assignee", options=[], size="sm", class_name="case-assignee"),
                    dbc.Button(tr("case.assign_btn", lang), id="case-assign-btn", size="sm", color="secondary"),
                ],
                className="case-inline",
            ),
        ],
        id="case-assign-wrap",
        style=HIDDEN,
    )
    track = html.Div(
        [
            html.Div(tr("case.track", lang), className="panel-sub"),
            html.Div(
                [
                    dbc.Input(id="case-receipt", size="sm", placeholder=t("case.receipt_placeholder", lang)),
                    dbc.Input(id="case-decision", size="sm", placeholder=t("case.decision_placeholder", lang)),
                    dbc.Button(tr("case.track_save", lang), id="case-track-save", size="sm", color="secondary"),
                ],
                className="case-inline case-track",
            ),
        ],
        id="case-track-wrap",
        style=HIDDEN,
    )
    export = html.Div(
        [
            html.Div(tr("case.referral", lang), className="panel-sub"),
            html.Div(
                [
                    dbc.Button(tr("case.export", lang), id="case-export-btn", size="sm", color="dark"),
                    dbc.Button(
                        tr("case.export_pdf", lang),
                        id="case-export-pdf",
                        size="sm",
                        color="dark",
                        outline=True,
                        disabled=True,
                    ),
                ],
                className="case-inline",
            ),
            dcc.Loading(html.Div(id="case-export-info", className="muted"), type="dot"),
            dcc.Download(id="case-download-zip"),
            dcc.Download(id="case-download-pdf"),
        ],
        id="case-export-wrap",
        style=HIDDEN,
    )
    notes = html.Div(
        [
            html.Div(tr("case.notes", lang), className="panel-sub"),
            html.Div(id="case-notes", className="notes-list"),
            html.Div(
                [
                    dbc.Textarea(id="case-note-text", rows=2, placeholder=t("notes.placeholder", lang)),
                    dbc.Button(tr("notes.add", lang), id="case-note-add", size="sm", color="primary"),
                ],
                className="case-inline",
            ),
        ]
    )
    body = html.Div(
        [
            html.Div(id="case-head", className="case-head"),
            html.Div(id="case-path", className="case-path"),
            html.Div(id="case-message", className="case-msg"),
            html.Div(
                [
                    html.Div([actions, assign, export, track], className="panel case-col"),
                    html.Div(
                        [
                            notes,
                            html.Div(tr("case.history", lang), className="panel-sub"),
                            html.Div(id="case-history", className="case-history"),
                            html.Div(tr("case.covers", lang), className="panel-sub"),
                            html.Div(id="case-covers"),
                        ],
                        className="panel case-col",
                    ),
                ],
                className="case-cols",
            ),
        ],
        id="case-body",
        style=HIDDEN,
    )
    return html.Div([empty, body], className="case-view", id="case-view")


def audit_tab(lang: str) -> html.Div:
    """The audit trail for supervisors and administrators: newest first, exportable to CSV."""
    return html.Div(
        [
            html.Div(
                [
                    tr("audit.title", lang, tag=html.H5, className="section-title"),
                    html.Span(id="audit-count", className="muted"),
                    tr("audit.hint", lang, className="muted"),
                    dbc.Button(
                        tr("audit.reload", lang),
                        id="audit-reload",
                        size="sm",
                        color="secondary",
                        outline=True,
                        class_name="ms-auto",
                    ),
                    dbc.Button(tr("audit.export", lang), id="audit-export", size="sm", color="primary"),
                    dcc.Download(id="audit-download"),
                ],
                className="section-head",
            ),
            dag.AgGrid(
                id="audit-grid",
                rowData=[],
                columnDefs=[],
                defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True},
                dashGridOptions={"theme": _grid_theme(), "animateRows": False, "tooltipShowDelay": 300},
                getRowId="params.data.audit_id",
                columnSize="responsiveSizeToFit",
                style={"height": "calc(100vh - 150px)"},
            ),
        ],
        className="tab-body",
    )


def user_menu(lang: str, *, user_label: str, username: str) -> html.Div:
    """The navbar's logged-in user and the logout button (a plain POST form: no script needed)."""
    return html.Div(
        [
            html.Span(user_label, className="nav-user", id="nav-user", title=username),
            html.Form(
                html.Button(tr("app.logout", lang), type="submit", className="btn btn-sm btn-outline-light"),
                action="/logout",
                method="POST",
                id="logout-form",
                className="logout-form",
            ),
        ],
        className="nav-user-box",
    )
