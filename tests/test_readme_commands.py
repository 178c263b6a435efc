"""Every command the README shows runs as written, against the demo's data.

The README's ```bash / ```console blocks are run in order, each as one bash
script (``set -euo pipefail``), in a working folder that holds the files the
README names, after ``ringsight demo --no-serve`` has generated, loaded and
detected the demo's claims. Blocks that start a server or need one we cannot
run here are skipped, each with its reason (``SKIPPED`` says which).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIXTURES = Path(__file__).parent / "fixtures" / "load"
PASSWORD = "blue lantern over a quiet harbour"
#: (text in a block, why it is not run here)
NOT_RUN = (
    ("make demo", "starts the workbench server and runs the whole test suite (`make test`)"),
    ("docker compose", "needs Docker and the Neo4j image"),
    ("neo4j://", "needs a Neo4j server"),
    ("ringsight ui", "starts the workbench server"),
)
_BLOCK = re.compile(r"^```(bash|console)\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[int, str]]:
    """(line number, text) of each bash/console block, in the README's order."""
    text = README.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(2)) for m in _BLOCK.finditer(text)]


def _why_not(block: str) -> str | None:
    return next((why for needle, why in NOT_RUN if needle in block), None)


@pytest.fixture(scope="module")
def demo(embedded_server, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    """The demo's data in its own graph, and a working folder with the files the README names."""
    work = tmp_path_factory.mktemp("readme")
    bindir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RINGSIGHT_")},
        "RINGSIGHT_DATA_DIR": str(data_dir),
        "RINGSIGHT_GRAPH_NAME": f"t_readme_{uuid.uuid4().hex[:8]}",
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        ["ringsight", "demo", "--no-serve"], cwd=work, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the README's second load: an export in the national platform's field names, with a bureau's profile
    shutil.copy(FIXTURES / "claims_national.xlsx", work / "医保结算.xlsx")
    (work / "chongqing.toml").write_text('name = "chongqing"\n', encoding="utf-8")
    yield {"env": env, "work": work}
    from ringsight.config import Settings
    from ringsight.graph import open_store

    with open_store(Settings(graph="embedded", data_dir=data_dir, graph_name=env["RINGSIGHT_GRAPH_NAME"])) as store:
        store.clear()


@pytest.mark.parametrize(("line", "block"), blocks(), ids=[f"README-line-{n}" for n, _ in blocks()])
def test_readme_block_runs_as_written(demo: dict, line: int, block: str) -> None:
    why = _why_not(block)
    if why:
        pytest.skip(f"README line {line}: {why}")
    script = "set -euo pipefail\n" + block
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=demo["work"],
        env=demo["env"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (
        f"README line {line}:\n{block}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    )
    assert "Traceback" not in done.stderr


def test_every_block_is_run_or_skipped_with_a_reason() -> None:
    found = blocks()
    assert len(found) >= 6
    skipped = [n for n, b in found if _why_not(b)]
    assert len(skipped) <= 3, skipped  # the server- and Docker/Neo4j-only blocks, nothing else
