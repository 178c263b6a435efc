"""Store behaviour on the real embedded FalkorDB server (and Neo4j when configured)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ringsight.config import Settings
from ringsight.errors import QueryError, StoreUnavailable
from ringsight.graph import open_store
from ringsight.graph.embedded import EmbeddedServer
from ringsight.graph.model import NODE_TYPES
from ringsight.graph.store import GraphStore, Node, Relationship
from ringsight.graph.store import Path as GPath

MERGE_ROWS = "UNWIND $rows AS row MERGE (p:Patient {pid: row.pid}) SET p.name = row.name"


def test_schema_is_idempotent(any_store: GraphStore) -> None:
    again = any_store.ensure_schema()
    assert again == []
    # the unique key of every label is in place: a duplicate MERGE stays one node
    any_store.write(MERGE_ROWS, {"rows": [{"pid": "a", "name": "x"}, {"pid": "a", "name": "y"}]})
    assert any_store.count_nodes("Patient") == 1
    assert len(NODE_TYPES) >= 10


def test_batched_write_lands_exactly_once(any_store: GraphStore) -> None:
    rows = [{"pid": f"p{i}", "name": f"n{i}"} for i in range(100_000)]
    seen: list[int] = []
    sent = any_store.write_rows(MERGE_ROWS, rows, batch_size=10_000, progress=seen.append)
    assert sent == 100_000
    assert seen == [10_000] * 10
    assert any_store.count_nodes("Patient") == 100_000
    any_store.write_rows(MERGE_ROWS, rows, batch_size=25_000)  # a rerun changes nothing
    assert any_store.count_nodes("Patient") == 100_000
    assert any_store.read("MATCH (p:Patient {pid: 'p99999'}) RETURN p.name").scalar() == "n99999"


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE (:Patient {pid: 'x'})",
        "MATCH (p:Patient) SET p.name = 'hacked'",
        "MATCH (p) DELETE p",
        "MERGE (:Card {card_id: 'c'})",
    ],
)
def test_read_refuses_writes_at_the_database(any_store: GraphStore, statement: str) -> None:
    any_store.write(MERGE_ROWS, {"rows": [{"pid": "p1", "name": "原名"}]})
    with pytest.raises(QueryError, match="read-only"):
        any_store.read(statement)
    assert any_store.count_nodes() == 1
    assert any_store.read("MATCH (p:Patient) RETURN p.name").scalar() == "原名"


def test_chinese_parameters_round_trip(any_store: GraphStore) -> None:
    name = "欧阳娜娜·测试 〇一二"
    address = "北京市朝阳区建国路1号院2号楼3单元401室"
    any_store.write("CREATE (:Address {key: $k, text: $t})", {"k": "k1", "t": address})
    any_store.write(MERGE_ROWS, {"rows": [{"pid": "p1", "name": name}]})
    assert any_store.read("MATCH (p:Patient {name: $n}) RETURN p.name", {"n": name}).scalar() == name
    assert (
        any_store.read("MATCH (a:Address) WHERE a.text CONTAINS $s RETURN a.text", {"s": "朝阳区"}).scalar() == address
    )


def test_results_are_plain_records(any_store: GraphStore) -> None:
    any_store.write("CREATE (p:Patient {pid: 'p1', name: '张三'})-[:HAS_CARD {since: 1}]->(c:Card {card_id: 'C1'})")
    row = any_store.read(
        "MATCH path = (p:Patient)-[r:HAS_CARD]->(c:Card) RETURN p, r, c, path, [p.name, c.card_id] AS pair"
    ).records()[0]
    p, r, c, path = row["p"], row["r"], row["c"], row["path"]
    assert isinstance(p, Node) and p.labels == ("Patient",) and p.properties["name"] == "张三"
    assert isinstance(r, Relationship) and r.type == "HAS_CARD" and (r.start, r.end) == (p.id, c.id)
    assert isinstance(path, GPath) and [n.label for n in path.nodes] == ["Patient", "Card"]
    assert row["pair"] == ["张三", "C1"]


def test_row_cap_truncates_and_says_so(any_store: GraphStore) -> None:
    any_store.write_rows(MERGE_ROWS, [{"pid": f"p{i}", "name": "n"} for i in range(30)])
    result = any_store.read("MATCH (p:Patient) RETURN p.pid", row_cap=10)
    assert len(result.rows) == 10 and result.truncated
    assert not any_store.read("MATCH (p:Patient) RETURN p.pid", row_cap=30).truncated


def test_write_reports_counters(store: GraphStore) -> None:
    result = store.write("CREATE (:Card {card_id: 'a'}), (:Card {card_id: 'b'})")
    assert result.stats["nodes_created"] == 2


# --- the embedded server's life cycle ------------------------------------------------


def _python(code: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "RINGSIGHT_DATA_DIR": str(data_dir), "RINGSIGHT_GRAPH": "embedded"}


@pytest.fixture
def own_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server of this test's own, in its own directory (the test may kill it)."""
    server = EmbeddedServer(tmp_path / "data")
    yield server
    server.stop()
    pid = server.pid()
    if pid:
        os.kill(pid, signal.SIGKILL)


