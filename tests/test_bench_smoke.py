"""CI smoke run of every benchmark in bench/ at its small default size.

The benchmarks measure speed and memory (figures are printed, never asserted:
timings on a shared 2-core machine are not a test). Here each one must run to
the end on the real embedded store and print its figures, so a benchmark that
rots is caught.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool

from ringsight.graph.embedded import EmbeddedServer

BENCH = Path(__file__).resolve().parent.parent / "bench"

# script -> (extra arguments, a pattern its output must contain)
SMOKE = {
    "bench_store.py": ([], r"[\d,]+ rows/s"),
    "bench_synth.py": ([], r"claims/s"),
    "bench_load.py": ([], r"claims/s"),
    "bench_detect.py": ([], r"recall"),
    "bench_community.py": ([], r"modularity"),
    "bench_cypher.py": (["--repeat", "1"], r"\d+(\.\d+)? ?(ms|s)\b"),
    "bench_cases.py": (["--edits", "10", "--races", "3"], r"\d"),
    "bench_ui.py": ([], r"ms"),
    "bench_spark.py": (["--claims", "20000", "--master", "local[1]"], r"the same leads on both engines: True"),
    "bench_projection.py": ([], r"edges, [\d,]+ per 1M claims"),
    "bench_port.py": (["shared_attributes.shared_card", "--rounds", "1"], r"shared_card .* identical True"),
}


def test_every_benchmark_has_a_smoke_run() -> None:
    assert {p.name for p in BENCH.glob("bench_*.py")} == set(SMOKE)


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_runs_and_prints_its_figures(script: str, tmp_path: Path) -> None:
    if script == "bench_ui.py":
        require_tool("chromedriver", "chromium-driver")
    if script == "bench_spark.py":
        require_tool("java", "default-jre-headless")
    args, pattern = SMOKE[script]
    env = {**os.environ, "RINGSIGHT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(BENCH.parent)}
    env.pop("RINGSIGHT_GRAPH", None)
    if script == "bench_ui.py":
        args = [*args, "--data-dir", str(tmp_path / "ui")]
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH / script), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:  # a benchmark on the configured store leaves its embedded server running, as the CLI does
        EmbeddedServer(tmp_path / "data").stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert re.search(pattern, done.stdout), done.stdout[-3000:]


def test_bench_detect_sanctions_only_the_rectified_facility_when_the_truth_names_it() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_detect_module", BENCH / "bench_detect.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    ring = {"rectification_date": "2025-08-06", "members": {"facilities": ["P110108000001", "P110108000002"]}}
    moved = {**ring, "sanctioned_facilities": ["P110108000002"]}
    other = {"rectification_date": None, "members": {"facilities": ["H110101000003"]}}
    assert bench._sanction_rows({"rings": [ring, other]}) == [{"code": "P110108000001"}, {"code": "P110108000002"}]
    assert bench._sanction_rows({"rings": [moved, other]}) == [{"code": "P110108000002"}]
