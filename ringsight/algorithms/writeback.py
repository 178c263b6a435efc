"""Write a run's clusters back to the graph so that a reader never sees half a run.

The order (docs/graph-contract.md, "Detection results"):

1. ``Run {status: 'running'}`` is created;
2. each cluster is MERGEd by its stable id and linked ``(Run)-[:FOUND]->(Cluster)``;
   this run's view of the cluster (score, change, signals, explanation, …)
   is written on the FOUND relationship only, so the Cluster node still shows
   the last *done* run's view;
3. members are written as ``HAS_MEMBER {run_id: <this run>}`` next to the
   previous run's members (readers keep to ``m.run_id = c.run_id``);
4. one final query — atomic in both stores — copies each FOUND snapshot onto
   its Cluster, sets ``c.run_id``, removes the superseded members and marks the
   run ``done``.

A failure before step 4 leaves the previous done run current; :func:`fail_run`
marks the run ``failed`` and removes what it wrote. When the process died
(SIGKILL, power) the next run calls :func:`abandon_stale_runs` first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ringsight.graph.model import ENTITY_LABELS, key_of
from ringsight.graph.store import GraphStore

BATCH = 2_000

_CREATE_RUN = """
CREATE (r:Run {run_id: $run_id, status: 'running', started_ts: $started_ts, started: $started,
               since_ts: $since_ts, until_ts: $until_ts, params: $params, cluster_count: 0})
"""

_WRITE_CLUSTERS = """
UNWIND $rows AS row
MATCH (r:Run {run_id: $run_id})
MERGE (c:Cluster {cluster_id: row.cluster_id})
ON CREATE SET c.first_run_id = $run_id, c.created_ts = $now
MERGE (r)-[f:FOUND]->(c)
SET f.score = row.score, f.change = row.change, f.member_count = row.member_count,
    f.typologies = row.typologies, f.signals = row.signals, f.explanation_zh = row.explanation_zh,
    f.explanation_en = row.explanation_en, f.claim_count = row.claim_count, f.claim_ids = row.claim_ids,
    f.amount = row.amount,
    f.fund_amount = row.fund_amount, f.facilities = row.facilities, f.district = row.district,
    f.date_from = row.date_from, f.date_to = row.date_to, f.repeat_offender = row.repeat_offender,
    f.rank = row.rank
"""

_WRITE_MEMBERS = """
UNWIND $rows AS row
MATCH (c:Cluster {{cluster_id: row.cluster_id}})
MATCH (e:{label} {{{key}: row.key}})
MERGE (c)-[m:HAS_MEMBER {{run_id: $run_id}}]->(e)
SET m.role = row.role, m.weight = row.weight
RETURN count(m) AS n
"""

_COMMIT = """
MATCH (r:Run {run_id: $run_id})-[f:FOUND]->(c:Cluster)
SET c.score = f.score, c.change = f.change, c.member_count = f.member_count, c.typologies = f.typologies,
    c.signals = f.signals, c.explanation_zh = f.explanation_zh, c.explanation_en = f.explanation_en,
    c.claim_count = f.claim_count, c.claim_ids = f.claim_ids, c.amount = f.amount, c.fund_amount = f.fund_amount,
    c.facilities = f.facilities, c.district = f.district, c.date_from = f.date_from, c.date_to = f.date_to,
    c.repeat_offender = f.repeat_offender, c.run_id = $run_id
WITH DISTINCT r, c
OPTIONAL MATCH (c)-[m:HAS_MEMBER]->()
WHERE m.run_id IS NULL OR m.run_id <> $run_id
DELETE m
WITH DISTINCT r
SET r.status = 'done', r.finished_ts = $finished_ts, r.finished = $finished, r.timings = $timings,
    r.coverage = $coverage, r.cluster_count = $cluster_count
RETURN r.run_id AS run_id
"""

_COMMIT_EMPTY = """
MATCH (r:Run {run_id: $run_id})
SET r.status = 'done', r.finished_ts = $finished_ts, r.finished = $finished, r.timings = $timings,
    r.coverage = $coverage, r.cluster_count = 0
