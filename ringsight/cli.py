"""The ``ringsight`` command and its sub-commands.

Each area keeps its commands in its own module (``ringsight/<area>/commands.py``)
and registers them here, so this file stays an index. Every command turns a
:class:`~ringsight.errors.RingSightError` into one readable paragraph and a
non-zero exit code — never a traceback.
"""

from __future__ import annotations

import os
import sys
import time

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from ringsight import __version__
from ringsight.config import get_settings
from ringsight.errors import RingSightError
from ringsight.private import restrict_umask

WIDE_OUTPUT = 240
console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="ringsight",
    help="RingSight: find and investigate fraud rings in medical-insurance claims.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
store_app = typer.Typer(help="Start, stop and inspect the graph store.", no_args_is_help=True)
app.add_typer(store_app, name="store")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"ringsight {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log details (e.g. the graph store's notices)."),
) -> None:
    """RingSight: find and investigate fraud rings in medical-insurance claims."""
    restrict_umask()  # whatever RingSight writes may hold personal data: 0600 files, 0700 directories
    if verbose:
        _log_verbosely()


def _log_verbosely() -> None:
    """RingSight's log (INFO and up) on stderr, through Rich."""
    import logging

    from rich.logging import RichHandler

    logger = logging.getLogger("ringsight")
    logger.setLevel(logging.INFO)
    if not any(isinstance(h, RichHandler) for h in logger.handlers):
        logger.addHandler(RichHandler(console=err_console, show_path=False))


@store_app.command("status")
def store_status() -> None:
    """Say which store is configured and whether it answers."""
    from ringsight.graph import embedded_server, open_store

    settings = get_settings()
    console.print(f"graph setting: [bold]{settings.graph_display}[/]")
    if settings.graph in ("", "embedded"):
        status = embedded_server(settings).status()
        state = "[green]running[/]" if status.running else "[yellow]stopped[/]"
        console.print(f"embedded FalkorDB: {state} pid={status.pid} dir={status.directory}")
        if not status.running:
            return
    with open_store(settings) as store:
        console.print(f"{store.describe()}: {store.count_nodes()} nodes, {store.count_relationships()} relationships")


@store_app.command("start")
def store_start() -> None:
    """Start the embedded FalkorDB server (or confirm it is running)."""
    from ringsight.graph import embedded_server, require_embedded

    require_embedded(get_settings(), "start")
    t0 = time.perf_counter()
    server = embedded_server()
    socket = server.ensure_running()
    console.print(f"embedded FalkorDB ready on {socket} (pid {server.pid()}) in {time.perf_counter() - t0:.2f} s")


@store_app.command("stop")
def store_stop() -> None:
    """Save and stop the embedded FalkorDB server."""
    from ringsight.graph import embedded_server, require_embedded

    require_embedded(get_settings(), "stop")
    stopped = embedded_server().stop()
    console.print("stopped" if stopped else "was not running")


@store_app.command("repair")
def store_repair() -> None:
    """Cut a damaged tail off the embedded store's append-only file (keeps a backup)."""
    from ringsight.graph import embedded_server, require_embedded

    require_embedded(get_settings(), "repair")
    console.print(embedded_server().repair())


@store_app.command("schema")
def store_schema() -> None:
    """Create the model's constraints and indexes (idempotent)."""
    from ringsight.graph import open_store

    with open_store() as store:
        created = store.ensure_schema()
    console.print(f"{len(created)} created" + (": " + ", ".join(created) if created else " (all present)"))


@store_app.command("model")
def store_model() -> None:
    """Print the graph model: labels, keys, indexes and relationship types."""
    from ringsight.graph.model import NODE_TYPES, REL_TYPES

    nodes = Table("label", "key", "indexed", "what it is", title="Node labels")
    for nt in NODE_TYPES:
        nodes.add_row(nt.label, nt.key, ", ".join(nt.indexed), nt.description)
    rels = Table("type", "from", "to", "what it means", title="Relationship types")
    for rt in REL_TYPES:
        end = rt.end if isinstance(rt.end, str) else "|".join(rt.end)
        rels.add_row(rt.type, rt.start if isinstance(rt.start, str) else "|".join(rt.start), end, rt.description)
    console.print(nodes, rels)


def _register_area_commands() -> None:
    """Attach each area's commands (kept in their own modules)."""
    from ringsight import demo
    from ringsight.algorithms import commands as detect_commands
    from ringsight.appdb import commands as appdb_commands
    from ringsight.cases import commands as case_commands
    from ringsight.cypher import commands as query_commands
    from ringsight.loaders import commands as load_commands
    from ringsight.synth import commands as synth_commands
    from ringsight.ui import commands as ui_commands

    for area in (demo, synth_commands, load_commands, detect_commands, query_commands, ui_commands, case_commands):
        area.register(app)
    appdb_commands.register(app)
    export_app = next(g.typer_instance for g in app.registered_groups if g.name == "export")
    export_app.command("neo4j-import")(load_commands.export_neo4j_import)


_register_area_commands()


def main() -> None:
    """Entry point: run the app and print RingSightErrors as one paragraph."""
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        # piped or captured output is read whole: Rich would otherwise cut tables at 80 columns
        os.environ["COLUMNS"] = str(WIDE_OUTPUT)
    try:
        app()
    except RingSightError as exc:
        body = exc.message + (f"\n\n[bold]What to do:[/] {exc.hint}" if exc.hint else "")
        err_console.print(Panel(body, title="ringsight: error", border_style="red", expand=False))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
