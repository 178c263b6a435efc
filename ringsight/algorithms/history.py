"""Run ids, stable cluster ids, and what changed since the last run.

A cluster keeps its id from run to run when its members overlap a previous
cluster's by at least ``min_overlap`` (Jaccard similarity of the member sets,
``|A ∩ B| / |A ∪ B|``); pairs are matched one-to-one, best overlap first.
Its *change* is then:

- ``new`` — no previous cluster overlaps enough;
- ``grown`` / ``shrunk`` — more / fewer members than in the last run that found it;
- ``unchanged`` — the same size (usually the same members);
- ``recurring`` — it matches a cluster the latest run did *not* find (it
  went quiet, e.g. during a rectification, and came back), or a member was
  sanctioned and the activity continues (``repeat_offender``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import polars as pl

_ID_RE = re.compile(r"^C(\d+)$")


def new_run_id(now: datetime | None = None) -> str:
    """A run id from the start time, e.g. ``R20261123-153000`` (UTC)."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).strftime("R%Y%m%d-%H%M%S")


def cluster_id(number: int) -> str:
    """The display id of the n-th cluster ever found: ``C000123``."""
    return f"C{number:06d}"


def next_number(highest: str | None) -> int:
    """The number after the highest existing cluster id (1 when there is none)."""
    match = _ID_RE.match(highest or "")
    return int(match.group(1)) + 1 if match else 1


def match_clusters(
    current: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    latest_ids: set[str],
    highest_id: str | None,
    min_overlap: float,
) -> pl.DataFrame:
    """Give each current cluster an id and a change.

    Parameters
    ----------
    current : cluster (local int), label, key — this run's members.
    previous : cluster_id, label, key — members of every cluster written before.
    latest_ids : ids of the clusters the latest done run found.
    highest_id : the highest cluster id ever written (new ids continue after it).
    min_overlap : Jaccard similarity needed to keep an id.

    Returns cluster, cluster_id, change, overlap, previous_count.
    """
    cur_sizes = current.group_by("cluster").agg(pl.len().alias("n_cur"))
    prev_sizes = previous.group_by("cluster_id").agg(pl.len().alias("n_prev"))
    inter = (
        current.join(previous, on=["label", "key"])
        .group_by("cluster", "cluster_id")
        .agg(pl.len().alias("inter"))
        .join(cur_sizes, on="cluster")
        .join(prev_sizes, on="cluster_id")
        .with_columns((pl.col("inter") / (pl.col("n_cur") + pl.col("n_prev") - pl.col("inter"))).alias("jaccard"))
        .filter(pl.col("jaccard") >= min_overlap)
        .sort(["jaccard", "cluster", "cluster_id"], descending=[True, False, False])
    )
    taken_cur: set[int] = set()
    taken_prev: set[str] = set()
    matched: dict[int, tuple[str, float, int]] = {}
    for row in inter.iter_rows(named=True):
        if row["cluster"] in taken_cur or row["cluster_id"] in taken_prev:
            continue
        taken_cur.add(row["cluster"])
        taken_prev.add(row["cluster_id"])
        matched[row["cluster"]] = (row["cluster_id"], row["jaccard"], row["n_prev"])
    number = next_number(highest_id)
    rows = []
    for cl, n_cur in cur_sizes.sort("cluster").iter_rows():
        if cl in matched:
            cid, overlap, n_prev = matched[cl]
            if cid not in latest_ids:
                change = "recurring"
            elif n_cur > n_prev:
                change = "grown"
            elif n_cur < n_prev:
                change = "shrunk"
            else:
                change = "unchanged"
            rows.append((cl, cid, change, round(overlap, 3), n_prev))
        else:
            rows.append((cl, cluster_id(number), "new", 0.0, 0))
            number += 1
    return pl.DataFrame(
        rows,
        schema={
            "cluster": pl.Int64,
            "cluster_id": pl.String,
            "change": pl.String,
            "overlap": pl.Float64,
            "previous_count": pl.Int64,
        },
        orient="row",
    )


def seed_membership(previous: pl.DataFrame, latest_ids: set[str]) -> dict[str, int]:
    """Entity name (``Label|key``) → community index of the latest run's clusters, to seed Leiden."""
    latest = previous.filter(pl.col("cluster_id").is_in(sorted(latest_ids)))
    if latest.is_empty():
        return {}
    ids = {cid: i for i, cid in enumerate(sorted(latest["cluster_id"].unique().to_list()))}
    out: dict[str, int] = {}
    for cid, label, key in latest.select("cluster_id", "label", "key").iter_rows():
        out.setdefault(f"{label}|{key}", ids[cid])
    return out
