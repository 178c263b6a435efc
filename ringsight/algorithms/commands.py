"""``ringsight detect``: the weekly detection job (常态化数据筛查).

Exit codes for a scheduler: 0 the run is done; 5 the run failed (the previous
run stays current, the failed run is recorded with its error); 3 the store is
unreachable; 2 bad options.

A weekly schedule (cron, Monday 02:00)::

    0 2 * * 1  cd /srv/ringsight && RINGSIGHT_DATA_DIR=/srv/ringsight/data .venv/bin/ringsight detect
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ringsight.config import DetectSettings, get_settings
from ringsight.errors import InputError
from ringsight.identity import render_text

console = Console()

_STAGES = ["cleanup", "read", "detect", "history", "write", "report"]


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(
            f"--{name} {value!r} is not a date or date-time.", "Use ISO form, e.g. 2025-06-30 or 2025-06-30T23:59."
        ) from exc


def detect_command(
    since: str | None = typer.Option(None, "--since", help="window start (ISO date or date-time)"),
    until: str | None = typer.Option(None, "--until", help="window end, exclusive (default: after the latest claim)"),
    window: int | None = typer.Option(None, "--window", min=1, help="window length in days (default from settings)"),
    resolution: float | None = typer.Option(None, "--resolution", help="community resolution (default: size-aware)"),
    algorithm: str | None = typer.Option(None, "--algorithm", help="leiden (default) or louvain"),
    top: int = typer.Option(10, "--top", min=0, help="clusters to list at the end"),
    engine: str | None = typer.Option(
        None, "--engine", help="polars (this machine) or spark: ported detectors scan on Spark (docs/engines.md)"
    ),
    spark_master: str | None = typer.Option(None, "--spark-master", help="Spark master URL ([detect.spark] master)"),
    tables: str | None = typer.Option(
        None, "--tables", help="folder/URL with claims/ and items/ Parquet (default: this graph's staged tables)"
    ),
) -> None:
    """Find, score and explain suspect clusters over a window of claims and write them to the graph."""
    from ringsight.algorithms import run_detection
    from ringsight.graph import open_store

    settings = get_settings()
    changes: dict[str, object] = {}
    if resolution is not None:
        changes["resolution"] = resolution
    if algorithm is not None:
        if algorithm not in ("leiden", "louvain"):
            raise InputError(f"--algorithm {algorithm!r} is not known.", "Use leiden or louvain.")
        changes["algorithm"] = algorithm
    changes.update(_engine_changes(settings.detect, engine, spark_master, tables))
    if changes:
        settings = settings.model_copy(update={"detect": settings.detect.model_copy(update=changes)})
    start, end = _parse_time(since, "since"), _parse_time(until, "until")
    with (
        open_store(settings) as store,
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        ) as bar,
    ):
        task = bar.add_task("detect", total=len(_STAGES))

        def on_stage(name: str) -> None:
            bar.update(task, description=f"detect: {name}", completed=_STAGES.index(name))

        summary = run_detection(store, settings, since=start, until=end, window_days=window, on_stage=on_stage)
    _print_summary(summary, top)


def _engine_changes(
    detect: DetectSettings, engine: str | None, spark_master: str | None, tables: str | None
) -> dict[str, object]:
    """The ``--engine``, ``--spark-master`` and ``--tables`` options as changes to ``[detect]``."""
    if engine is not None and engine not in ("polars", "spark"):
        raise InputError(f"--engine {engine!r} is not known.", "Use polars or spark.")
    if (spark_master or tables) and (engine or detect.engine) != "spark":
        raise InputError(
            "--spark-master and --tables are for --engine spark.", "Add --engine spark (or set [detect] engine)."
        )
    changes: dict[str, object] = {}
    if engine is not None:
        changes["engine"] = engine
    spark_changes = {k: v for k, v in (("master", spark_master), ("tables", tables)) if v is not None}
    if spark_changes:
        changes["spark"] = detect.spark.model_copy(update=spark_changes)
    return changes


def _print_summary(summary, top: int) -> None:  # type: ignore[no-untyped-def]
    changes = ", ".join(f"{k} {v}" for k, v in summary.changes.items()) or "none"
    console.print(
        f"run [bold]{summary.run_id}[/] done: {summary.claims:,} claims ({summary.source}), {summary.leads:,} leads, "
        f"{summary.clusters:,} clusters ({changes}) in {summary.timings.get('total', 0):.1f} s"
    )
    from ringsight.algorithms.coverage import summary_line

    if summary.coverage:
        idle = any(c["status"] == "no input" for c in summary.coverage)
        console.print(("[yellow]" if idle else "") + "coverage: " + summary_line(summary.coverage))
    from ringsight.algorithms.report import engines_line

    if engines_line(summary.engines):
        console.print("engines: " + engines_line(summary.engines))
    if top and summary.top:
        table = Table("cluster", "score", "change", "typologies", "members", "why", title="Top clusters")
        for row in summary.top[:top]:
            table.add_row(
                row["cluster_id"],
                f"{row['score']:g}",
                row["change"],
                ", ".join(row["typologies"] or []),
                str(row["member_count"]),
                render_text(row["explanation_en"]).split(": ", 1)[-1][:70],
            )
        console.print(table)
    console.print(f"report: {summary.report_html}")


def register(app: typer.Typer) -> None:
    """Attach ``ringsight detect`` to the main app."""
    app.command("detect")(detect_command)
