"""``ringsight query …`` and ``ringsight cypher`` end to end, and the output formats."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from ringsight.cases import audit
from ringsight.cli import app
from ringsight.config import Settings, get_settings
from ringsight.cypher.output import cell_text, plain, to_frame, to_json
from ringsight.cypher.params import ParameterError
from ringsight.cypher.runner import WriteNotAllowed
from ringsight.errors import QueryError
from ringsight.graph.store import GraphStore, Node, QueryResult, Relationship

runner = CliRunner()


@pytest.fixture
def cli_graph(store: GraphStore, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[GraphStore]:
    """This test's graph, named in the environment so the CLI's settings find it."""
    monkeypatch.setenv("RINGSIGHT_GRAPH_NAME", settings.graph_name)
    monkeypatch.delenv("RINGSIGHT_QUERIES_DIR", raising=False)
    get_settings.cache_clear()
    store.write(
        "CREATE (k:Card {card_id: '6217-SHARED'}), (f:Facility {code: 'P1', name: '药房', kind: 'pharmacy'}) "
        "WITH k, f UNWIND [['p1', '张三', 'c1', 1704103200], ['p2', '李四', 'c2', 1704189600]] AS r "
        "CREATE (p:Patient {pid: r[0], name: r[1]})<-[:BY_PATIENT]-(c:Claim {claim_id: r[2], time_ts: r[3], "
        "time: '2024-01-01T18:00:00+08:00', total_amount: 12.5}) "
        "CREATE (c)-[:WITH_CARD]->(k), (c)-[:AT_FACILITY]->(f), (p)-[:HAS_CARD]->(k)"
    )
    yield store
    get_settings.cache_clear()


def test_query_list_and_show(cli_graph: GraphStore) -> None:
    listed = runner.invoke(app, ["query", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    assert "cards_shared_by_persons" in listed.output and "一卡多人使用" in listed.output
    only = runner.invoke(app, ["query", "list", "--tag", "planning"], env={"COLUMNS": "200"})
    assert "top_facilities_by_fund" in only.output and "cards_shared_by_persons" not in only.output
    shown = runner.invoke(app, ["query", "show", "random_inspection_sample"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "(required)" in shown.output and "fraction" in shown.output and "sha256" in shown.output
    assert "MATCH (f:Facility)" in shown.output


def test_query_run_formats(cli_graph: GraphStore, tmp_path: Path) -> None:
    as_csv = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["card"], r["persons"]) for r in rows] == [("6217-SHARED", "2")]
    assert sorted(json.loads(rows[0]["names"])) == ["p1", "p2"]  # pseudonyms: names are not in the graph
    assert "1 rows" in as_csv.stderr

    as_json = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-f", "json", "-p", "min_persons=2"])
    doc = json.loads(as_json.stdout)
    assert doc["truncated"] is False and doc["rows"][0]["card"] == "6217-SHARED" and doc["rows"][0]["amount"] == 25.0

    out = tmp_path / "out" / "cards.parquet"
    as_parquet = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-f", "parquet", "--out", str(out)])
    assert as_parquet.exit_code == 0, as_parquet.output
    frame = pl.read_parquet(out)
    assert frame["card"].to_list() == ["6217-SHARED"] and frame["persons"].dtype == pl.Int64
    assert sorted(frame["names"][0].to_list()) == ["p1", "p2"]

    table_file = tmp_path / "cards.txt"
    as_table = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "--out", str(table_file)])
    assert as_table.exit_code == 0 and "6217-SHARED" in table_file.read_text(encoding="utf-8")

    csv_file = tmp_path / "cards.csv"
    runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-f", "csv", "-o", str(csv_file)])
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese correctly


def test_query_run_errors(cli_graph: GraphStore) -> None:
    bad = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-p", "min_persons=many"])
    assert isinstance(bad.exception, ParameterError) and "'min_persons'" in bad.exception.message
    write = runner.invoke(app, ["query", "run", "tag_facility", "-p", "facility=P1", "-p", "tag=重点监控"])
    assert isinstance(write.exception, WriteNotAllowed)
    assert cli_graph.count_nodes("Annotation") == 0
    args = ["query", "run", "tag_facility", "-p", "facility=P1", "-p", "tag=重点监控"]
    allowed = runner.invoke(app, [*args, "--allow-write", "--user", "u1"])
    assert allowed.exit_code == 0, allowed.output
    assert cli_graph.count_nodes("Annotation") == 1 and cli_graph.count_nodes("AuditEntry") == 0
    assert [e["user"] for e in audit.list_entries(cli_graph, action="query.write")] == ["u1"]
    parquet = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-f", "parquet"])
    assert "--out" in (getattr(parquet.exception, "hint", "") or "")
    unknown = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "-f", "xml"])
    assert "Unknown output format" in str(unknown.exception)


def test_cypher_console_text_file_stdin_and_params(cli_graph: GraphStore, tmp_path: Path) -> None:
    text = "MATCH (p:Patient) WHERE p.name = $name RETURN p.pid AS pid"
    direct = runner.invoke(app, ["cypher", text, "-p", "name=张三", "-f", "csv"])
    assert direct.exit_code == 0, direct.output
    assert direct.stdout.splitlines() == ["pid", "p1"]
    file = tmp_path / "q.cypher"
    file.write_text("MATCH (c:Claim) WHERE c.time_ts >= $since RETURN c.claim_id AS id", encoding="utf-8")
    from_file = runner.invoke(app, ["cypher", "--file", str(file), "-p", "since:date=2024-01-02", "-f", "json"])
    assert [r["id"] for r in json.loads(from_file.stdout)["rows"]] == ["c2"]
    piped = runner.invoke(app, ["cypher", "-f", "csv"], input="MATCH (k:Card) RETURN k.card_id AS card")
    assert piped.stdout.splitlines() == ["card", "6217-SHARED"]
    nodes = runner.invoke(app, ["cypher", "MATCH (p:Patient {pid: 'p1'}) RETURN p"], env={"COLUMNS": "200"})
    assert "Patient p1 张三" in nodes.stdout


def test_cypher_console_refuses_writes(cli_graph: GraphStore) -> None:
    result = runner.invoke(app, ["cypher", "MATCH (p:Patient) SET p.name = 'x'"])
    assert isinstance(result.exception, QueryError) and "read-only" in result.exception.message
    assert cli_graph.read("MATCH (p:Patient {pid: 'p1'}) RETURN p.name").scalar() == "张三"


def test_cli_reads_are_audited_even_when_refused(cli_graph: GraphStore) -> None:
    """Every CLI read is on file before it runs, like the workbench console's: ad-hoc, named, and refused ones."""
    from ringsight.cypher.runner import os_user

    ok = runner.invoke(app, ["cypher", "MATCH (k:Card) RETURN k.card_id AS card", "-f", "csv"])
    assert ok.exit_code == 0, ok.output
    refused = runner.invoke(app, ["cypher", "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r"])
    assert refused.exit_code != 0
    named = runner.invoke(app, ["query", "run", "cards_shared_by_persons", "--format", "csv"])
    assert named.exit_code == 0, named.output
    entries = audit.list_entries(cli_graph, action="query.read")
    me = f"os:{os_user()}"
    assert {e["user"] for e in entries} == {me}
    texts = sorted(json.loads(e["after"])["cypher"] for e in entries if e["target"] == "CLI:adhoc")
    assert texts == ["LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r", "MATCH (k:Card) RETURN k.card_id AS card"]
    assert [json.loads(e["after"])["query"] for e in entries if e["target"].startswith("Query:")] == [
        "cards_shared_by_persons"
    ]
    assert audit.verify(cli_graph).ok


