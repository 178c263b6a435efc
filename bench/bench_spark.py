"""Detection through Spark next to the single-machine engine, on the same generated claims.

Generates N claims (``ringsight.synth``, rings and ground truth), stages them as the loader would
(``bench_detect.stage_synth``, no graph load), then runs ``run_detection`` twice over the same
window and the same staged tables: once on Polars, once with ``[detect] engine = "spark"`` on the
given master — by default ``local-cluster[2,1,2048]``, two executor processes of one core and 2 GB
each, a real multi-process cluster on one machine. Prints for each: time end to end, the time of
the ported detectors, leads, clusters, recall against the generator's truth, and whether both
engines' leads are the same.

    python bench/bench_spark.py --claims 1000000
    python bench/bench_spark.py --folder /tmp/synth1m          # an existing generator folder
    python bench/bench_spark.py --claims 200000 --master 'local[2]'
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_detect import detect_on_fresh_graph, stage_synth

from ringsight.algorithms.engine import PORTED
from ringsight.config import DetectSettings, DetectSparkSettings, Settings
from ringsight.graph.embedded import EmbeddedServer
from ringsight.synth.config import SynthConfig
from ringsight.synth.generator import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--folder", type=Path, default=None, help="an existing `ringsight synth` output folder")
    ap.add_argument("--master", default="local-cluster[2,1,2048]")
    ap.add_argument("--data", type=Path, default=None, help="data directory (default: a temporary one)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="rs-bench-spark-") if args.data is None else None
    data = args.data or Path(tmp.name)  # type: ignore[union-attr]
    folder = args.folder or _generate(args.claims, args.seed, data / "synth")
    truth = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    settings = Settings(data_dir=data, graph_name="spark_bench")
    n = stage_synth(folder, settings)
    start = date.fromisoformat(truth["start"])
    since = datetime.combine(start, datetime.min.time())
    until = datetime.combine(start + timedelta(days=truth["days"]), datetime.min.time())
    server = EmbeddedServer(data)
    server.ensure_running()
    try:
        print(f"{n:,} claims staged; load average {os.getloadavg()[0]:.2f}; Spark master {args.master}")
        spark_cfg = DetectSparkSettings(
            master=args.master,
            conf={"spark.executor.memory": "1g", "spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false"},
        )
        results = {}
        for engine in ("polars", "spark"):
            cfg = DetectSettings(engine=engine, spark=spark_cfg)
            results[engine] = _run(settings.model_copy(update={"detect": cfg}), truth, since, until)
        same = _same_leads(settings, spark_cfg, since, until)
        print(f"ported detectors ({', '.join(PORTED)}): the same leads on both engines: {same}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()
        if tmp is not None:
            tmp.cleanup()


def _same_leads(settings: Settings, cfg: DetectSparkSettings, since: datetime, until: datetime) -> bool:
    """The ported detectors' leads frames, Polars vs Spark, compared whole (every column, every row)."""
    from ringsight.algorithms import spark
    from ringsight.algorithms.detectors import run_detectors
    from ringsight.algorithms.frames import load_window
    from ringsight.tables import staging_dir

    tables = str(staging_dir(settings))
    window = load_window(None, settings, since=since, until=until, tables=tables)
    src = spark.read_claims(spark.open_session(cfg), tables, window.since_ts, window.until_ts)
    t = settings.detect.thresholds
    on_polars, _ = run_detectors(window.claims, window.items, t, list(PORTED))
    on_spark, _ = run_detectors(window.claims, window.items, t, list(PORTED), source=src)
    print(f"ported leads: polars {on_polars.height:,}, spark {on_spark.height:,}")
    return on_spark.equals(on_polars)


def _generate(claims: int, seed: int, out: Path) -> Path:
    t0 = time.perf_counter()
    generate(SynthConfig(claims=claims, seed=seed), out)
    print(f"generated {claims:,} claims in {time.perf_counter() - t0:.1f} s")
    return out


def _run(settings: Settings, truth: dict, since: datetime, until: datetime) -> dict:
    """One detection run on a fresh graph; its figures printed, the ported detectors' leads returned."""
    summary, total, ev = detect_on_fresh_graph(settings, truth, since, until, len(truth["rings"]))
    t = summary.timings
    ported = sum(t.get(f"detector.{n}", 0) for n in PORTED)
    print(
        f"{settings.detect.engine:6s}: {total:6.1f} s end to end (read {t.get('read', 0):.1f}, detectors "
        f"{t.get('detectors', 0):.1f} of which ported {ported:.1f}); leads {summary.leads:,}; clusters "
        f"{summary.clusters:,}; recall {ev.recall:.1%}; top-{ev.top} precision {ev.precision:.1%}"
    )
    return {"leads": summary.leads, "total": total}


if __name__ == "__main__":
    main()
