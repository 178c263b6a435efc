"""The load report: what was read, loaded, rejected and why — as JSON and as a terminal summary."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from ringsight.loaders.safe_text import excerpt, plain


class FileReport(BaseModel):
    """One input file: how it was read and how its headers mapped."""

    path: str
    kind: str  # claims | items
    format: str
    encoding: str | None = None
    rows: int = 0
    mapped: dict[str, str] = Field(default_factory=dict)  # canonical -> header
    ignored_headers: list[str] = Field(default_factory=list)
    sheet: str | None = None  # the XLSX sheet read
    sheet_note: str = ""  # why that sheet
    constants: dict[str, str] = Field(default_factory=dict)  # canonical -> value set by the profile
    derived: list[str] = Field(default_factory=list)  # canonical columns derived by the profile
    joined: list[str] = Field(default_factory=list)  # files joined onto this one


class LoadReport(BaseModel):
    """Outcome of one ``ringsight load`` (also returned by :func:`ringsight.loaders.load_files`)."""

    load_id: str = ""
    graph: str = ""
    store: str = ""
    mode: str = ""  # bulk | merge | none
    resumed: bool = False
    files: list[FileReport] = Field(default_factory=list)
    rows_read: int = 0  # claim rows read
    loaded: int = 0  # new claims written
    unchanged: int = 0  # claim_ids already loaded with identical content (no-ops)
    rejected: dict[str, int] = Field(default_factory=dict)  # reason -> claim rows
    conflicts: int = 0  # claim_ids that came back with different content (not overwritten)
    conflict_ids: list[str] = Field(default_factory=list)  # the first ones, for the summary
    items_read: int = 0
    items_loaded: int = 0
    items_skipped: int = 0  # items of claims that were unchanged, conflicting or loaded before
    items_rejected: dict[str, int] = Field(default_factory=dict)
    warnings: dict[str, int] = Field(default_factory=dict)
    entities_created: dict[str, int] = Field(default_factory=dict)
    entities_matched: dict[str, int] = Field(default_factory=dict)
    relationships_created: int = 0
    abandoned_loads: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    duration_s: float = 0.0
    claims_per_s: float = 0.0
    rejects_path: str | None = None
    conflicts_path: str | None = None
    report_path: str | None = None
    reject_example: str | None = None  # the first rejected row, in words
    refused: str | None = None  # why nothing was written to the graph (too many rejects, no rows)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    @property
    def items_rejected_total(self) -> int:
        return sum(self.items_rejected.values())

    def write(self, path: Path) -> None:
        """Write the report as pretty JSON (UTF-8, Chinese kept readable)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")


def render(report: LoadReport, console: Console) -> None:
    """Print the summary table a person reads after a load."""
    table = Table(title=f"load {report.load_id} → {report.store} ({report.mode})", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("count", justify="right")
    table.add_row("claim rows read", f"{report.rows_read:,}")
    table.add_row("claims loaded", f"[green]{report.loaded:,}[/]")
    table.add_row("unchanged (already loaded)", f"{report.unchanged:,}")
    table.add_row("rejected", f"[red]{report.rejected_total:,}[/]" if report.rejected_total else "0")
    for reason, n in sorted(report.rejected.items()):
        table.add_row(f"  {reason}", f"{n:,}")
    table.add_row("conflicts (not overwritten)", f"[yellow]{report.conflicts:,}[/]" if report.conflicts else "0")
    if report.items_read:
        table.add_row("item rows read", f"{report.items_read:,}")
        table.add_row("items loaded", f"{report.items_loaded:,}")
        table.add_row("items skipped", f"{report.items_skipped:,}")
        table.add_row("items rejected", f"{report.items_rejected_total:,}")
        for reason, n in sorted(report.items_rejected.items()):
            table.add_row(f"  {reason}", f"{n:,}")
    for name, n in sorted(report.warnings.items()):
        table.add_row(f"warning: {name}", f"{n:,}")
    for label in sorted(set(report.entities_created) | set(report.entities_matched)):
        created, matched = report.entities_created.get(label, 0), report.entities_matched.get(label, 0)
        table.add_row(f"{label}", f"{created:,} new / {matched:,} matched")
    table.add_row("relationships created", f"{report.relationships_created:,}")
    table.add_row("duration", f"{report.duration_s:.1f} s ({report.claims_per_s:,.0f} claims/s)")
    console.print(table)
    if report.resumed:
        console.print("[yellow]resumed an interrupted load of the same files[/]")
    if report.abandoned_loads:
        console.print(f"[yellow]abandoned unfinished loads of other files: {', '.join(report.abandoned_loads)}[/]")
    if report.conflict_ids:
        console.print(f"conflicting claim_ids (first {len(report.conflict_ids)}): {', '.join(report.conflict_ids)}")
    for f in report.files:
        if f.sheet:
            console.print(f"{plain(f.path, 200)}: read sheet {excerpt(f.sheet)} ({f.sheet_note})")
        if f.ignored_headers:
            shown = ", ".join(plain(h, 40) for h in f.ignored_headers[:30])
            more = f" and {len(f.ignored_headers) - 30} more" if len(f.ignored_headers) > 30 else ""
            console.print(f"[dim]{plain(f.path, 200)}: ignored headers {shown}{more}[/]")
    if report.rejects_path:
        console.print(f"rejected rows: {report.rejects_path}")
    if report.report_path:
        console.print(f"report: {report.report_path}")
