"""``ringsight query list | show | run`` and ``ringsight cypher``: the library and the console on the command line.

Results go to stdout (table, CSV or JSON) or to ``--out``; everything else —
timings, the row-cap notice — goes to stderr, so ``--format csv`` can be
piped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ringsight.config import get_settings
from ringsight.cypher.library import NamedQuery, QueryLibrary
from ringsight.cypher.output import FORMATS, emit
from ringsight.cypher.params import parse_adhoc, parse_assignments
from ringsight.cypher.runner import limit_notice, run_adhoc, run_named
from ringsight.errors import InputError
from ringsight.graph.store import QueryResult

console = Console()
err_console = Console(stderr=True)

query_app = typer.Typer(help="The library of named investigative queries.", no_args_is_help=True)

_PARAM = typer.Option(None, "--param", "-p", help="name=value (repeatable); see `ringsight query show NAME`.")
_FORMAT = typer.Option("table", "--format", "-f", help=f"Output format: {' | '.join(FORMATS)}.")
_OUT = typer.Option(None, "--out", "-o", help="Write to this file instead of the screen (needed for parquet).")


@query_app.command("list")
def list_queries(
    tag: str | None = typer.Option(None, "--tag", "-t", help="Only queries with this typology tag."),
    fmt: str = _FORMAT,
    out: Path | None = _OUT,
) -> None:
    """List the named queries: built-in ones and those in RINGSIGHT_QUERIES_DIR."""
    _check_format(fmt)
    library = QueryLibrary.load(get_settings())
    chosen = [q for q in library if not tag or tag in q.tags]
    if fmt != "table" or out is not None:
        rows = [
            [q.name, q.title_zh, q.title_en, list(q.tags), "write" if q.is_write else "read", q.source] for q in chosen
        ]
        listing = QueryResult(["name", "title_zh", "title_en", "tags", "mode", "source"], rows)
        emit(listing, fmt, out, console, title=f"{len(chosen)} queries")
        return
    grid = Table(title=f"{len(chosen)} queries", show_lines=True)
    grid.add_column("name", no_wrap=True, style="bold")
    grid.add_column("标题 / title", overflow="fold")
    grid.add_column("tags", overflow="fold")
    grid.add_column("mode")
    grid.add_column("from", overflow="fold")
    for q in chosen:
        mode = "[red]write[/]" if q.is_write else "read"
        grid.add_row(q.name, escape(f"{q.title_zh}\n{q.title_en}"), ", ".join(q.tags), mode, escape(q.source))
    console.print(grid)


@query_app.command("show")
def show_query(name: str = typer.Argument(..., help="Query name.")) -> None:
    """Show a query: what it finds, its parameters and its Cypher text."""
    query = QueryLibrary.load(get_settings()).get(name)
    console.print(f"[bold]{query.name}[/] — {query.title_zh} / {query.title_en}  ({query.mode}, {query.source})")
    if query.tags:
        console.print(f"tags: {', '.join(query.tags)}")
    if query.description:
        console.print(query.description, markup=False)
    console.print(_params_table(query))
    if query.sample is not None:
        s = query.sample
        console.print(
            f"sample: per {s.stratum or 'whole population'}, ceil({s.fraction}·n) rows with the smallest "
            f"sha256('<{s.seed}>:' + {s.key}) — computed by RingSight after the query",
            markup=False,
        )
    console.print(query.text, markup=False, highlight=False, soft_wrap=True)


def _params_table(query: NamedQuery) -> Table:
    grid = Table("parameter", "type", "default", "example", "description", title="parameters")
    for p in query.params:
        default = "(required)" if p.required else _shown(p.default)
        extra = f" (one of: {', '.join(map(str, p.choices))})" if p.choices else ""
        grid.add_row(p.name, p.type, default, escape(_shown(p.example)), escape(p.description + extra))
    return grid


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@query_app.command("run")
def run_query(
    name: str = typer.Argument(..., help="Query name."),
    param: list[str] | None = _PARAM,
    fmt: str = _FORMAT,
    out: Path | None = _OUT,
    allow_write: bool = typer.Option(False, "--allow-write", help="Allow a write query to change the graph."),
    user: str | None = typer.Option(None, "--user", help="Who runs a write query (audit trail); default: OS user."),
) -> None:
    """Run a named query with --param name=value."""
    from ringsight.graph import open_store

    settings = get_settings()
    library = QueryLibrary.load(settings)
    query = library.get(name)
    raw = parse_assignments(param)
    _check_format(fmt)
    t0 = time.perf_counter()
    with open_store(settings) as store:
        if not query.is_write:  # a write is recorded with its outcome by the runner
            _audit_read(store, user, f"Query:{name}", {"query": name, "params": raw})
        result = run_named(store, library, name, raw, settings=settings, allow_write=allow_write, user=user)
    _finish(result, fmt, out, f"{query.title_zh} / {query.title_en}", time.perf_counter() - t0)


def cypher(
    text: str | None = typer.Argument(None, help='The Cypher text, e.g. "MATCH (c:Card) RETURN count(c)"; - = stdin.'),
    file: Path | None = typer.Option(None, "--file", help="Read the Cypher text from this file."),
    param: list[str] | None = typer.Option(
        None,
        "--param",
        "-p",
        help="name=value (text) or name:type=value (int, float, bool, date, datetime, list, json).",
    ),
    fmt: str = _FORMAT,
    out: Path | None = _OUT,
    reveal: bool = typer.Option(
        False, "--reveal", help="Resolve pseudonyms to clear values (roles cleared for personal data; audited)."
    ),
    acting: str | None = typer.Option(None, "--as", envvar="RINGSIGHT_USER", help="Act as this user (for --reveal)."),
    purpose: str | None = typer.Option(None, "--purpose", help="Why the identities are needed (audit trail)."),
) -> None:
    """Run ad-hoc Cypher read-only (a write is refused by the database), with the timeout and row cap.

    The graph holds pseudonyms of persons, cards, phones and addresses; with
    ``--reveal --as USER`` a user cleared for personal data gets them resolved
    through the identity vault, and the reveal is audited.
    """
    from ringsight.graph import open_store

    settings = get_settings()
    statement = _statement(text, file)
    params = parse_adhoc(param)
    _check_format(fmt)
    t0 = time.perf_counter()
    with open_store(settings) as store:
        _audit_read(store, acting, "CLI:adhoc", {"cypher": statement, "params": sorted(params)})
        result = run_adhoc(store, statement, params, settings=settings)
        if reveal:
            result = _revealed(store, settings, result, acting, purpose or statement)
    _finish(result, fmt, out, None, time.perf_counter() - t0)


def _audit_read(store: object, user: str | None, target: str, what: dict[str, object]) -> None:
    """Record a read before it runs, as the workbench console does, so even a refused or failing one is on file.

    The CLI user is the ``--as``/``--user`` name when given, else the OS account
    (``os:<login>``): shell access to the data directory is what lets one run it.
    """
    from ringsight.cases.audit import record
    from ringsight.cypher.runner import os_user

    record(store, user=user or f"os:{os_user()}", action="query.read", target=target, after=what)  # type: ignore[arg-type]


def _revealed(store: object, settings: object, result: QueryResult, acting: str | None, purpose: str) -> QueryResult:
    """The result with pseudonyms resolved for a cleared user (refused for others, before anything is read)."""
    from ringsight.cases.accounts import get_user
    from ringsight.cases.identities import reveal_result
    from ringsight.cases.roles import AccessDenied

    if not acting:
        raise AccessDenied("--reveal acts as a RingSight user, and none was given.", "Add --as NAME.")
    user = get_user(store, acting)  # type: ignore[arg-type]
    if user is None or not user.active:
        raise AccessDenied(f"There is no active user '{acting}'.", "List users with `ringsight users list`.")
    return reveal_result(user, result, purpose, store=store, settings=settings)  # type: ignore[arg-type]


def _statement(text: str | None, file: Path | None) -> str:
    if file is not None:
        if text:
            raise InputError("Give the query either as text or with --file, not both.")
        try:
            return file.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"Cannot read {file}: {exc}.") from exc
    if text is None or text == "-":
        if text is None and sys.stdin.isatty():
            raise InputError(
                "No query given.", 'Pass it as text (ringsight cypher "MATCH …"), with --file, or on stdin.'
            )
        return sys.stdin.read()
    return text


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"Unknown output format '{fmt}'.", f"Use one of: {', '.join(FORMATS)}.")


def _finish(result: QueryResult, fmt: str, out: Path | None, title: str | None, seconds: float) -> None:
    settings = get_settings()
    emit(result, fmt, out, console, title=title)
    summary = f"{len(result.rows)} rows in {seconds:.2f} s"
    if result.stats:
        summary += "; " + ", ".join(f"{k} {v}" for k, v in result.stats.items())
    if out is not None:
        summary += f"; written to {out}"
    err_console.print(summary, style="dim")
    notice = limit_notice(result, settings)
    if notice:
        err_console.print(f"[yellow]{notice}[/]")


def register(app: typer.Typer) -> None:
    """Attach ``query`` and ``cypher`` to the CLI."""
    app.add_typer(query_app, name="query")
    app.command("cypher")(cypher)
