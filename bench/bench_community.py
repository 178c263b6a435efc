"""The community-detection step alone, against networkx and python-louvain on the same projection.

Generates N synthetic claims, builds the person-to-person projection that
detection uses (shared cards, phones, addresses, bursts, co-admissions, beds,
trace codes; resource-allocation weights; crowds ignored), then partitions it
with RingSight's igraph Leiden and Louvain (γ = 1, for a like-for-like
modularity), with networkx ``louvain_communities`` and with python-louvain
``best_partition``, and prints time, time ratio and modularity.

    python bench/bench_community.py --claims 1000000     # the issue's figure (networkx takes minutes)
    python bench/bench_community.py                       # CI smoke run (small)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import community as community_louvain
import networkx as nx
import polars as pl

from ringsight.algorithms.communities import detect
from ringsight.algorithms.projections import contexts, person_edges
from ringsight.config import DetectThresholds
from ringsight.tables import CLAIMS_SCHEMA, ITEMS_SCHEMA


def claims_from_csv(folder: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The columns the projection needs, straight from the generator's canonical CSV (no store)."""
    raw = pl.read_csv(folder / "claims.csv", infer_schema=False)
    ts = pl.col("claim_time").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="Asia/Shanghai")
    admit = pl.col("admit_time").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="Asia/Shanghai", strict=False)
    dis = pl.col("discharge_time").str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="Asia/Shanghai", strict=False)
    claims = raw.select(
        "claim_id",
        "visit_type",
        "card_id",
        "patient_phone",
        "contact_phone",
        "terminal_id",
        "bed_no",
        ts.dt.epoch("s").alias("claim_ts"),
        admit.dt.epoch("s").alias("admit_ts"),
        dis.dt.epoch("s").alias("discharge_ts"),
        pl.col("patient_id").alias("pid"),
        pl.col("patient_address").alias("address_key"),
        pl.col("facility_id").alias("facility_code"),
    )
    claims = (
        claims.with_columns(
            [pl.lit(None, dtype=t).alias(k) for k, t in CLAIMS_SCHEMA.items() if k not in claims.columns]
        )
        .select(list(CLAIMS_SCHEMA))
        .cast(CLAIMS_SCHEMA)
    )
    items = pl.read_csv(folder / "claim_items.csv", infer_schema=False, columns=["claim_id", "trace_codes"])
    items = items.with_columns(pl.col("trace_codes").str.split(";").list.eval(pl.element().filter(pl.element() != "")))
    items = items.with_columns(
        [pl.lit(None, dtype=t).alias(k) for k, t in ITEMS_SCHEMA.items() if k not in items.columns]
    ).select(list(ITEMS_SCHEMA))
    return claims, items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=int, default=20_000, help="claims to generate (issue figure: 1000000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-networkx", action="store_true", help="skip the two reference implementations")
    args = parser.parse_args()

    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    with tempfile.TemporaryDirectory(prefix="rs-bench-comm-") as tmp:
        generate(SynthConfig(claims=args.claims, seed=args.seed), Path(tmp))
        claims, items = claims_from_csv(Path(tmp))
    t = DetectThresholds()
    t0 = time.perf_counter()
    edges = person_edges(contexts(claims, items, t), t.covisit_max_group)
    print(
        f"{claims.height:,} claims → projection of {edges.height:,} weighted person pairs "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    results: list[tuple[str, float, float, int]] = []
    for algorithm in ("leiden", "louvain"):
        t0 = time.perf_counter()
        c = detect(edges, algorithm=algorithm, resolution=1.0, seed=args.seed)
        results.append(
            (f"igraph {algorithm} (RingSight)", time.perf_counter() - t0, c.modularity, max(c.membership) + 1)
        )
    if not args.skip_networkx:
        graph = nx.Graph()
        graph.add_weighted_edges_from(edges.iter_rows())
        t0 = time.perf_counter()
        parts = nx.community.louvain_communities(graph, weight="weight", seed=args.seed)
        elapsed = time.perf_counter() - t0
        results.append(
            (
                "networkx louvain_communities",
                elapsed,
                nx.community.modularity(graph, parts, weight="weight"),
                len(parts),
            )
        )
        t0 = time.perf_counter()
        part = community_louvain.best_partition(graph, weight="weight", random_state=args.seed)
        elapsed = time.perf_counter() - t0
        results.append(
            (
                "python-louvain best_partition",
                elapsed,
                community_louvain.modularity(part, graph, weight="weight"),
                len(set(part.values())),
            )
        )
    base = results[0][1]
    print(f"{'method':32} {'time s':>9} {'× Leiden':>9} {'modularity':>11} {'communities':>12}")
    for name, secs, q, n in results:
        print(f"{name:32} {secs:9.2f} {secs / base:9.1f} {q:11.4f} {n:12,}")


if __name__ == "__main__":
    main()
