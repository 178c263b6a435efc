"""Cypher library figures: how long each named query takes on generated claims.

Generates claims with planted rings (``ringsight.synth``), loads them into a
scratch graph of the configured store (``ringsight.loaders``), then runs every
read query of the library with its defaults (and the example value of each
required parameter, taken from the data where an example would find nothing)
and prints the time, the rows returned and whether the row cap cut them.

    python bench/bench_cypher.py                    # CI smoke run (2,000 claims)
    python bench/bench_cypher.py --claims 100000
    RINGSIGHT_DATA_DIR=/tmp/rs-bench python bench/bench_cypher.py --claims 1000000 --repeat 1

The graph (``bench_cypher``) is deleted at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ringsight.config import get_settings
from ringsight.cypher import QueryLibrary, run_named
from ringsight.graph import open_store
from ringsight.graph.store import GraphStore

GRAPH = "bench_cypher"


def required_params(store: GraphStore) -> dict[str, dict[str, Any]]:
    """Values for required parameters that exist in the generated graph."""

    def first(cypher: str) -> Any:
        return store.read(cypher).scalar()

    patient = first("MATCH (p:Patient)<-[:BY_PATIENT]-(:Claim) RETURN p.pid LIMIT 1")
    facility = first("MATCH (f:Facility {kind: 'pharmacy'})<-[:AT_FACILITY]-(:Claim) RETURN f.code LIMIT 1")
    phone = first("MATCH (ph:Phone)<-[:HAS_PHONE]-(:Patient) RETURN ph.number LIMIT 1")
    times = store.read("MATCH (c:Claim) RETURN min(c.time_ts) AS lo, max(c.time_ts) AS hi").records()[0]
    return {
        "patient_timeline": {"patient": patient},
        "facility_timeline": {"facility": facility},
        "neighbourhood": {"key": patient, "hops": 2},
        "shortest_paths": {"from_key": patient, "to_key": phone, "max_hops": 6},
        "cluster_members_evidence": {"cluster": "C000001"},
        "top_facilities_by_fund": {"since": times["lo"], "until": times["hi"] + 1},
        "random_inspection_sample": {"seed": "2025-Q1"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2_000, help="claims to generate (default: 2000)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3, help="runs per query; the median is printed")
    parser.add_argument("--keep", action="store_true", help="keep the graph afterwards")
    args = parser.parse_args()

    from ringsight.loaders import load_files
    from ringsight.synth import SynthConfig, generate

    settings = get_settings().model_copy(update={"graph_name": GRAPH})
    store = open_store(settings)
    store.clear()
    store.ensure_schema()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = generate(SynthConfig(claims=args.claims, seed=args.seed), Path(tmp))
        t1 = time.perf_counter()
        items = [result.items_path] if result.items_path else None
        load_files([result.claims_path], items, settings=settings, store=store)
        t2 = time.perf_counter()
    print(f"store: {store.describe()}")
    print(
        f"generated {args.claims:,} claims in {t1 - t0:.1f} s, loaded in {t2 - t1:.1f} s: "
        f"{store.count_nodes():,} nodes, {store.count_relationships():,} relationships"
    )
    library = QueryLibrary.load(settings)
    params = required_params(store)
    print(f"{'query':<36} {'median s':>9} {'rows':>7}  note")
    try:
        for query in library:
            if query.is_write:
                continue
            seconds: list[float] = []
            note = ""
            rows = 0
            for _ in range(args.repeat):
                t = time.perf_counter()
                try:
                    res = run_named(store, library, query.name, params.get(query.name, {}), settings=settings)
                except Exception as exc:  # a benchmark reports and goes on
                    note = f"{type(exc).__name__}: {str(exc)[:60]}"
                    break
                seconds.append(time.perf_counter() - t)
                rows, note = len(res.rows), ("row cap reached" if res.truncated else "")
            median = f"{statistics.median(seconds):9.3f}" if seconds else f"{'-':>9}"
            print(f"{query.name:<36} {median} {rows:>7}  {note}")
    finally:
        if not args.keep:
            store.clear()
        store.close()


if __name__ == "__main__":
    main()
