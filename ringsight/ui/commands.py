"""``ringsight ui``: serve the investigator's workbench."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()


def register(app: typer.Typer) -> None:
    """Attach the ``ui`` command to the ``ringsight`` app."""

    @app.command("ui")
    def ui(
        host: str = typer.Option(None, "--host", help="Address to listen on (default: settings ui.host, 127.0.0.1)."),
        port: int = typer.Option(None, "--port", help="Port to listen on (default: settings ui.port, 8050)."),
        debug: bool = typer.Option(False, "--debug", help="Dash debug mode (reloader and error overlay)."),
    ) -> None:
        """Serve the workbench: queue, network canvas, details and query console."""
        from ringsight.config import get_settings
        from ringsight.ui.app import create_app

        settings = get_settings()
        host = host or settings.ui.host
        port = port or settings.ui.port
        dash_app = create_app(settings)
        console.print(
            f"RingSight workbench on [bold]http://{host}:{port}/[/] ({settings.graph_display}); Ctrl+C stops it"
        )
        dash_app.run(host=host, port=port, debug=debug)
