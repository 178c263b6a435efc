"""The Dash application factory: ``create_app(settings, store=None)``.

One app serves one store. The page is built per request for the logged-in
user (:mod:`ringsight.ui.auth` refuses every route and callback without a
login), callbacks are registered once, and all assets
(Bootstrap CSS, the canvas glue, grid renderers) are served locally: the
workbench runs on a machine with no internet access.
"""

from __future__ import annotations

from pathlib import Path

import dash
import dash_cytoscape as cyto

from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore
from ringsight.private import restrict_umask
from ringsight.ui import auth, store_down
from ringsight.ui.callbacks import Services, register_callbacks
from ringsight.ui.callbacks.console import load_library
from ringsight.ui.canvas import Canvas
from ringsight.ui.data import UiData
from ringsight.ui.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from ringsight.ui.layout import build_layout
from ringsight.ui.session import current_role, current_session, personal_data_visible

ASSETS = Path(__file__).parent / "assets"


def create_app(settings: Settings | None = None, store: GraphStore | None = None, **data_options: int) -> dash.Dash:
    """Build the workbench for ``store`` (opened from ``settings`` when not given).

    ``data_options`` tune :class:`~ringsight.ui.data.UiData` (``supernode``,
    ``expand_cap``, ``claims_cap``).
    """
    settings = settings or get_settings()
    restrict_umask()  # exports, packages and databases the workbench writes are private
    if store is None:
        from ringsight.graph import open_store

        store = open_store(settings)
    cyto.load_extra_layouts()
    lang = settings.ui.language if settings.ui.language in LANGUAGES else DEFAULT_LANGUAGE
    app = dash.Dash(
        __name__,
        title=t("app.title", lang),
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.server.secret_key = settings.ui.secret_key
    data = UiData(store, settings, **data_options)
    library, error = load_library(settings)
    services = Services(data=data, canvas=Canvas(data), settings=settings, library=library, library_error=error)

    def layout() -> dash.html.Div:
        role = current_role()
        session = current_session()
        page_lang = auth.request_language(lang)
        return build_layout(
            page_lang,
            role=role,
            masked=not personal_data_visible(role),
            store_label=store_pill(settings.graph, page_lang),
            user_label=session.user.label if session else "",
            username=session.user.username if session else "",
        )

    app.layout = layout
    store_down.install(app.server)
    auth.install(app.server, store, settings, default_language=lang)
    register_callbacks(app, services)
    app.ringsight = services  # type: ignore[attr-defined]
    return app


def store_pill(graph: str, lang: str) -> str:
    """What the header says about the store: 内置图库, or the kind and host of a server (no path, no password)."""
    from urllib.parse import urlsplit

    if graph in ("", "embedded"):
        return t("store.embedded", lang)
    parts = urlsplit(graph)
    kind = "Neo4j" if parts.scheme.startswith(("neo4j", "bolt")) else "FalkorDB"
    return f"{kind} {parts.hostname or ''}".strip()
