"""The projection (person–person edges from shared contexts) on Polars and on Spark, on synthetic claims.

Stages a ``ringsight synth --format parquet`` folder (as bench_detect.py does), runs the detectors
for the focus (the persons named in leads), then times ``contexts`` + ``person_edges`` on Polars
(best of 3) and, with ``--spark MASTER``, with the context scan on Spark, and checks that the edges
are the same. Prints the edge count per million claims (docs/scale.md).

    python bench/bench_projection.py                                   # 20,000 generated claims (smoke run)
    python bench/bench_projection.py --folder /tmp/synth-200k
    python bench/bench_projection.py --folder /tmp/synth-1m --spark 'local-cluster[2,1,2048]'
    python bench/bench_projection.py --folder /tmp/synth-200k --baseline old_projections.py   # compare a module
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from bench_detect import stage_synth

from ringsight.algorithms.detectors import run_detectors
from ringsight.algorithms.frames import load_window
from ringsight.algorithms.leads import lead_members
from ringsight.algorithms.pipeline import MIN_PAIR_WEIGHT
from ringsight.config import DetectSparkSettings, Settings


def _edges(module, claims, items, t, focus, source=None):  # type: ignore[no-untyped-def]
    kw = {"source": source} if source is not None else {}
    ctx = module.contexts(claims, items, t, focus=focus, **kw)
    return module.person_edges(ctx, t.covisit_max_group, MIN_PAIR_WEIGHT, focus=focus)


def _best(fn, runs: int = 3) -> tuple[float, pl.DataFrame]:  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out  # type: ignore[return-value]


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    """The same pairs, and weights equal up to float summation order."""
    if not a.select("a", "b").sort("a", "b").equals(b.select("a", "b").sort("a", "b")):
        return False
    joined = a.join(b, on=["a", "b"])
    diff = (joined["weight"] - joined["weight_right"]).abs().max()
    return joined.height == a.height and (diff is None or float(diff) < 1e-9)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=None, help="a `ringsight synth --format parquet` folder")
    parser.add_argument("--claims", type=int, default=20_000, help="without --folder: generate this many claims")
    parser.add_argument("--spark", default=None, help="also run the context scan on this Spark master")
    parser.add_argument("--baseline", type=Path, default=None, help="a projections.py to compare with (Polars)")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="rs-proj-"))
    settings = Settings(data_dir=data, graph_name="proj")
    folder = args.folder
    if folder is None:
        from ringsight.synth.config import SynthConfig
        from ringsight.synth.generator import generate

        folder = data / "synth"
        generate(SynthConfig(claims=args.claims, seed=7), folder)
    n = stage_synth(folder, settings)
    window = load_window(None, settings)
    t = settings.detect.thresholds
    leads, _ = run_detectors(window.claims, window.items, t)
    focus = lead_members(leads).filter(pl.col("label") == "Patient")["key"].unique()
    import ringsight.algorithms.projections as current

    secs, edges = _best(lambda: _edges(current, window.claims, window.items, t, focus))
    print(f"claims {n:,}, window {window.claims.height:,}, focus persons {focus.len():,}")
    print(f"polars (narwhals scan): {secs:.3f} s, {edges.height:,} edges, {edges.height / n * 1e6:,.0f} per 1M claims")
    if args.baseline is not None:
        spec = importlib.util.spec_from_file_location("baseline_projections", args.baseline)
        base = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(base)  # type: ignore[union-attr]
        bsecs, bedges = _best(lambda: _edges(base, window.claims, window.items, t, focus))
        same = _same(edges, bedges)
        print(f"polars (baseline {args.baseline.name}): {bsecs:.3f} s, {bedges.height:,} edges, same: {same}")
    if args.spark:
        from ringsight.algorithms import spark

        session = spark.open_session(DetectSparkSettings(master=args.spark, conf={"spark.sql.shuffle.partitions": "4"}))
        tables = str(settings.data_dir / "staging" / "proj")
        t0 = time.perf_counter()
        source = spark.read_claims(session, tables, window.since_ts, window.until_ts)
        ssecs, sedges = _best(lambda: _edges(current, window.claims, window.items, t, focus, source), runs=2)
        print(
            f"spark {args.spark}: {ssecs:.3f} s (best of 2; first read {time.perf_counter() - t0:.1f} s incl.), "
            f"{sedges.height:,} edges, same: {_same(edges, sedges)}"
        )
        session.stop()


if __name__ == "__main__":
    main()
