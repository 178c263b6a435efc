"""End to end: synthetic claims with planted rings → loader → ``ringsight detect`` → the rings are in the queue."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ringsight.algorithms.evaluate import evaluate
from ringsight.algorithms.results import cluster_members, cluster_queue, latest_run
from ringsight.config import Settings, get_settings
from ringsight.graph.store import GraphStore


@pytest.fixture
def loaded(store: GraphStore, settings: Settings, tmp_path: Path) -> dict:
    from ringsight.loaders import load_files
    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    result = generate(SynthConfig(claims=20_000, seed=11), tmp_path / "synth")
    load_files([result.claims_path], [result.items_path], settings=settings, store=store)
    return json.loads(result.ground_truth_path.read_text(encoding="utf-8"))


def test_cli_detect_finds_the_planted_rings(
    loaded: dict, store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ringsight.cli import app

    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.setenv("RINGSIGHT_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["detect", "--since", loaded["start"], "--window", str(loaded["days"] + 1)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "done" in result.output and "report:" in result.output
    run = latest_run(store)
    assert run is not None and run["status"] == "done"
    queue = cluster_queue(store)
    rows = [
        (c["cluster_id"], label, m["key"])
        for c in queue
        for m in cluster_members(store, c["cluster_id"])
        for label in [m["label"]]
    ]
    members = pl.DataFrame(rows, schema={"cluster_id": pl.String, "label": pl.String, "key": pl.String}, orient="row")
    clusters = pl.DataFrame({"cluster_id": [c["cluster_id"] for c in queue], "score": [c["score"] for c in queue]})
    ev = evaluate(loaded, clusters, members, id_hash_key=settings.id_hash_key, top=len(loaded["rings"]))
    assert ev.recall >= 0.9, ev.missed
    assert ev.precision >= 0.75, ev.false_positives
    assert not ev.lookalikes_in_top
    top = queue[0]
    assert top["typologies"] and top["explanation_en"].startswith("score")
    assert {"name", "contribution", "evidence_zh"} <= set(top["signals"][0])
