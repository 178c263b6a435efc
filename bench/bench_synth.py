"""Benchmark the synthetic claims generator: seconds, claims/s, peak RSS, output sizes.

    python bench/bench_synth.py --claims 1000000 --out /tmp/rs-synth-bench

Peak RSS is sampled from a background thread (psutil) so it reflects the
generator's working set, not just the interpreter at the end. The default
size is small for the CI smoke run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil

from ringsight.synth import SynthConfig, generate


def _watch_rss(stop: threading.Event, peak: list[int]) -> None:
    proc = psutil.Process()
    while not stop.is_set():
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    parser.add_argument("--no-items", action="store_true")
    parser.add_argument("--dirty", type=float, default=0.0)
    parser.add_argument("--block", type=int, default=100_000, help="claims per generated block")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the output files")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="rs-synth-bench-"))
    config = SynthConfig(claims=args.claims, seed=args.seed, days=args.days, file_format=args.format,
                         items=not args.no_items, dirty_rate=args.dirty, block_claims=args.block)
    stop, peak = threading.Event(), [psutil.Process().memory_info().rss]
    watcher = threading.Thread(target=_watch_rss, args=(stop, peak), daemon=True)
    watcher.start()
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = generate(config, out)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    stop.set()
    watcher.join()
    size = sum(p.stat().st_size for p in out.iterdir())
    print(f"claims        {result.n_claims:,}")
    print(f"items         {result.n_items:,}")
    print(f"planted       {result.n_planted_claims:,} claims in {result.n_rings} rings")
    print(f"seconds       {seconds:.1f}")
    print(f"claims/s      {result.n_claims / seconds:,.0f}")
    print(f"CPU seconds   {cpu:.1f} (user+system, all threads; wall > CPU means a busy machine)")
    print(f"peak RSS      {peak[0] / 2**20:,.0f} MiB")
    print(f"output        {size / 2**20:,.0f} MiB in {out}")
    if not args.keep and args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
