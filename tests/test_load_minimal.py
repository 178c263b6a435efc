"""A file holding only the seven required columns: every screen's data and every command still works.

No names, phones, addresses, doctors, terminals, items or amounts split: the
queue, a cluster's canvas, an entity's details and timeline, detection, the
query library, a case and its referral package must cope with what is absent.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from referral_walk import referred_claims_csv
from typer.testing import CliRunner

from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore
from ringsight.identity import resident_id_check_char
from ringsight.loaders import load_files
from ringsight.loaders.profiles import CLAIM_REQUIRED


def _resident_id(n: int) -> str:
    body = f"11010519{60 + n % 30:02d}0{1 + n % 9}1{n % 10}{n % 7}{n % 10}"[:17].ljust(17, "0")
    return body + resident_id_check_char(body)


def write_minimal(path: Path) -> dict:
    """Required columns only; six cards swiped one after another at pharmacy P1 on three nights, and noise."""
    rows = []
    ring = [_resident_id(i) for i in range(6)]
    for day in (3, 10, 17):
        for i, pid in enumerate(ring):
            rows.append(
                [f"R{day:02d}{i}", "pharmacy", f"2025-03-{day:02d} 22:{10 + i:02d}:00", pid, f"CARD{i}", "P1", "300"]
            )
    for n in range(40):
        pid = _resident_id(100 + n)
        rows.append(
            [f"N{n:03d}", "outpatient", f"2025-03-{1 + n % 27:02d} 0{8 + n % 2}:15:00", pid, f"C{n}", f"H{n % 5}", "80"]
        )
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CLAIM_REQUIRED)
        writer.writerows(rows)
    return {"claims": len(rows), "ring_cards": [f"CARD{i}" for i in range(6)]}


@pytest.fixture
def cli(store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_required_columns_only_every_screen_and_command_works(
    store: GraphStore, settings: Settings, cli: CliRunner, tmp_path: Path
) -> None:
    from ringsight.cli import app
    from ringsight.ui.callbacks.queue import queue_rows
    from ringsight.ui.canvas import Canvas
    from ringsight.ui.data import UiData

    facts = write_minimal(tmp_path / "minimal.csv")
    report = load_files([tmp_path / "minimal.csv"], settings=settings, store=store)
    assert report.loaded == facts["claims"] and report.rejected == {}

    detected = cli.invoke(app, ["detect", "--since", "2025-03-01", "--until", "2025-04-01"])
    assert detected.exit_code == 0, (detected.output, detected.exception)

    data = UiData(store, settings)
    queue = data.queue()
    assert queue, "the burst-swiped cards form a cluster"
    rows = queue_rows(queue, "zh") + queue_rows(queue, "en")
    assert all(isinstance(r["facilities"], str) for r in rows) and "P1" in rows[0]["facilities"]
    cluster_id = queue[0]["cluster_id"]
    assert data.cluster(cluster_id) is not None
    outcome = Canvas(data).open_cluster(cluster_id)
    nodes = [e for e in outcome.elements if "source" not in e["data"]]
    assert len(nodes) >= 3
    assert all(e["data"].get("label") not in (None, "None") for e in nodes), "no node is labelled None"
    refs = list(data.cluster_refs(cluster_id))
    for ref in refs:
        details = data.entity(ref)
        assert details is not None
        data.timeline(ref)
        data.expansions(ref)
    assert data.search("R030")

    listed = cli.invoke(app, ["query", "list"])
    assert listed.exit_code == 0, listed.output
    for args in (
        ["query", "run", "top_facilities_by_fund", "-p", "since=2025-01-01", "-p", "until=2026-01-01"],
        ["query", "run", "cards_shared_by_persons"],
        ["query", "run", "burst_swipes"],
    ):
        ran = cli.invoke(app, args)
        assert ran.exit_code == 0, (args, ran.output, ran.exception)

    assert "R030" in referred_claims_csv(store, cluster_id, "P1 夜间刷卡", tmp_path / "referral")


def test_queue_rows_cope_with_absent_values() -> None:
    """A cluster row without facility names, typologies, amounts or dates still becomes a grid row."""
    from ringsight.ui.callbacks.queue import queue_rows

    rows = queue_rows([{"cluster_id": "C1", "facility_names": [None, "PRV900", ""], "typologies": None}], "zh")
    assert rows[0]["facilities"] == "PRV900" and rows[0]["typologies"] == "" and rows[0]["score"] == 0.0