RETURN r.run_id AS run_id
"""

_FAIL = "MATCH (r:Run {run_id: $run_id}) SET r.status = 'failed', r.error = $error, r.finished_ts = $ts"

_CLEAN_MEMBERS = "MATCH (:Cluster)-[m:HAS_MEMBER {run_id: $run_id}]->() DELETE m"
_CLEAN_FOUND = "MATCH (:Run {run_id: $run_id})-[f:FOUND]->(:Cluster) DELETE f"
_CLEAN_CLUSTERS = """
MATCH (c:Cluster {first_run_id: $run_id})
WHERE c.run_id IS NULL
DETACH DELETE c
"""

_STALE = "MATCH (r:Run {status: 'running'}) RETURN r.run_id AS run_id"


def now_ts() -> tuple[int, str]:
    """Now as epoch seconds and ISO (Asia/Shanghai display is the UI's job; ISO carries the offset)."""
    now = datetime.now(UTC)
    return int(now.timestamp()), now.isoformat(timespec="seconds")


def abandon_stale_runs(store: GraphStore) -> list[str]:
    """Mark runs left 'running' by a dead process as failed and remove what they wrote."""
    stale = [str(r) for r in store.read(_STALE).column("run_id")]
    for run_id in stale:
        fail_run(store, run_id, "abandoned: the process ended before the run finished")
    return stale


def start_run(store: GraphStore, run_id: str, *, since_ts: int, until_ts: int, params: dict[str, Any]) -> None:
    """Create the Run node with status 'running'."""
    ts, iso = now_ts()
    store.write(
        _CREATE_RUN,
        {
            "run_id": run_id,
            "started_ts": ts,
            "started": iso,
            "since_ts": since_ts,
            "until_ts": until_ts,
            "params": json.dumps(params, ensure_ascii=False, default=str),
        },
    )


def write_results(
    store: GraphStore,
    run_id: str,
    clusters: pl.DataFrame,
    members: pl.DataFrame,
    *,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write clusters (with FOUND snapshots) and their pending members; return counts written."""
    ts, _ = now_ts()
    rows = clusters.select(
        "cluster_id",
        "score",
        "change",
        "member_count",
        "typologies",
        "signals",
        "explanation_zh",
        "explanation_en",
        "claim_count",
        "claim_ids",
        "amount",
        "fund_amount",
        "facilities",
        "district",
        "date_from",
        "date_to",
        "repeat_offender",
        "rank",
    ).to_dicts()
    store.write_rows(
        _WRITE_CLUSTERS, rows, batch_size=BATCH, progress=progress, extra_params={"run_id": run_id, "now": ts}
    )
    written = 0
    for label in ENTITY_LABELS:
        part = members.filter(pl.col("label") == label).select("cluster_id", "key", "role", "weight")
        if part.is_empty():
            continue
        cypher = _WRITE_MEMBERS.format(label=label, key=key_of(label))
        for start in range(0, part.height, BATCH):
            batch = part.slice(start, BATCH).to_dicts()
            written += int(store.write(cypher, {"rows": batch, "run_id": run_id}).scalar() or 0)
            if progress is not None:
                progress(len(batch))
    return {"clusters": len(rows), "members": written, "members_expected": members.height}


def commit_run(
    store: GraphStore,
    run_id: str,
    *,
    timings: dict[str, float],
    cluster_count: int,
    coverage: list[dict[str, Any]] | None = None,
) -> None:
    """Make the run current in one atomic query (see the module docstring).

    ``coverage`` (per detector: ok / partial / no input, see ``coverage.py``) is kept on the Run as
    JSON, so the workbench can say what could not be checked wherever it runs.
    """
    ts, iso = now_ts()
    # Strictly after the previous done run, so "latest by finished_ts" is never a tie.
    last = store.read("MATCH (r:Run {status: 'done'}) RETURN max(r.finished_ts) AS ts").scalar()
    if last is not None and ts <= int(last):
        ts = int(last) + 1
    params = {
        "run_id": run_id,
        "finished_ts": ts,
        "finished": iso,
        "timings": json.dumps(timings),
        "coverage": json.dumps(coverage or [], ensure_ascii=False),
        "cluster_count": cluster_count,
    }
    done = store.write(_COMMIT if cluster_count else _COMMIT_EMPTY, params, timeout_ms=600_000).scalar()
    if done is None:
        raise RuntimeError(f"run {run_id} vanished before it could be committed")


def fail_run(store: GraphStore, run_id: str, error: str) -> None:
    """Mark a run failed and remove its pending members, FOUND links and never-committed clusters."""
    ts, _ = now_ts()
    store.write(_CLEAN_MEMBERS, {"run_id": run_id}, timeout_ms=600_000)
    store.write(_CLEAN_FOUND, {"run_id": run_id}, timeout_ms=600_000)
    store.write(_CLEAN_CLUSTERS, {"run_id": run_id}, timeout_ms=600_000)
    store.write(_FAIL, {"run_id": run_id, "error": error[:2000], "ts": ts})
