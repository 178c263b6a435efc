"""``ringsight load``, ``ringsight profile check`` and ``ringsight profile init``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
profile_app = typer.Typer(
    help="Map an export's headers onto the canonical columns: check a profile, or write a first one.",
    no_args_is_help=True,
)
_PROFILE_HELP = "TOML profile mapping headers and values, or a shipped profile's name (national, cms-inpatient)"


def load(
    files: list[Path] = typer.Argument(..., help="claims files: CSV (UTF-8 / GBK), XLSX or Parquet"),
    items: list[Path] = typer.Option(None, "--items", help="claim items file (费用明细); repeat for several"),
    profile: str | None = typer.Option(None, "--profile", help=_PROFILE_HELP),
    rejects: Path | None = typer.Option(None, "--rejects", help="directory for rejected rows (CSV)"),
    report: Path | None = typer.Option(None, "--report", help="where the JSON load report goes"),
    max_reject_share: float | None = typer.Option(
        None, "--max-reject-share", min=0.0, max=1.0, help="fail when more than this share of rows is rejected"
    ),
    join: list[str] = typer.Option(None, "--join", help="NAME=FILE: the file of a join the profile declares"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Load claims exports into the graph: validate, normalise, resolve entities, write.

    Bad rows go whole to a rejects file with line, column and reason; good rows
    load. When more than [load] max_reject_share of the rows (default 50%) is
    rejected, or there is no row, nothing is written to the graph and the exit
    code is 2. Re-running the same load changes nothing; an interrupted load resumes.
    """
    from ringsight.config import get_settings
    from ringsight.loaders.pipeline import MostlyRejectedError, load_files
    from ringsight.loaders.report import render

    settings = get_settings()
    try:
        result = load_files(
            list(files),
            list(items or []),
            settings=settings,
            profile=profile,
            progress=not quiet,
            rejects_dir=rejects,
            report_path=report,
            console=console,
            max_reject_share=max_reject_share,
            joins=parse_joins(join),
        )
    except MostlyRejectedError as exc:
        render(exc.report, console)
        raise
    render(result, console)


@profile_app.command("check")
def profile_check(
    file: Path = typer.Argument(..., help="a claims or items file"),
    profile: str | None = typer.Option(None, "--profile", help=_PROFILE_HELP),
    items: bool = typer.Option(False, "--items", help="check it as a claim items file (else guessed)"),
    sample: int = typer.Option(10_000, "--sample", min=1, help="rows read to predict the rejects"),
    join: list[str] = typer.Option(None, "--join", help="NAME=FILE: the file of a join the profile declares"),
) -> None:
    """Show how a file's headers map, and predict what a load would reject and why, before anything is written."""
    from ringsight.config import get_settings
    from ringsight.loaders.check import predict
    from ringsight.loaders.pipeline import open_input
    from ringsight.loaders.profiles import load_profile, map_headers
    from ringsight.loaders.safe_text import excerpt, plain

    prof = load_profile(profile, parse_joins(join))
    if items:
        as_items, inp = True, open_input("items", 0, file, prof.items)
    else:
        claims_in = open_input("claims", 0, file, prof.claims)
        items_map = map_headers(list(claims_in.source.headers), prof.items)
        claims_map = claims_in.mapping
        as_items = len(items_map.mapped) > len(claims_map.mapped) and "visit_type" not in claims_map.mapped
        inp = open_input("items", 0, file, prof.items) if as_items else claims_in
    table, kind = (prof.items, "items") if as_items else (prof.claims, "claims")
    mapping, source = inp.mapping, inp.source
    encoding = f", encoding {source.encoding}" if source.format == "csv" else ""
    sheet = f", sheet {excerpt(source.sheet)} ({source.sheet_note})" if source.sheet else ""
    console.print(
        f"[bold]{plain(file, 200)}[/]: {source.format}{encoding}{sheet}, read as a {kind} file "
        f"with profile {excerpt(prof.name)}"
    )
    for join in inp.joins:
        console.print(f"joined {plain(join.path, 200)} on {excerpt(join.spec.keys[0])} ({join.frame.height:,} keys)")
    console.print(_mapping_grid(mapping, table))
    if mapping.ignored:
        console.print(f"ignored headers: {', '.join(plain(h, 40) for h in mapping.ignored[:40])}")
    if mapping.kept_extra:
        console.print(f"kept as extra claim properties: {', '.join(plain(h, 40) for h in mapping.kept_extra)}")
    for canonical, others in mapping.duplicates.items():
        console.print(f"[yellow]{canonical}: also matched {', '.join(plain(o, 40) for o in others)} (not used)[/]")
    if mapping.missing:
        console.print(f"[red]cannot load: missing required {', '.join(mapping.missing)}[/]")
        raise typer.Exit(2)
    limit = prof.max_reject_share if prof.max_reject_share is not None else get_settings().load.max_reject_share
    prediction = predict(inp, table, kind, sample)
    console.print(prediction.render())
    if kind == "items":
        console.print("[dim]items are checked against their claims (orphan_item) only by the load itself[/]")
    if prediction.read == 0:
        console.print("[red]the load would fail: the file holds no data row[/]")
        raise typer.Exit(2)
    if prediction.share > limit:
        console.print(
            f"[red]the load would fail: {prediction.share:.0%} of the rows read would be rejected, "
            f"more than the {limit:.0%} allowed ([load] max_reject_share)[/]"
        )
        raise typer.Exit(2)
    console.print("[green]ready to load[/]")


