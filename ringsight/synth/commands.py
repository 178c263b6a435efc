"""``ringsight synth``: write a synthetic claims data set with planted rings and its ground truth."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

from ringsight.errors import InputError

console = Console()


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write claims, items and ground_truth.json into."),
    claims: int = typer.Option(10_000, "--claims", "-n", help="Total claims, planted rings included."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed and options give the same bytes."),
    city: str = typer.Option("beijing", "--city", help="Region codes and districts: beijing or chongqing."),
    start: str = typer.Option("2025-07-01", "--start", help="First settlement day (YYYY-MM-DD)."),
    days: int = typer.Option(90, "--days", help="Length of the period in days."),
    items: bool = typer.Option(True, "--items/--no-items", help="Also write claim_items (费用明细)."),
    file_format: str = typer.Option("csv", "--format", help="csv or parquet."),
    encoding: str = typer.Option("utf-8", "--encoding", help="CSV encoding: utf-8 or gbk."),
    dirty: float = typer.Option(0.0, "--dirty", help="Share of rows given export defects (e.g. 0.01); 0 = clean."),
    rings: int | None = typer.Option(None, "--rings", help="Rings per typology (default scales with --claims)."),
    no_lookalikes: bool = typer.Option(False, "--no-lookalikes", help="Leave out the legitimate look-alikes."),
) -> None:
    """Generate synthetic claims with planted fraud rings, legitimate look-alikes and a ground-truth file."""
    from ringsight.synth import TYPOLOGIES, RingKnobs, SynthConfig, generate

    try:
        config = SynthConfig(
            claims=claims,
            seed=seed,
            city=city,
            start=date.fromisoformat(start),
            days=days,
            items=items,
            file_format=file_format.lower(),
            encoding=encoding.lower().replace("utf8", "utf-8"),
            dirty_rate=dirty,
            lookalikes=not no_lookalikes,
            rings={t: RingKnobs(count=rings) for t in TYPOLOGIES} if rings is not None else {},
        )
    except (ValidationError, ValueError) as exc:
        raise InputError(
            f"These synth options cannot be used: {_first_error(exc)}.",
            hint="Run `ringsight synth --help` for the accepted values.",
        ) from exc
    t0 = time.perf_counter()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("generating claims", total=config.claims)
        result = generate(config, out, on_block=lambda done, total: bar.update(task, completed=done))
    seconds = time.perf_counter() - t0
    console.print(
        f"{result.n_claims:,} claims ({result.n_planted_claims:,} in {result.n_rings} planted rings or their "
        f"evidence), {result.n_items:,} items in {seconds:.1f} s ({result.n_claims / seconds:,.0f} claims/s)"
    )
    console.print(f"claims: {result.claims_path}")
    if result.items_path:
        console.print(f"items: {result.items_path}")
    console.print(f"ground truth: {result.ground_truth_path}")
    if result.dirty_rows_path:
        console.print(
            f"rows a loader must reject: {result.dirty_rows_path}; harmless variants: {result.dirty_variants_path}"
        )


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)


def register(app: typer.Typer) -> None:
    """Attach ``synth`` to the CLI."""
    app.command("synth")(synth)
