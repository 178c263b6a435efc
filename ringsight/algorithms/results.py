"""Reading detection results back: the latest run, its ranked queue, a cluster's members.

The write side (``ringsight detect``) marks a run ``done`` only after all its
clusters are written, so readers that start from the latest *done* run never
see a half-written result. See docs/graph-contract.md.
"""

from __future__ import annotations

import json
from typing import Any

from ringsight.graph.model import ENTITY_LABELS, key_of
from ringsight.graph.store import GraphStore, Node

_LATEST_RUN = """
MATCH (r:Run {status: 'done'})
RETURN r ORDER BY r.finished_ts DESC LIMIT 1
"""

_QUEUE = """
MATCH (r:Run {run_id: $run_id})-[f:FOUND]->(c:Cluster)
RETURN c, f.score AS score, f.change AS change
ORDER BY score DESC
"""

_MEMBERS = """
MATCH (c:Cluster {cluster_id: $cluster_id})-[m:HAS_MEMBER]->(e)
WHERE m.run_id IS NULL OR m.run_id = c.run_id
RETURN e, m.role AS role, m.weight AS weight
ORDER BY weight DESC
"""


_RUNS = """
MATCH (r:Run)
RETURN r ORDER BY r.started_ts DESC, r.run_id DESC LIMIT $limit
"""


def runs(store: GraphStore, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first, whatever their status (params and timings decoded)."""
    out = []
    for node in store.read(_RUNS, {"limit": limit}).column("r"):
        run = dict(node.properties)
        for field in ("params", "timings"):
            run[field] = _json(run.get(field), {})
        out.append(run)
    return out


def latest_run(store: GraphStore) -> dict[str, Any] | None:
    """The latest finished run's properties (params and timings decoded), or None."""
    node = store.read(_LATEST_RUN).scalar()
    if node is None:
        return None
    run = dict(node.properties)
    for field in ("params", "timings"):
        run[field] = _json(run.get(field), {})
    run["coverage"] = _json(run.get("coverage"), [])  # absent on runs made before coverage was kept
    return run


def cluster_queue(store: GraphStore, run_id: str | None = None) -> list[dict[str, Any]]:
    """The ranked clusters of a run (the latest done run by default), best first.

    Each row has the Cluster's properties with ``signals`` decoded from JSON,
    and this run's ``score`` and ``change``.
    """
    if run_id is None:
        run = latest_run(store)
        if run is None:
            return []
        run_id = run["run_id"]
    rows = []
    for rec in store.read(_QUEUE, {"run_id": run_id}).records():
        cluster = dict(rec["c"].properties)
        cluster["signals"] = _json(cluster.get("signals"), [])
        cluster["score"] = rec["score"] if rec["score"] is not None else cluster.get("score")
        cluster["change"] = rec["change"] or cluster.get("change")
        rows.append(cluster)
    return rows


def cluster_members(store: GraphStore, cluster_id: str) -> list[dict[str, Any]]:
    """A cluster's member entities: label, key, properties, role and weight."""
    members = []
    for rec in store.read(_MEMBERS, {"cluster_id": cluster_id}).records():
        node: Node = rec["e"]
        label = next((lb for lb in node.labels if lb in ENTITY_LABELS), node.label)
        members.append(
            {
                "label": label,
                "key": node.properties.get(key_of(label)),
                "properties": node.properties,
                "role": rec["role"],
                "weight": rec["weight"],
                "node_id": node.id,
            }
        )
    return members


def _json(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return default
