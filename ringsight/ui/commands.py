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

    Refuses (:class:`~ringsight.ui.auth.InsecureBind`) to listen beyond this
    machine while the session secret is the shipped default.
    """
    from ringsight.cases.sessions import secret_is_default
    from ringsight.ui.app import create_app
    from ringsight.ui.auth import check_bind

    host = host or settings.ui.host
    port = port or settings.ui.port
    check_bind(host, settings)
    dash_app = create_app(settings)
    if secret_is_default(settings):
        console.print(
            "[yellow]The session secret (ui.secret_key) is the default: fine on 127.0.0.1, "
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
