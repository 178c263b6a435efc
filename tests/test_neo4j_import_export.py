"""``ringsight export neo4j-import``: the CSVs follow the importer's format and describe the graph the loader builds.

No Neo4j is needed: the files are checked as the importer reads them (header
fields, id spaces, every relationship end present among the nodes, no id
twice), and against the graph the loader built from the same input.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from ringsight.config import Settings
from ringsight.errors import InputError
from ringsight.graph.model import NODE_TYPE_BY_LABEL, REL_TYPE_BY_NAME
from ringsight.graph.store import GraphStore
from ringsight.loaders import load_files
from ringsight.loaders.neo4j_import import export_neo4j_import

FIX = Path(__file__).parent / "fixtures" / "load"
ID = re.compile(r"^(?P<prop>\w+):ID\((?P<space>\w+)\)$")
TYPES = {"", "long", "double", "boolean", "string[]"}


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _nodes(directory: Path) -> dict[str, set[str]]:
    """Ids per id space, checking each node file's header on the way."""
    spaces: dict[str, set[str]] = {}
    for path in sorted((directory / "nodes").glob("*.csv")):
        header, rows = _read(path)
        ids = [i for i, h in enumerate(header) if ID.match(h)]
        assert len(ids) == 1, f"{path.name}: one :ID column, got {header}"
        match = ID.match(header[ids[0]])
        assert match is not None
        space, prop = match["space"], match["prop"]
        assert space == path.stem and prop == NODE_TYPE_BY_LABEL[space].key
        assert header[-1] == ":LABEL" and {r[-1] for r in rows} <= {space}
        for h in header:
            if h != header[ids[0]] and h != ":LABEL":
                assert ":" not in h or h.split(":", 1)[1] in TYPES, h
        values = [r[ids[0]] for r in rows]
        assert all(values), f"{path.name}: an empty id"
        twice = [v for v, n in Counter(values).items() if n > 1]
        assert not twice, f"{path.name}: ids twice {twice[:5]}"
        assert space not in spaces
        spaces[space] = set(values)
    return spaces


@pytest.fixture(params=[500_000, 2], ids=["one-bucket", "four-buckets"])
def loaded(request: pytest.FixtureRequest, store: GraphStore, settings: Settings) -> Settings:
    """The fixture files loaded; the export then spills claims in one bucket, or in four (two claims each)."""
    report = load_files([FIX / "claims_utf8.csv"], [FIX / "items_utf8.csv"], settings=settings, store=store)
    assert report.loaded == 6
    return settings.model_copy(update={"load": settings.load.model_copy(update={"bucket_claims": request.param})})


def test_export_is_valid_importer_input(loaded: Settings, store: GraphStore, tmp_path: Path) -> None:
    out = tmp_path / "import"
    files = export_neo4j_import(loaded, out)
    spaces = _nodes(out)
    relationships = 0
    for path in sorted((out / "relationships").glob("*.csv")):
        header, rows = _read(path)
        start, end = re.fullmatch(r":START_ID\((\w+)\)", header[0]), re.fullmatch(r":END_ID\((\w+)\)", header[1])
        assert start and end and header[2] == ":TYPE", header
        types = {r[2] for r in rows}
        assert len(types) == 1
        rel = REL_TYPE_BY_NAME[types.pop()]
        assert start[1] == rel.start or start[1] in rel.start
        assert end[1] == rel.end or end[1] in rel.end
        missing = [r for r in rows if r[0] not in spaces[start[1]] or r[1] not in spaces[end[1]]]
        assert not missing, f"{path.name}: ends not among the nodes {missing[:3]}"
        relationships += len(rows)
    # the same graph the loader built
    per_label = dict(store.read("MATCH (n) RETURN labels(n)[0] AS l, count(n) AS c").rows)
    assert {label: len(ids) for label, ids in spaces.items() if ids} == per_label
    assert relationships == store.count_relationships()
    assert files.node_rows == {label: len(ids) for label, ids in spaces.items()}


def test_typed_properties_round_trip(loaded: Settings, store: GraphStore, tmp_path: Path) -> None:
    out = tmp_path / "import"
    export_neo4j_import(loaded, out)
    claims = pl.read_csv(out / "nodes" / "Claim.csv", infer_schema=False)
    assert "claim_id:ID(Claim)" in claims.columns and "time_ts:long" in claims.columns
    assert "total_amount:double" in claims.columns and "item_codes:string[]" in claims.columns
    graph = store.read("MATCH (c:Claim) RETURN c.claim_id AS id, c.time_ts AS ts, c.item_codes AS codes").records()
    by_id = {r["claim_id:ID(Claim)"]: r for r in claims.iter_rows(named=True)}
    for row in graph:
        exported = by_id[row["id"]]
        assert int(exported["time_ts:long"]) == row["ts"]
        assert (exported["item_codes:string[]"] or "").split(";") == (row["codes"] or [""])


def test_the_command_names_every_file_in_5x_syntax(loaded: Settings, tmp_path: Path) -> None:
    out = tmp_path / "import"
    files = export_neo4j_import(loaded, out, database="claims2025")
    script = (out / "import.sh").read_text()
    assert "neo4j-admin database import full claims2025 \\" in script  # the database first (5.19+)
    for path in [*(out / "nodes").glob("*.csv"), *(out / "relationships").glob("*.csv")]:
        flag = "--nodes" if path.parent.name == "nodes" else "--relationships"
        assert f"{flag}={path.relative_to(out)}" in files.command
    assert "'--array-delimiter=;'" in files.command
    assert os.access(out / "import.sh", os.X_OK)
    done = subprocess.run(["sh", "-n", str(out / "import.sh")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_nothing_staged_is_explained(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Nothing is staged"):
        export_neo4j_import(settings, tmp_path / "out")
    assert not (tmp_path / "out" / "import.sh").exists()


def test_cli_writes_the_export(loaded: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "RINGSIGHT_DATA_DIR": str(loaded.data_dir), "RINGSIGHT_GRAPH_NAME": loaded.graph_name}
    env.pop("RINGSIGHT_GRAPH", None)
    done = subprocess.run(
        [sys.executable, "-m", "ringsight", "export", "neo4j-import", str(tmp_path / "x")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "neo4j-admin database import full neo4j" in done.stdout
    assert (tmp_path / "x" / "nodes" / "Patient.csv").exists()


def test_backfill_from_files_needs_no_graph(store: GraphStore, settings: Settings, tmp_path: Path) -> None:
    """Staged straight from the input files (no store touched: the configured Neo4j is unreachable), the export
    still describes exactly the graph a load of the same files builds."""
    data = tmp_path / "data"
    env = {
        **os.environ,
        "RINGSIGHT_DATA_DIR": str(data),
        "RINGSIGHT_GRAPH": "neo4j://neo4j:pw@127.0.0.1:1/neo4j",
        "RINGSIGHT_GRAPH_NAME": "backfill",
    }
    out = tmp_path / "import"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ringsight",
            "export",
            "neo4j-import",
            str(out),
            "--claims",
            str(FIX / "claims_utf8.csv"),
            "--items",
            str(FIX / "items_utf8.csv"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (data / "falkordb").exists()  # no embedded server was started either
    spaces = _nodes(out)
    load_files([FIX / "claims_utf8.csv"], [FIX / "items_utf8.csv"], settings=settings, store=store)
    per_label = dict(store.read("MATCH (n) RETURN labels(n)[0] AS l, count(n) AS c").rows)
    assert {label: len(ids) for label, ids in spaces.items()} == per_label
    rels = sum(len(_read(p)[1]) for p in (out / "relationships").glob("*.csv"))
    assert rels == store.count_relationships()
