"""kill -9 in the middle of a load, run it again: the graph ends identical to an uninterrupted load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from test_load_idempotent import _bench, snapshot

from ringsight.appdb import AppDb, open_appdb
from ringsight.appdb.tables import identity_vault
from ringsight.config import Settings
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.tables import scan_claims, scan_items, staging_dir

N_CLAIMS = 5000
CLAIM_SUMS = "MATCH (c:Claim) RETURN sum(c.item_count), count(DISTINCT c.content_hash), sum(size(c.trace_codes))"
SCRIPT = """
import sys
from pathlib import Path
from ringsight.config import Settings
from ringsight.loaders import load_files
claims, items, graph, mode = sys.argv[1:5]
settings = Settings(graph_name=graph)
report = load_files([Path(claims)], [Path(items)], settings=settings, mode=mode)
print("DONE", report.loaded, report.resumed)
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _bench().generate(N_CLAIMS, tmp_path_factory.mktemp("crash"), seed=11)


def _journal(settings: Settings) -> dict:
    for path in (staging_dir(settings) / ".pending").glob("*/journal.json"):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
    return {}


def _vault(db: AppDb) -> list[tuple]:
    with db.read() as conn:
        return sorted(tuple(row) for row in conn.execute(select(identity_vault)))


def _run_and_kill(settings: Settings, args: list[str], env: dict, ready) -> bool:  # type: ignore[no-untyped-def]
    """Start the loader, SIGKILL it once ``ready(journal)`` holds; False when it finished first."""
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, *args], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        if ready(_journal(settings)):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 0 and "DONE" in out, out
    return False


STAGING = ("staging", lambda j: len(j.get("chunks", {})) >= 3)
STAGED = ("staging items", lambda j: len(j.get("chunks", {})) >= 10)
ALL_STAGED = ("writing the graph", lambda j: len(j.get("chunks", {})) >= 20 and not j.get("written"))
WRITING = ("writing batches", lambda j: sum(j.get("batches", {}).values()) >= 6)
DECIDED = ("finishing claim chunks", lambda j: bool(j.get("claims_decided")))


@pytest.mark.parametrize(
    ("mode", "kills"),
    [("merge", [STAGING, DECIDED, WRITING]), ("bulk", [STAGING, STAGED, ALL_STAGED])],
    ids=["merge", "bulk"],
)
def test_kill_then_resume_gives_identical_graph(
    store: GraphStore, settings: Settings, generated: tuple[Path, Path], mode: str, kills: list
) -> None:
    claims, items = generated
    tuned = {"chunk_rows": 1000, "batch_size": 250, "bucket_claims": 300}  # 32 hash buckets
    settings = settings.model_copy(update={"load": settings.load.model_copy(update=tuned)})
    reference_settings = settings.model_copy(update={"graph_name": settings.graph_name + "_ref"})
    with open_store(reference_settings) as reference:
        ref_report = load_files([claims], [items], settings=reference_settings, store=reference, mode=mode)
        expected = snapshot(reference)
        expected_claims = reference.read(CLAIM_SUMS).rows
        expected_vault = _vault(open_appdb(reference_settings))
        assert len(expected_vault) > N_CLAIMS // 4  # persons, cards, phones, addresses
        reference.clear()

    env = {
        **os.environ,
        "RINGSIGHT_LOAD__CHUNK_ROWS": str(tuned["chunk_rows"]),
        "RINGSIGHT_LOAD__BATCH_SIZE": str(tuned["batch_size"]),
        "RINGSIGHT_LOAD__BUCKET_CLAIMS": str(tuned["bucket_claims"]),
    }
    args = [str(claims), str(items), settings.graph_name, mode]
    killed = [name for name, ready in kills if _run_and_kill(settings, args, env, ready)]
    print(f"{mode}: killed while {', '.join(killed)}")
    assert killed, "the loader was never interrupted; the test proved nothing"
    report = load_files([claims], [items], settings=settings, store=store, mode=mode)
    assert report.resumed, "the rerun resumed the interrupted load from its journal"
    assert snapshot(store) == expected
    assert store.read(CLAIM_SUMS).rows == expected_claims
    assert _vault(open_appdb(settings)) == expected_vault, "the resumed load wrote the same identity vault"
    assert report.rows_read == ref_report.rows_read and report.loaded == ref_report.loaded == N_CLAIMS
    staged = scan_claims(settings).collect()
    assert staged.height == N_CLAIMS and staged["claim_id"].n_unique() == N_CLAIMS
    staged_items = scan_items(settings).collect()
    assert staged_items.height == ref_report.items_loaded
    assert staged_items.select(pl.struct("claim_id", "line_no").n_unique()).item() == staged_items.height
    again = load_files([claims], [items], settings=settings, store=store)
    assert again.loaded == 0 and snapshot(store) == expected
    connection = store.db.connection  # type: ignore[attr-defined]
    assert connection.get("ringsight:bulk:saved-persistence") is None
    assert connection.config_get("auto-aof-rewrite-percentage")["auto-aof-rewrite-percentage"] != "0", (
        "a build killed with persistence paused does not leave the server paused"
    )
