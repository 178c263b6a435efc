"""``ringsight ui``: serve the investigator's workbench (login required)."""

from __future__ import annotations

import typer
from rich.console import Console

from ringsight.config import Settings

console = Console()
#: Worker threads of the WSGI server: callbacks wait on the graph store, so more than the cores.
WSGI_THREADS = 8


def serve(settings: Settings, *, host: str | None = None, port: int | None = None, debug: bool = False) -> None:
    """Serve the workbench for ``settings`` until Ctrl+C.

    Refuses (:class:`~ringsight.ui.auth.InsecureBind`) ``--debug`` off
    loopback, a weak session secret beyond loopback, and a weak secret on any
    address once real (non-demo) accounts exist.
    """
    from ringsight.cases.sessions import secret_is_weak
    from ringsight.graph import open_store
    from ringsight.ui.app import create_app
    from ringsight.ui.auth import check_bind, check_serving

    host = host or settings.ui.host
    port = port or settings.ui.port
    check_bind(host, settings)
    store = open_store(settings)
    check_serving(host, settings, store, debug=debug)
    from ringsight.cases.legacy import legacy_nodes

    if legacy_nodes(store):
        from ringsight.errors import RingSightError

        raise RingSightError(
            "The graph still holds accounts or audit entries written by an earlier RingSight, where any "
            "console query can read them.",
            "Run `ringsight users move-from-graph` once, then start the workbench again.",
        )
    dash_app = create_app(settings, store)
    if secret_is_weak(settings):
        console.print(
            "[yellow]The session secret (ui.secret_key) is weak (default or short): fine for the demo on 127.0.0.1, "
            "set RINGSIGHT_UI__SECRET_KEY before serving to others.[/]"
        )
    console.print(
        f"RingSight workbench on [bold]http://{host}:{port}/[/] ({settings.graph_display}); log in with an account "
        "from `ringsight users add`; Ctrl+C stops it"
    )
    if debug:  # Dash's own server, for its reloader and error overlay while developing
        dash_app.run(host=host, port=port, debug=True)
        return
    # a production WSGI server: Flask's built-in one is for development only (and says so)
    from waitress import serve as wsgi_serve

    wsgi_serve(dash_app.server, host=host, port=port, threads=WSGI_THREADS, ident="RingSight")


def register(app: typer.Typer) -> None:
    """Attach the ``ui`` command to the ``ringsight`` app."""

    @app.command("ui")
    def ui(
        host: str = typer.Option(None, "--host", help="Address to listen on (default: settings ui.host, 127.0.0.1)."),
        port: int = typer.Option(None, "--port", help="Port to listen on (default: settings ui.port, 8050)."),
        debug: bool = typer.Option(False, "--debug", help="Dash debug mode (reloader and error overlay)."),
    ) -> None:
        """Serve the workbench: queue, network canvas, details, query console, cases and audit trail."""
        from ringsight.config import get_settings

        serve(get_settings(), host=host, port=port, debug=debug)
