"""A detector port's Polars path before and after: time and leads, on one staged window, in one process.

Loads the named detectors from an older tree's modules (e.g. ``git archive <commit> ringsight | tar -x -C
/tmp/base``) next to this tree's, and calls them alternately on the window ``load_window`` holds, so
both see the same load; prints the best wall and process-CPU time of each (on a shared machine the
CPU time is the steadier figure) and whether the leads frames are identical.

    python bench/bench_port.py --base /tmp/base --tables /tmp/rs/staging/g --synth /tmp/synth1m \\
        prescriptions.doctor_pharmacy prescriptions.drug_shopping contacts.contact_stays
    python bench/bench_port.py shared_attributes.shared_card   # CI smoke run: this tree against itself
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import polars as pl

from ringsight.algorithms.frames import load_window
from ringsight.config import DetectSettings, Settings

_NO_ITEMS = {"contact_stays", "burst_swiping", "co_admission", "repeated_admission", "split_charges", "shared_bed"}
_KEY = ["evidence_en", "numbers", "strength"]


def _module(base: Path, name: str) -> ModuleType:
    path = base / "ringsight" / "algorithms" / "detectors" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"base_{name}", path)
    assert spec is not None and spec.loader is not None, path
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _call(mod: ModuleType, name: str, window, t) -> Callable[[], pl.DataFrame]:  # type: ignore[no-untyped-def]
    fn = getattr(mod, name)
    if name in _NO_ITEMS or name.startswith("shared_") or name == "impossible_travel":
        return lambda: fn(window.claims, t)
    return lambda: fn(window.claims, window.items, t)


ROOT = Path(__file__).resolve().parent.parent


def _generated(claims: int) -> tuple[Path, str]:
    """A small synthetic set, staged as the loader would (``bench_detect.stage_synth``), in a temp folder."""
    import tempfile

    from bench_detect import stage_synth

    from ringsight.synth.config import SynthConfig
    from ringsight.synth.generator import generate

    folder = Path(tempfile.mkdtemp(prefix="rs-bench-port-"))
    generate(SynthConfig(claims=claims, seed=7, file_format="parquet"), folder / "synth")
    settings = Settings(data_dir=folder / "data", graph_name="port", demo=True)
    stage_synth(folder / "synth", settings)
    from ringsight.tables import staging_dir

    return folder / "synth", str(staging_dir(settings))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("detectors", nargs="+", help="module.detector, e.g. prescriptions.doctor_pharmacy")
    ap.add_argument("--base", type=Path, default=ROOT, help="an older tree holding ringsight/ (default: this one)")
    ap.add_argument("--tables", help="staged tables (claims/ and items/ Parquet); default: --claims generated")
    ap.add_argument("--synth", type=Path, help="the generator folder (its window); default: --claims generated")
    ap.add_argument("--claims", type=int, default=3_000, help="claims to generate when no --synth is given")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    if args.synth is None or args.tables is None:
        args.synth, args.tables = _generated(args.claims)
    truth = json.loads((args.synth / "ground_truth.json").read_text(encoding="utf-8"))
    since = datetime.combine(date.fromisoformat(truth["start"]), datetime.min.time())
    until = since + timedelta(days=truth["days"])
    window = load_window(None, Settings(), since=since, until=until, tables=args.tables)
    t = DetectSettings().thresholds
    print(f"{window.claims.height:,} claims; load {os.getloadavg()[0]:.2f}; best of {args.rounds}, alternating")
    for spec in args.detectors:
        module, name = spec.split(".")
        new = importlib.import_module(f"ringsight.algorithms.detectors.{module}")
        calls = [_call(_module(args.base, module), name, window, t), _call(new, name, window, t)]
        wall, cpu, out = [1e9, 1e9], [1e9, 1e9], [pl.DataFrame(), pl.DataFrame()]
        for _ in range(args.rounds):
            for k, call in enumerate(calls):
                t0, c0 = time.perf_counter(), time.process_time()
                out[k] = call()
                wall[k], cpu[k] = min(wall[k], time.perf_counter() - t0), min(cpu[k], time.process_time() - c0)
        a, b = (f.sort([*_KEY, pl.col("claim_ids").list.first()]) for f in out)
        print(
            f"{name:18s} before {wall[0]:.3f} s (CPU {cpu[0]:.3f})  after {wall[1]:.3f} s (CPU {cpu[1]:.3f})  "
            f"leads {a.height}/{b.height} identical {a.equals(b)}  (load {os.getloadavg()[0]:.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