def _mapping_grid(mapping, table) -> Table:  # type: ignore[no-untyped-def]
    """canonical column | required | where its value comes from (header, constant, derived, missing)."""
    from ringsight.loaders.safe_text import excerpt, plain

    grid = Table("canonical column", "required", "from the file")
    for canonical in table.columns:
        required = "yes" if canonical in table.required else ""
        if canonical in mapping.constants:
            shown = f"[cyan]constant {excerpt(mapping.constants[canonical])}[/]"
        elif canonical in mapping.derived:
            shown = f"[cyan]derived: {plain(mapping.derived[canonical], 60)}[/]"
        elif canonical in mapping.mapped:
            formats = table.formats_of(canonical) if canonical.endswith(("_time", "_date")) else ()
            fmt = f" [dim](formats {', '.join(formats)})[/]" if formats else ""
            shown = f"[green]{plain(mapping.mapped[canonical], 60)}[/]{fmt}"
        elif required:
            closest = mapping.closest(canonical, table)
            shown = "[red]MISSING[/]" + (f" (closest header: {excerpt(closest)})" if closest else "")
        else:
            shown = "[dim]—[/]"
        grid.add_row(canonical, required, shown)
    return grid


@profile_app.command("init")
def profile_init(
    file: Path = typer.Argument(..., help="a claims (or, with --items, items) export"),
    out: Path | None = typer.Option(None, "--out", "-o", help="where the profile goes (default: print it)"),
    items: bool = typer.Option(False, "--items", help="write the [items] section instead of [claims]"),
    sample: int = typer.Option(2_000, "--sample", min=1, help="rows read to guess date formats and id types"),
    force: bool = typer.Option(False, "--force", help="overwrite --out when it exists"),
) -> None:
    """Write a starting profile from a file's headers: best guesses, each with a comment to check."""
    from ringsight.errors import InputError
    from ringsight.loaders.init import draft_profile

    text = draft_profile(file, kind="items" if items else "claims", sample=sample)
    if out is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    if out.exists() and not force:
        raise InputError(f"{out} exists already.", "Choose another --out, or pass --force to overwrite it.")
    out.write_text(text, encoding="utf-8")
    check = f"ringsight profile check {plain_path(file)} --profile {plain_path(out)}"
    console.print(f"wrote {plain_path(out)}; check it, then run `{check}`")


def parse_joins(values: list[str] | None) -> dict[str, Path]:
    """``--join beneficiary=bene.csv`` options as a dict."""
    from ringsight.errors import InputError

    out: dict[str, Path] = {}
    for value in values or []:
        name, sep, file = value.partition("=")
        if not sep or not name or not file:
            raise InputError(f"--join {value!r} is not NAME=FILE.", "For example --join beneficiary=bene.csv.")
        out[name.strip()] = Path(file.strip())
    return out


def plain_path(path: Path) -> str:
    """A path as printed in a hint."""
    from ringsight.loaders.safe_text import plain

    return plain(path, 200)


def register(app: typer.Typer) -> None:
    """Attach ``load`` and ``profile check / init`` to the CLI."""
    app.command("load")(load)
    app.add_typer(profile_app, name="profile")


def export_neo4j_import(
    directory: Path = typer.Argument(..., help="where the CSVs and import.sh are written"),
    database: str = typer.Option("neo4j", "--database", help="the Neo4j database to import into"),
    claims: list[Path] = typer.Option(None, "--claims", help="stage these claims files first (no graph is written)"),
    items: list[Path] = typer.Option(None, "--items", help="claim items files to stage with --claims"),
    profile: Path | None = typer.Option(None, "--profile", help="TOML profile for --claims / --items"),
) -> None:
    """Write the graph's staged claims as neo4j-admin import CSVs plus the exact import command.

    For backfills of tens of millions of claims: the offline importer writes
    Neo4j's store files directly (see docs/neo4j.md). With --claims the files
    are validated and staged first, without writing any graph.
    """
    from rich.progress import Progress

    from ringsight.config import get_settings
    from ringsight.loaders.neo4j_import import export_neo4j_import as export
    from ringsight.loaders.pipeline import load_files
    from ringsight.loaders.report import render

    settings = get_settings()
    if claims:
        staged = load_files(
            list(claims),
            list(items or []),
            settings=settings,
            profile=profile,
            progress=True,
            mode="stage",
            console=console,
        )
        render(staged, console)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("export", total=None)
        files = export(settings, directory, database=database, tick=lambda n: bar.advance(task, n))
    table = Table("file", "rows", title=f"neo4j-admin import files in {directory}")
    for label, path in files.nodes.items():
        table.add_row(str(path.relative_to(directory)), f"{files.node_rows[label]:,}")
    for name, path in files.relationships.items():
        table.add_row(str(path.relative_to(directory)), f"{files.relationship_rows[name]:,}")
    console.print(table)
    console.print(f"command (also in {directory / 'import.sh'}):\n{files.command}")
