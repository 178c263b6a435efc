"""``ringsight store start/stop/repair`` manage the embedded server only; they say so when another store is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringsight.graph import ExternalStore


def _cli(*args: str, graph: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RINGSIGHT_GRAPH": graph, "RINGSIGHT_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "ringsight", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("action", ["start", "stop", "repair"])
@pytest.mark.parametrize(
    "graph", ["neo4j://neo4j:s3cret-pw@db.example:7687/neo4j", "bolt://10.0.0.9:7687", "falkordb://h:6379/g"]
)
def test_external_store_is_not_started_stopped_or_repaired(action: str, graph: str, tmp_path: Path) -> None:
    done = _cli("store", action, graph=graph, data_dir=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == ExternalStore.exit_code == 2
    assert "external server" in output and "Traceback" not in output
    assert "s3cret-pw" not in output
    assert not (tmp_path / "falkordb").exists() and not any(tmp_path.rglob("*.pid"))  # nothing was started


def test_embedded_store_is_still_managed(tmp_path: Path) -> None:
    """The way around: with the embedded store configured, ``store stop`` acts (nothing was running)."""
    done = _cli("store", "stop", graph="embedded", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "was not running" in done.stdout