def test_data_survives_kill_9_of_the_server(own_server: EmbeddedServer) -> None:
    settings = Settings(data_dir=own_server.directory.parent, graph_name="g")
    with open_store(settings) as graph:
        graph.ensure_schema()
        graph.write_rows(MERGE_ROWS, [{"pid": f"p{i}", "name": "名"} for i in range(5_000)])
    time.sleep(1.5)  # appendfsync everysec: let the last second reach the disk
    pid = own_server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    assert not own_server.ping()
    with open_store(settings) as graph:  # restarts the server over the stale socket / pid file
        assert graph.count_nodes("Patient") == 5_000
    assert own_server.pid() != pid


def test_server_outlives_a_killed_ringsight_process(own_server: EmbeddedServer) -> None:
    env = _env(own_server.directory.parent)
    child = _python(
        """
        import time
        from ringsight.graph import open_store
        s = open_store()
        s.write("CREATE (:Card {card_id: 'kept'})")
        print('written', flush=True)
        time.sleep(60)
        """,
        env,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert own_server.ping()
    with open_store(Settings(data_dir=own_server.directory.parent)) as graph:
        assert graph.count_nodes("Card") == 1


def test_two_processes_share_one_server(own_server: EmbeddedServer) -> None:
    env = _env(own_server.directory.parent)
    code = """
        from ringsight.graph import embedded_server
        s = embedded_server()
        s.ensure_running()
        print(s.pid())
        """
    children = [_python(code, env) for _ in range(2)]
    pids = {c.communicate(timeout=120)[0].strip() for c in children}
    assert len(pids) == 1 and pids.pop() == str(own_server.pid())
    assert own_server.ping()


def test_stale_pid_and_socket_files_are_recovered(own_server: EmbeddedServer) -> None:
    own_server.directory.mkdir(parents=True)
    own_server.pid_file.write_text("999999\n")
    own_server.socket.write_text("not a socket")
    own_server.ensure_running()
    assert own_server.ping()
    assert own_server.pid() != 999999


def test_unwritable_data_dir_is_explained(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreUnavailable, match="cannot write to its data directory") as info:
        EmbeddedServer(blocker / "data").ensure_running()
    assert "RINGSIGHT_DATA_DIR" in (info.value.hint or "")


def test_corrupt_append_only_file_is_explained_and_repairable(own_server: EmbeddedServer) -> None:
    settings = Settings(data_dir=own_server.directory.parent, graph_name="g")
    with open_store(settings) as graph:
        graph.write_rows(MERGE_ROWS, [{"pid": f"p{i}", "name": "n"} for i in range(100)])
    own_server.stop()
    incr = next((own_server.directory / "appendonlydir").glob("*.incr.aof"))
    with incr.open("ab") as handle:
        handle.write(b"*2\r\n$4\r\nPING\r\nthis is not redis protocol\r\n*1\r\n$4\r\nPING\r\n")
    own_server.start_timeout_s = 20
    with pytest.raises(StoreUnavailable, match="damaged"):
        own_server.ensure_running()
    report = own_server.repair()
    assert "backup" in report
    own_server.ensure_running()
    with open_store(settings) as graph:
        assert graph.count_nodes("Patient") == 100


def test_cli_explains_unreachable_neo4j_without_traceback(data_dir: Path) -> None:
    env = {**os.environ, "RINGSIGHT_GRAPH": "neo4j://neo4j:s3cret-pw@127.0.0.1:1/neo4j"}
    done = subprocess.run(
        [sys.executable, "-m", "ringsight", "store", "status"], env=env, capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert done.returncode == 3
    assert "Cannot reach Neo4j" in output
    assert "Traceback" not in output
    assert "s3cret-pw" not in output


def test_restart_after_a_large_write_loads_a_snapshot(own_server: EmbeddedServer) -> None:
    """A graceful stop compacts the append-only file, so a restart does not replay 100k MERGEs."""
    settings = Settings(data_dir=own_server.directory.parent, graph_name="g")
    with open_store(settings) as graph:
        graph.ensure_schema()
        graph.write_rows(MERGE_ROWS, [{"pid": f"p{i}", "name": "n"} for i in range(100_000)], batch_size=10_000)
    own_server.stop()
    incr = next((own_server.directory / "appendonlydir").glob("*.incr.aof"))
    assert incr.stat().st_size < 1_000_000  # the writes live in the RDB base, not in the replay tail
    own_server.start_timeout_s = 120
    with open_store(settings) as graph:
        assert graph.count_nodes("Patient") == 100_000
