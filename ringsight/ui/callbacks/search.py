"""Search: find an entity by its identifiers and drop it on the canvas."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, State, html, no_update

from ringsight.cases.roles import Permission
from ringsight.ui.auth import guarded
from ringsight.ui.callbacks import Services
from ringsight.ui.i18n import prop_label, t, type_label
from ringsight.ui.styles import TYPES


def results_panel(services: Services, text: str, lang: str) -> Any:
    """The hits for ``text`` (masked), each with an "add to canvas" button."""
    hits = services.data.search(text)
    rows: list[Any] = []
    for hit in hits:
        label = hit.ref.label
        target = f"Claim:{hit.ref.key}" if label == "Claim" else services.data.registry.id_for(hit.ref)
        colour = TYPES.get(label, ("", "#475569"))[1]
        rows.append(
            html.Div(
                [
                    html.Span(type_label(label, lang), className="type-badge", style={"background": colour}),
                    html.Span(hit.display, className="hit-name"),
                    html.Span(
                        f"{t('search.by', lang)} {prop_label(hit.matched_by, lang)} {hit.extra}".strip(),
                        className="hit-extra",
                    ),
                    dbc.Button(
                        t("search.add", lang),
                        id={"type": "search-add", "target": target},
                        size="sm",
                        color="primary",
                        outline=True,
                    ),
                ],
                className="hit",
            )
        )
    return html.Div(
        [
            html.Div(
                [t("search.results", lang), html.Span(f"{len(hits)}", className="muted")], className="panel-title"
            ),
            html.Div(rows or t("search.none", lang), className="" if rows else "muted", id="search-hits"),
        ],
        className="panel",
    )


def register(app: Dash, services: Services) -> None:
    """Run a search on the button or Enter."""

    @app.callback(
        Output("search-results", "children"),
        Input("search-btn", "n_clicks"),
        Input("search-input", "n_submit"),
        State("search-input", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
    )
    @guarded(Permission.VIEW)
    def search(_n: int | None, _s: int | None, text: str | None, lang: str) -> Any:
        if not text or not text.strip():
            return no_update
        return results_panel(services, text, lang)
