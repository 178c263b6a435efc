"""``ringsight demo``: the whole flow on the embedded store, from nothing.

1. starts the embedded graph store (no database to install);
2. generates synthetic claims with planted fraud rings and a ground truth;
3. loads them (validation, entity resolution, bulk write);
4. runs detection and prints the ranked queue, with recall against the truth;
5. creates demo accounts and serves the investigator's workbench.

Every step is idempotent: running the demo again reuses the generated files,
loads nothing twice and adds one more detection run.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore

if TYPE_CHECKING:
    from ringsight.algorithms.summary import RunSummary

console = Console()

DEMO_USERS = (
    ("investigator", "investigator", "李调查"),
    ("supervisor", "supervisor", "王科长"),
    ("analyst", "analyst", "赵分析"),
)
DEMO_PASSWORD = "ringsight-demo"  # = ringsight.cases.accounts.DEMO_PASSWORD (accounts with it count as demo)


def generate_claims(settings: Settings, claims: int, seed: int) -> Path:
    """Write the demo's synthetic claims once per (size, seed); return their folder."""
    from ringsight.synth import SynthConfig, generate

    out = Path(settings.data_dir) / "demo" / f"claims-{claims}-{seed}"
    if (out / "ground_truth.json").exists():
        console.print(f"[dim]claims already generated in {out}[/]")
        return out
    t0 = time.perf_counter()
    result = generate(SynthConfig(claims=claims, seed=seed), out, progress=True)
    console.print(
        f"generated {result.n_claims:,} claims, {result.n_items:,} items and {result.n_rings} planted rings "
        f"in {time.perf_counter() - t0:.1f} s → {out}"
    )
    return out


def load_claims(store: GraphStore, settings: Settings, folder: Path) -> None:
    """Load the generated claims and items (a no-op when they are loaded already)."""
    from ringsight.loaders import load_files
    from ringsight.loaders.report import render

    items = folder / "claim_items.csv"
    report = load_files(
        [folder / "claims.csv"],
        [items] if items.exists() else [],
        settings=settings,
        store=store,
        progress=True,
        console=console,
    )
    render(report, console)


def detect(store: GraphStore, settings: Settings, folder: Path) -> None:
    """Run detection over the whole synthetic period and score it against the ground truth."""
    from ringsight.algorithms import run_detection
    from ringsight.algorithms.commands import _print_summary

    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    since = datetime.fromisoformat(truth["start"])
    until = since + timedelta(days=int(truth["days"]) + 1)
    summary = run_detection(store, settings, since=since, until=until, progress=True)
    _print_summary(summary, top=10)
    _print_recall(summary, settings, truth)


def _print_recall(summary: RunSummary, settings: Settings, truth: dict) -> None:  # type: ignore[type-arg]
    """Score the run's clusters against the planted rings (the frames the run just wrote)."""
    from ringsight.algorithms.evaluate import evaluate

    clusters = summary.cluster_frame.select("cluster_id", "score", "typologies")
    members = summary.member_frame.select("cluster_id", "label", "key")
    result = evaluate(truth, clusters, members, id_hash_key=settings.id_hash_key)
    table = Table("typology", "rings", "found", "recall", title="Planted rings recovered (synthetic ground truth)")
    for rec in result.per_typology.drop_nulls("rings").iter_rows(named=True):
        table.add_row(rec["typology"], str(rec["rings"]), str(rec["found"]), f"{rec['recall']:.0%}")
    console.print(table)
    console.print(
        f"recall {result.recall:.0%}; precision of the top {result.top}: {result.precision:.0%}; "
        f"look-alikes in the top {result.top}: {len(result.lookalikes_in_top)}"
    )


def ensure_demo_users(store: GraphStore, settings: Settings) -> None:
    """Create the demo accounts (once) and print how to log in."""
    from ringsight.cases import accounts

    existing = {u.username for u in accounts.list_users(store)}
    actor = accounts.system_actor()
    for username, role, display in DEMO_USERS:
        if username not in existing:
            accounts.add_user(store, actor, username, DEMO_PASSWORD, role=role, display_name=display)
    names = ", ".join(u for u, _, _ in DEMO_USERS)
    console.print(f"demo accounts: {names} — password [bold]{DEMO_PASSWORD}[/]")


def demo(
    claims: int = typer.Option(30_000, "--claims", min=2_000, help="synthetic claims to generate"),
    seed: int = typer.Option(7, "--seed", help="generator seed (same seed, same claims)"),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the workbench at the end"),
    host: str | None = typer.Option(None, "--host", help="UI address (default: settings ui.host)"),
    port: int | None = typer.Option(None, "--port", help="UI port (default: settings ui.port)"),
) -> None:
    """Run the whole flow on the embedded store: generate, load, detect, then serve the workbench."""
    from ringsight.graph import open_store

    os.environ.setdefault("RINGSIGHT_DEMO", "1")  # synthetic data: the public default id_hash_key is allowed
    get_settings.cache_clear()
    settings = get_settings()
    console.rule("RingSight demo")
    console.print(f"graph store: {settings.graph_display}; data directory: {settings.data_dir}")
    with open_store(settings) as store:
        store.ensure_schema()
        folder = generate_claims(settings, claims, seed)
        console.rule("load")
        load_claims(store, settings, folder)
        console.rule("detect")
        detect(store, settings, folder)
        ensure_demo_users(store, settings)
    if serve:
        from ringsight.ui.commands import serve as serve_ui

        console.rule("workbench")
        serve_ui(settings, host=host, port=port)


def register(app: typer.Typer) -> None:
    """Attach ``demo`` to the CLI."""
    app.command("demo")(demo)
