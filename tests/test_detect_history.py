"""Stable cluster ids and change labels across runs (no store needed)."""

from __future__ import annotations

import polars as pl

from ringsight.algorithms.history import cluster_id, match_clusters, new_run_id, next_number, seed_membership


def _members(groups: dict, id_col: str = "cluster") -> pl.DataFrame:
    rows = [(g, "Patient", k) for g, keys in groups.items() for k in keys]
    dtype = pl.Int64 if id_col == "cluster" else pl.String
    return pl.DataFrame(rows, schema={id_col: dtype, "label": pl.String, "key": pl.String}, orient="row")


def test_ids_and_changes() -> None:
    previous = _members(
        {
            "C000001": ["a", "b", "c", "d"],
            "C000002": ["e", "f", "g"],
            "C000003": ["h", "i", "j"],
            "C000004": ["k", "l", "m"],
            "C000005": ["x", "y", "z"],
        },
        "cluster_id",
    )
    current = _members(
        {
            0: ["a", "b", "c", "d", "n"],  # grown
            1: ["e", "f"],  # shrunk
            2: ["h", "i", "j"],  # unchanged
            3: ["x", "y", "z"],  # back after the latest run missed it
            4: ["p", "q", "r"],
        }  # new
    )
    out = match_clusters(
        current,
        previous,
        latest_ids={"C000001", "C000002", "C000003", "C000004"},
        highest_id="C000005",
        min_overlap=0.3,
    )
    got = {r["cluster"]: (r["cluster_id"], r["change"]) for r in out.iter_rows(named=True)}
    assert got == {
        0: ("C000001", "grown"),
        1: ("C000002", "shrunk"),
        2: ("C000003", "unchanged"),
        3: ("C000005", "recurring"),
        4: ("C000006", "new"),
    }


def test_one_to_one_matching_prefers_the_best_overlap() -> None:
    previous = _members({"C000001": ["a", "b", "c", "d"]}, "cluster_id")
    current = _members({0: ["a", "b"], 1: ["a", "b", "c", "d"]})
    out = match_clusters(current, previous, latest_ids={"C000001"}, highest_id="C000001", min_overlap=0.3)
    got = dict(out.select("cluster", "cluster_id").iter_rows())
    assert got == {1: "C000001", 0: "C000002"}


def test_low_overlap_is_a_new_cluster() -> None:
    previous = _members({"C000007": ["a", "b", "c", "d", "e", "f", "g", "h"]}, "cluster_id")
    current = _members({0: ["a", "x", "y", "z"]})
    out = match_clusters(current, previous, latest_ids={"C000007"}, highest_id="C000007", min_overlap=0.3)
    assert out.row(0, named=True)["change"] == "new"
    assert out.row(0, named=True)["cluster_id"] == "C000008"


def test_id_helpers() -> None:
    assert cluster_id(123) == "C000123"
    assert next_number(None) == 1 and next_number("C000041") == 42
    assert new_run_id().startswith("R") and len(new_run_id()) == len("R20261123-153000")
    seeds = seed_membership(_members({"C1": ["a", "b"], "C2": ["c"]}, "cluster_id"), {"C1"})
    assert seeds == {"Patient|a": 0, "Patient|b": 0}
