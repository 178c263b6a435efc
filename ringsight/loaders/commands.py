"""``ringsight load`` and ``ringsight profile check``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()
profile_app = typer.Typer(help="Check how an export's headers map onto the canonical columns.", no_args_is_help=True)


def load(
    files: list[Path] = typer.Argument(..., help="claims files: CSV (UTF-8 / GBK), XLSX or Parquet"),
    items: list[Path] = typer.Option(None, "--items", help="claim items file (费用明细); repeat for several"),
    profile: Path | None = typer.Option(None, "--profile", help="TOML profile mapping headers and values"),
    rejects: Path | None = typer.Option(None, "--rejects", help="directory for rejected rows (CSV)"),
    report: Path | None = typer.Option(None, "--report", help="where the JSON load report goes"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bar"),
) -> None:
    """Load claims exports into the graph: validate, normalise, resolve entities, write.

    Bad rows go whole to a rejects file with line, column and reason; good rows
    load. Re-running the same load changes nothing; an interrupted load resumes.
    """
    from ringsight.config import get_settings
    from ringsight.loaders.pipeline import load_files
    from ringsight.loaders.report import render

    settings = get_settings()
    result = load_files(
        list(files),
        list(items or []),
        settings=settings,
        profile=profile,
        progress=not quiet,
        rejects_dir=rejects,
        report_path=report,
        console=console,
    )
    render(result, console)


@profile_app.command("check")
def profile_check(
    file: Path = typer.Argument(..., help="a claims or items file"),
    profile: Path | None = typer.Option(None, "--profile", help="TOML profile to apply"),
    items: bool = typer.Option(False, "--items", help="check it as a claim items file (else guessed)"),
) -> None:
    """Show how a file's headers map onto the canonical columns, and what is missing, before loading."""
    from ringsight.loaders.profiles import load_profile, map_headers
    from ringsight.loaders.readers import open_source

    prof = load_profile(profile)
    source = open_source(file)
    claims_map = map_headers(list(source.headers), prof.claims)
    items_map = map_headers(list(source.headers), prof.items)
    as_items = items or (len(items_map.mapped) > len(claims_map.mapped) and not claims_map.mapped.get("visit_type"))
    mapping, table, kind = (items_map, prof.items, "items") if as_items else (claims_map, prof.claims, "claims")
    encoding = f", encoding {source.encoding}" if source.format == "csv" else ""
    console.print(f"[bold]{file}[/]: {source.format}{encoding}, read as a {kind} file with profile '{prof.name}'")
    grid = Table("canonical column", "required", "header in the file")
    for canonical in table.columns:
        header = mapping.mapped.get(canonical)
        required = "yes" if canonical in table.required else ""
        if header is not None:
            shown = f"[green]{header}[/]"
        elif required:
            closest = mapping.closest(canonical, table)
            shown = "[red]MISSING[/]" + (f" (closest header: '{closest}')" if closest else "")
        else:
            shown = "[dim]—[/]"
        grid.add_row(canonical, required, shown)
    console.print(grid)
    if mapping.ignored:
        console.print(f"ignored headers: {', '.join(mapping.ignored)}")
    if mapping.kept_extra:
        console.print(f"kept as extra claim properties: {', '.join(mapping.kept_extra)}")
    for canonical, others in mapping.duplicates.items():
        console.print(f"[yellow]{canonical}: also matched {', '.join(others)} (not used)[/]")
    if mapping.missing:
        console.print(f"[red]cannot load: missing required {', '.join(mapping.missing)}[/]")
        raise typer.Exit(2)
    console.print("[green]ready to load[/]")


def register(app: typer.Typer) -> None:
    """Attach ``load`` and ``profile check`` to the CLI."""
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
