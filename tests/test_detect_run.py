"""Detection runs on the real embedded store: write-back, stable ids, failures, determinism."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from ringsight.algorithms import DetectionError, detect_frames, run_detection, writeback
from ringsight.algorithms.detectors import run_detectors
from ringsight.algorithms.frames import load_window
from ringsight.algorithms.results import cluster_members, cluster_queue, latest_run
from ringsight.algorithms.sample import build
from ringsight.config import DetectSettings, Settings
from ringsight.graph.store import GraphStore
from ringsight.tables import staging_dir

_ENTITIES = [
    ("Patient", "pid", "pid"),
    ("Card", "card_id", "card_id"),
    ("Phone", "number", "patient_phone"),
    ("Phone", "number", "contact_phone"),
    ("Address", "key", "address_key"),
    ("Facility", "code", "facility_code"),
    ("Doctor", "code", "doctor_code"),
]


def stage(settings: Settings, claims: pl.DataFrame, items: pl.DataFrame) -> None:
    """Put frames where the loader stages them (replacing any earlier load)."""
    base = staging_dir(settings)
    for name, frame in (("claims", claims), ("items", items)):
        folder = base / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        frame.write_parquet(folder / "L1.parquet")


def write_entities(store: GraphStore, claims: pl.DataFrame) -> None:
    """The entity nodes the loader would have written (members attach to them)."""
    for label, key, col in _ENTITIES:
        keys = claims[col].drop_nulls().unique().sort().to_list()
        store.write_rows(f"UNWIND $rows AS row MERGE (:{label} {{{key}: row.k}})", [{"k": k} for k in keys])
    term = claims.filter(pl.col("terminal_id").is_not_null()).select(
        pl.concat_str(["facility_code", "terminal_id"], separator=":").alias("k")
    )
    store.write_rows("UNWIND $rows AS row MERGE (:Terminal {key: row.k})", term.unique().to_dicts())
    ops = claims.filter(pl.col("operator_id").is_not_null()).select(
        pl.concat_str(["facility_code", "operator_id"], separator=":").alias("k")
    )
    store.write_rows("UNWIND $rows AS row MERGE (:Operator {key: row.k})", ops.unique().to_dicts())


def _world(store: GraphStore, settings: Settings, ring_size: int = 8):  # type: ignore[no-untyped-def]
    world = build(ring_size=ring_size)
    stage(settings, world.claims, world.items)
    write_entities(store, world.claims)
    return world


def _ring_cluster(store: GraphStore, pids: list[str]) -> dict:
    for row in cluster_queue(store):
        members = {m["key"] for m in cluster_members(store, row["cluster_id"]) if m["label"] == "Patient"}
        if len(members & set(pids)) >= 0.8 * len(pids):
            return {**row, "patients": members}
    raise AssertionError("ring not found in the queue")


def test_run_writes_the_contract_and_finds_the_rings(store: GraphStore, settings: Settings) -> None:
    world = _world(store, settings)
    summary = run_detection(store, settings)
    assert summary.status == "done" and summary.source == "staged"
    run = latest_run(store)
    assert run is not None and run["run_id"] == summary.run_id and run["status"] == "done"
    assert run["cluster_count"] == summary.clusters >= 2
    assert "detect" in run["params"] and run["timings"]["total"] > 0
    for typology, pids in world.rings.items():
        cluster = _ring_cluster(store, pids)
        assert typology in cluster["typologies"] or cluster["score"] >= 30
        assert cluster["change"] == "new" and cluster["run_id"] == summary.run_id
        assert cluster["signals"] and {"name", "weight", "value", "contribution", "evidence_zh", "evidence_en"} <= set(
            cluster["signals"][0]
        )
        assert cluster["explanation_zh"].startswith("得分")
    home = set(world.lookalikes["nursing_home"])
    for row in cluster_queue(store):
        members = {m["key"] for m in cluster_members(store, row["cluster_id"])}
        assert len(members & home) <= 1, "the nursing home must not be flagged"
    found = store.read(
        "MATCH (r:Run {run_id: $r})-[f:FOUND]->(c:Cluster) RETURN count(f) AS n, min(f.score) AS lo, "
        "max(f.member_count) AS m",
        {"r": summary.run_id},
    ).records()[0]
    assert found["n"] == summary.clusters and found["lo"] >= settings.detect.min_score and found["m"] >= 3
    assert summary.report_html is not None and summary.report_html.exists()
    report = json.loads(summary.report_json.read_text(encoding="utf-8"))
    assert report["clusters"][0]["cluster_id"] == cluster_queue(store)[0]["cluster_id"]
    assert "<svg" in summary.report_html.read_text(encoding="utf-8")


def test_stable_ids_when_a_ring_grows(store: GraphStore, settings: Settings) -> None:
    world = _world(store, settings, ring_size=8)
    run_detection(store, settings)
    before = _ring_cluster(store, world.rings["card_collecting"])
    admit_before = _ring_cluster(store, world.rings["induced_admission"])
    bigger = _world(store, settings, ring_size=11)
    second = run_detection(store, settings)
    after = _ring_cluster(store, bigger.rings["card_collecting"])
    assert after["cluster_id"] == before["cluster_id"]
    assert after["change"] == "grown" and after["member_count"] > before["member_count"]
    assert after["first_run_id"] != second.run_id
    admit_after = _ring_cluster(store, bigger.rings["induced_admission"])
    assert admit_after["cluster_id"] == admit_before["cluster_id"] and admit_after["change"] == "unchanged"
    assert second.changes.get("grown", 0) >= 1
    # members are those of the latest run only, with no leftovers of the first
    assert len(after["patients"]) == 11


def fail_after_writing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the next runs fail right after their clusters are written for real, before the commit.

    Returns a list that receives, per failed run, how many members it had written when it failed.
    """
    original = writeback.write_results
    written: list[int] = []

    def write_then_fail(store: GraphStore, run_id: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(store, run_id, *args, **kwargs)
        query = "MATCH ()-[m:HAS_MEMBER {run_id: $r}]->() RETURN count(m) AS n"
        written.append(store.read(query, {"r": run_id}).scalar())
        raise RuntimeError("injected failure after writing clusters (test of the failure path)")

    monkeypatch.setattr(writeback, "write_results", write_then_fail)
    return written


def test_failed_run_leaves_the_previous_run_current(
    store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(store, settings)
    first = run_detection(store, settings)
    queue = cluster_queue(store)
    ring = _ring_cluster(store, world.rings["card_collecting"])
    _world(store, settings, ring_size=12)
    written = fail_after_writing(monkeypatch)
    with pytest.raises(DetectionError) as info:
        run_detection(store, settings)
    assert len(written) == 1 and written[0] > 0  # it failed with its members in the store
    assert "previous run" in info.value.message
    assert latest_run(store)["run_id"] == first.run_id
    assert [(r["cluster_id"], r["score"]) for r in cluster_queue(store)] == [
        (r["cluster_id"], r["score"]) for r in queue
    ]
    again = _ring_cluster(store, world.rings["card_collecting"])
    assert again["patients"] == ring["patients"] and again["change"] == "new"
    failed = store.read("MATCH (r:Run {status: 'failed'}) RETURN r.error AS e").column("e")
    assert len(failed) == 1 and "injected failure" in failed[0]
    assert (
        store.read(
            "MATCH ()-[m:HAS_MEMBER]->() WHERE m.run_id <> $r RETURN count(m) AS n", {"r": first.run_id}
        ).scalar()
        == 0
    )


_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from ringsight.config import Settings
    from ringsight.graph import open_store
    from ringsight.algorithms import pipeline, writeback

    original = writeback.write_results

    def slow_write(*args, **kwargs):
        counts = original(*args, **kwargs)
        print("WRITTEN", flush=True)
        time.sleep(60)
        return counts

    pipeline.writeback.write_results = slow_write
    settings = Settings(data_dir=Path(sys.argv[1]), graph_name=sys.argv[2])
    with open_store(settings) as store:
        pipeline.run_detection(store, settings)
    """
)


def test_run_killed_mid_write_leaves_the_previous_run_current(
    store: GraphStore, settings: Settings, tmp_path: Path
) -> None:
    world = _world(store, settings)
    first = run_detection(store, settings)
    ring = _ring_cluster(store, world.rings["card_collecting"])
    _world(store, settings, ring_size=12)
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), str(settings.data_dir), settings.graph_name],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        line = child.stdout.readline()
        assert line.strip() == "WRITTEN"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    assert latest_run(store)["run_id"] == first.run_id
    pending = store.read("MATCH (r:Run {status: 'running'}) RETURN r.run_id AS id").column("id")
    assert len(pending) == 1
    assert store.read("MATCH ()-[m:HAS_MEMBER {run_id: $r}]->() RETURN count(m) AS n", {"r": pending[0]}).scalar() > 0
    again = _ring_cluster(store, world.rings["card_collecting"])
    assert again["patients"] == ring["patients"] and again["cluster_id"] == ring["cluster_id"]
    time.sleep(1)
    third = run_detection(store, settings)  # abandons the dead run first
    status = store.read("MATCH (r:Run {run_id: $r}) RETURN r.status AS s, r.error AS e", {"r": pending[0]}).records()[0]
    assert status["s"] == "failed" and "abandoned" in status["e"]
    assert latest_run(store)["run_id"] == third.run_id
    grown = _ring_cluster(store, world.rings["card_collecting"])
    assert grown["cluster_id"] == ring["cluster_id"] and grown["change"] == "grown"


def test_detection_is_deterministic_for_a_fixed_seed() -> None:
    world = build(seed=5)
    cfg = DetectSettings(seed=7)
    a = detect_frames(world.claims, world.items, cfg)
    b = detect_frames(world.claims.reverse(), world.items.reverse(), cfg)
    assert a.clusters.drop("cluster").equals(b.clusters.drop("cluster"))
    assert a.members.drop("cluster").sort("label", "key").equals(b.members.drop("cluster").sort("label", "key"))


def test_window_items_stream_from_the_staged_tables(settings: Settings) -> None:
    """A window's items stay a lazy scan of the staged Parquet, cut to the window's claims, and the
    detectors find the same leads from it as from the same items in memory."""
    world = build()
    stage(settings, world.claims, world.items)
    ts = world.claims["claim_ts"]
    since, until = (datetime.fromtimestamp(v, UTC) for v in (ts.min(), int(ts.quantile(0.7))))
    window = load_window(None, settings, since=since, until=until)
    assert isinstance(window.items, pl.LazyFrame)
    assert 0 < window.claims.height < world.claims.height
    items = window.items.collect()
    expected = world.items.join(window.claims.select(pl.col("claim_id").cast(pl.String)), on="claim_id", how="semi")
    assert items.height == expected.height > 0
    assert set(items["claim_id"]) == set(expected["claim_id"])
    thresholds = DetectSettings().thresholds
    streamed, _ = run_detectors(window.claims, window.items, thresholds)
    in_memory, _ = run_detectors(window.claims, items, thresholds)
    assert streamed.height > 0
    assert streamed.drop("lead_id").equals(in_memory.drop("lead_id"))


def test_store_fallback_without_staging(store: GraphStore, settings: Settings) -> None:
    """With nothing staged, the window is rebuilt from Claim nodes with paged reads."""
    world = build()
    write_entities(store, world.claims)
    rows = world.claims.with_columns(pl.col("claim_ts").alias("time_ts")).to_dicts()
    store.write_rows(
        """
        UNWIND $rows AS row
        CREATE (c:Claim {claim_id: row.claim_id, visit_type: row.visit_type, time_ts: row.time_ts,
                         admit_ts: row.admit_ts, discharge_ts: row.discharge_ts, total_amount: row.total_amount,
                         fund_paid: row.fund_paid, diagnosis_code: row.diagnosis_code})
        WITH c, row
        MATCH (p:Patient {pid: row.pid}) CREATE (c)-[:BY_PATIENT]->(p)
        WITH c, row
        MATCH (k:Card {card_id: row.card_id}) CREATE (c)-[:WITH_CARD]->(k)
        WITH c, row
        MATCH (f:Facility {code: row.facility_code}) SET f.kind = row.facility_kind CREATE (c)-[:AT_FACILITY]->(f)
        """,
        rows,
    )
    summary = run_detection(store, settings)
    assert summary.source == "store" and summary.claims == world.claims.height
    assert summary.clusters >= 1


def test_sanctioned_pharmacy_active_again_is_a_repeat_offender(store: GraphStore, settings: Settings) -> None:
    from ringsight.algorithms.sample import RING_PHARMACY, T0

    world = _world(store, settings)
    store.write(
        "MATCH (f:Facility {code: $code}) CREATE (s:Sanction {sanction_id: 'S1', kind: 'rectification', "
        "from_ts: $a, until_ts: $b})-[:SANCTIONED]->(f)",
        {"code": RING_PHARMACY, "a": T0 - 40 * 86_400, "b": T0},
    )
    run_detection(store, settings)
    ring = _ring_cluster(store, world.rings["card_collecting"])
    assert ring["repeat_offender"] is True and ring["change"] == "recurring"
    assert "recurrence" in ring["typologies"]
    assert any(s["name"] == "recurrence" for s in ring["signals"])
    other = _ring_cluster(store, world.rings["induced_admission"])
    assert other["repeat_offender"] is False and other["change"] == "new"


def test_empty_graph_gives_a_done_run_with_no_clusters(store: GraphStore, settings: Settings) -> None:
    summary = run_detection(store, settings)
    assert summary.status == "done" and summary.clusters == 0 and summary.claims == 0
    assert latest_run(store)["cluster_count"] == 0
    assert cluster_queue(store) == []


def test_louvain_option_finds_the_same_rings() -> None:
    world = build()
    result = detect_frames(world.claims, world.items, DetectSettings(algorithm="louvain"))
    for pids in world.rings.values():
        best = max(
            len(set(pids) & set(part.filter(pl.col("label") == "Patient")["key"]))
            for _, part in result.members.group_by("cluster")
        )
        assert best >= 0.8 * len(pids)


def test_runs_lists_failed_and_done_runs(
    store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringsight.algorithms.results import runs

    _world(store, settings)
    first = run_detection(store, settings)
    fail_after_writing(monkeypatch)
    with pytest.raises(DetectionError):
        run_detection(store, settings)
    listed = runs(store)
    assert [r["status"] for r in listed] == ["failed", "done"]
    assert listed[1]["run_id"] == first.run_id and listed[0]["error"]