def test_row_cap_notice_on_stderr(cli_graph: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGSIGHT_QUERY__ROW_CAP", "3")
    get_settings.cache_clear()
    result = runner.invoke(app, ["cypher", "UNWIND range(1, 10) AS x RETURN x", "-f", "csv"])
    assert result.stdout.splitlines() == ["x", "1", "2", "3"]
    assert "row cap" in result.stderr


def test_errors_reach_the_user_as_one_paragraph(cli_graph: GraphStore, settings: Settings) -> None:
    """The real command: a refused write prints the explanation and exits 4, without a traceback."""
    env = {**os.environ, "RINGSIGHT_GRAPH_NAME": settings.graph_name, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "ringsight", "cypher", "CREATE (:Card {card_id: 'x'})"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 4
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert cli_graph.count_nodes("Card") == 1


# --- output conversions --------------------------------------------------------------------


def test_output_conversions_keep_records() -> None:
    node = Node("7", ("Facility",), {"code": "P1", "name": "药房"})
    rel = Relationship("9", "AT_FACILITY", "3", "7", {})
    result = QueryResult(["f", "r", "n", "xs", "m"], [[node, rel, 1.5, ["a", "b"], {"k": node}]], truncated=True)
    assert cell_text(node) == "Facility P1 药房" and cell_text(1234.5) == "1,234.50"
    assert plain(node) == {"id": "7", "labels": ["Facility"], "properties": {"code": "P1", "name": "药房"}}
    doc = to_json(result)
    assert doc["truncated"] is True and doc["rows"][0]["r"]["type"] == "AT_FACILITY"
    frame = to_frame(result)
    assert frame["n"].dtype == pl.Float64 and frame["xs"].to_list() == [["a", "b"]]
    assert json.loads(frame["f"][0])["properties"]["code"] == "P1"
    assert json.loads(frame["m"][0])["k"]["labels"] == ["Facility"]
